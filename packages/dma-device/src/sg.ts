// Scatter-gather mappings with dma-direct: kernel/dma/direct.c dma_direct_map_sg / dma_direct_unmap_sg,
// kernel/dma/mapping.c dma_map_sg_attrs (0 on error) / dma_map_sgtable (a negative errno) / dma_unmap_sg_attrs, and
// dma-debug's sg checks (kernel/dma/debug.c debug_dma_map_sg, debug_dma_unmap_sg). dma-direct maps each entry on its
// own: entries are merged only behind an IOMMU (iommu_dma_map_sg), so with dma-direct the count mapped is nents.

import { KernelError } from "@kbridge/uapi";
import { debugAdd, debugCheckUnmap } from "./debug.js";
import { Device } from "./device.js";
import { DMA_MAPPING_ERROR, type DmaAddr } from "./direct.js";
import { DMA_ATTR_SKIP_CPU_SYNC, type DmaDirection, mapUntracked, unmapUntracked } from "./mapping.js";

/** One `struct scatterlist` entry: a piece of a frame, and where the mapping put it. */
export interface ScatterList {
  /** `sg_page()`: the frame. */
  readonly pfn: number;
  /** `sg->offset`. */
  readonly offset: number;
  /** `sg->length`. */
  readonly length: number;
  /** `sg_dma_address()`, set by dma_map_sg. */
  dma_address?: DmaAddr;
  /** `sg_dma_len()`, set by dma_map_sg. */
  dma_length?: number;
}

function checkSg(op: string, dev: unknown, sgl: unknown, nents: unknown): ScatterList[] {
  if (!(dev instanceof Device)) throw new KernelError("EINVAL", `${String(dev)} is not a Device`, { op });
  if (!Array.isArray(sgl)) throw new KernelError("EINVAL", "the scatterlist is not an array", { op });
  if (typeof nents !== "number" || !Number.isSafeInteger(nents) || nents < 0 || nents > sgl.length)
    throw new KernelError("EINVAL", `nents ${String(nents)} is not 0..${sgl.length}`, { op });
  return sgl as ScatterList[];
}

/**
 * `dma_map_sg(dev, sg, nents, dir)`: maps each entry (bouncing where needed) and returns the number of DMA segments,
 * `nents` with dma-direct; 0 when one entry cannot be mapped (the ones before it are unmapped again, without a sync).
 * @throws {@link @kbridge/vmm!KernelOops} for a bad direction; {@link @kbridge/uapi!KernelError} EINVAL for bad
 * arguments
 */
export function dma_map_sg(
  dev: Device,
  sgl: ScatterList[],
  nents: number,
  dir: DmaDirection,
  attrs = 0,
): number {
  const list = checkSg("dma_map_sg", dev, sgl, nents);
  for (let i = 0; i < nents; i++) {
    const sg = list[i]!;
    const addr = mapUntracked(dev, sg.pfn, sg.offset, sg.length, dir, attrs);
    if (addr === DMA_MAPPING_ERROR) {
      for (let j = 0; j < i; j++)
        unmapUntracked(dev, list[j]!.dma_address!, list[j]!.length, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      return 0;
    }
    sg.dma_address = addr;
    sg.dma_length = sg.length;
  }
  // debug_dma_map_sg(): one entry per segment, remembering how many the call had.
  for (let i = 0; i < nents; i++) {
    const sg = list[i]!;
    debugAdd(
      {
        dev,
        type: "scatter-gather",
        dev_addr: sg.dma_address!,
        size: sg.dma_length!,
        direction: dir,
        paddr: sg.pfn * 4096 + sg.offset,
        mapErr: "not-applicable",
        sgCallEnts: nents,
      },
      attrs,
    );
  }
  return nents;
}

/**
 * `dma_unmap_sg(dev, sg, nents, dir)`: `nents` must be the count passed to dma_map_sg (not the one it returned);
 * each segment is unmapped (bounced ones copied back for DMA_FROM_DEVICE/BIDIRECTIONAL).
 */
export function dma_unmap_sg(
  dev: Device,
  sgl: ScatterList[],
  nents: number,
  dir: DmaDirection,
  attrs = 0,
): void {
  const list = checkSg("dma_unmap_sg", dev, sgl, nents);
  for (let i = 0; i < nents; i++) {
    const sg = list[i]!;
    if (sg.dma_address === undefined) continue;
    unmapUntracked(dev, sg.dma_address, sg.dma_length ?? sg.length, dir, attrs);
    debugCheckUnmap(
      dev,
      {
        type: "scatter-gather",
        dev_addr: sg.dma_address,
        size: sg.dma_length ?? sg.length,
        direction: dir,
        sgCallEnts: nents,
      },
      DMA_MAPPING_ERROR,
    );
  }
}

/**
 * `dma_get_sgtable(dev, sgt, cpu_addr, dma_addr, size)` (dma_direct_get_sgtable): describes a coherent allocation as a
 * one-entry scatter table — the frame of `dma_addr` with length PAGE_ALIGN(size) — appended to `sgt`; 0.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for bad arguments
 */
export function dma_get_sgtable(
  dev: Device,
  sgt: ScatterList[],
  cpu_addr: bigint,
  dma_addr: DmaAddr,
  size: number,
): 0 {
  const op = "dma_get_sgtable";
  checkSg(op, dev, sgt, 0);
  if (
    typeof cpu_addr !== "bigint" ||
    typeof dma_addr !== "bigint" ||
    dma_addr < 0n ||
    dma_addr % 4096n !== 0n
  )
    throw new KernelError(
      "EINVAL",
      `cpu_addr / dma_addr ${String(dma_addr)} do not name a coherent allocation`,
      { op },
    );
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new KernelError("EINVAL", `size ${String(size)} is not a positive byte count`, { op });
  sgt.push({ pfn: Number(dma_addr / 4096n), offset: 0, length: Math.ceil(size / 4096) * 4096 });
  return 0;
}
