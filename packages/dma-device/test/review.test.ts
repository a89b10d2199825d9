// Fixes from review, each against Linux 6.12: include/linux/dma-direct.h dma_capable, include/linux/dma-mapping.h
// dma_get_mask / dma_coerce_mask_and_coherent, kernel/dma/swiotlb.c (swiotlb_bounce, swiotlb_map,
// swiotlb_init_remap, setup_io_tlb_npages), kernel/dma/debug.c debug_dma_free_coherent.
import { KernelError } from "@kbridge/uapi";
import { GFP_KERNEL, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
  dma_alloc_coherent,
  dma_capable,
  dma_coerce_mask_and_coherent,
  dma_debug_stats,
  dma_free_coherent,
  dma_get_mask,
  dma_map_single,
  dma_mapping_error,
  dma_sync_single_for_cpu,
  dma_unmap_single,
  swiotlb_init,
  swiotlb_stats,
} from "../src/index.js";

const highMachine = () =>
  new Vmm({
    ranges: [
      { start: 0, size: 16 << 20 },
      { start: 2 ** 32, size: 16 << 20 },
    ],
  });

describe("dma_capable: dma_addr_t end = addr + size - 1", () => {
  it("a 0-byte buffer ends one byte before it (wrapping at 0), and DMA_MAPPING_ERROR is never capable", () => {
    const dev = new Device(new Vmm({ ram: 32 << 20 }), "0000:00:04.0");
    expect(dma_capable(dev, DMA_BIT_MASK(32) + 1n, 0)).toBe(true);
    expect(dma_capable(dev, 0n, 0)).toBe(false);
    expect(dma_capable(dev, 0n, 1)).toBe(true);
    expect(dma_set64(dev)).toBe(0);
    expect(dma_capable(dev, DMA_MAPPING_ERROR, 1)).toBe(false);
    expect(() => dma_capable(dev, -1n, 1)).toThrow(KernelError);
    expect(() => dma_capable(dev, 0n, -1)).toThrow(KernelError);
  });
});

function dma_set64(dev: Device): number {
  return dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
}

describe("masks", () => {
  it("dma_get_mask is DMA_BIT_MASK(32) while *dev->dma_mask is 0", () => {
    const root = new Device(new Vmm({ ram: 32 << 20 }), "bare", "root");
    expect(dma_coerce_mask_and_coherent(root, DMA_BIT_MASK(8))).toBe(-5); // dma_mask now points at coherent: 0
    expect(root.dma_mask).toBe(0n);
    expect(dma_get_mask(root)).toBe(DMA_BIT_MASK(32));
  });

  it("dma_coerce_mask_and_coherent with a bad mask throws before the pointer moves", () => {
    const root = new Device(new Vmm({ ram: 32 << 20 }), "bare", "root");
    expect(() => dma_coerce_mask_and_coherent(root, "x" as unknown as bigint)).toThrow(KernelError);
    expect(root.dma_mask).toBeUndefined();
  });
});

describe("swiotlb", () => {
  it("a sync of part of a mapping at an offset inside a slot bounces the bytes at that offset", () => {
    const vmm = highMachine();
    const dev = new Device(vmm, "0000:00:04.0");
    const k = vmm.kmem.kmalloc(4096);
    const a = dma_map_single(dev, k, 4096, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, a)).toBe(0);
    expect(a < 2n ** 32n).toBe(true);
    vmm.phys.view(Number(a) + 100, 4).set([1, 2, 3, 4]); // the device writes the slot
    dma_sync_single_for_cpu(dev, a + 100n, 4, DMA_FROM_DEVICE);
    expect([...vmm.kmem.view(k + 100n, 4)]).toEqual([1, 2, 3, 4]);
    expect([...vmm.kmem.view(k, 4)]).toEqual([0, 0, 0, 0]);
    dma_unmap_single(dev, a, 4096, DMA_FROM_DEVICE);
  });

  it("'Buffer overflow detected' is a dev_WARN_ONCE", () => {
    const vmm = highMachine();
    const dev = new Device(vmm, "0000:00:04.0");
    const k = vmm.kmem.kmalloc(8192);
    const a = dma_map_single(dev, k, 2048, DMA_FROM_DEVICE);
    dma_sync_single_for_cpu(dev, a, 4096, DMA_FROM_DEVICE);
    dma_sync_single_for_cpu(dev, a, 4096, DMA_FROM_DEVICE);
    expect(vmm.dmesg().filter((l) => l.includes("Buffer overflow detected"))).toEqual([
      "WARNING: kernel/dma/swiotlb.c swiotlb_bounce: 0000:00:04.0: Buffer overflow detected. Allocation size: 2048. Mapping size: 4096.",
    ]);
  });

  it("a slot beyond bus_dma_limit is given back and WARNs once (dma_capable in swiotlb_map)", () => {
    const vmm = highMachine();
    const dev = new Device(vmm, "0000:00:04.0");
    dev.bus_dma_limit = 0xfffn;
    const k = vmm.kmem.kmalloc(256);
    expect(dma_map_single(dev, k, 256, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dma_map_single(dev, k, 256, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(swiotlb_stats(vmm).used).toBe(0);
    const warns = vmm.dmesg().filter((l) => l.includes("swiotlb addr"));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatch(
      /^WARNING: kernel\/dma\/swiotlb\.c swiotlb_map: 0000:00:04\.0: swiotlb addr 0x[0-9a-f]{16}\+256 overflow \(mask ffffffff, bus limit fff\)\.$/,
    );
  });

  it("swiotlb_init rounds the size up to whole segments and tries a pool smaller than 1 MiB", () => {
    const vmm = new Vmm({ ram: 64 << 20 });
    expect(swiotlb_init(vmm, { size: 300000 }).nslabs).toBe(256); // ALIGN(147, IO_TLB_SEGSIZE)
    expect(swiotlb_init(new Vmm({ ram: 64 << 20 }), { size: 256 << 10 }).nslabs).toBe(128);
    expect(() => swiotlb_init(new Vmm({ ram: 64 << 20 }), { force: 1 as unknown as boolean })).toThrow(
      KernelError,
    );
  });
});

describe("debug_dma_free_coherent", () => {
  it("a cpu_addr outside the linear map is not checked", () => {
    const vmm = new Vmm({ ram: 32 << 20 });
    const dev = new Device(vmm, "0000:00:04.0", "pci", { driver: "edu" });
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    dma_free_coherent(dev, 4096, 0x1234n, c.dma_handle);
    expect(vmm.dmesg()).toEqual([]);
    expect(dma_debug_stats(vmm).errorCount).toBe(0);
  });
});
