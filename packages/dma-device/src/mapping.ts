// Streaming DMA with dma-direct on x86-64: include/linux/dma-mapping.h and kernel/dma/mapping.c (dma_map_page_attrs,
// dma_unmap_page_attrs, dma_sync_single_for_cpu/for_device, dma_mapping_error), kernel/dma/direct.h
// (dma_direct_map_page, dma_direct_unmap_page, the syncs), include/linux/dma-direct.h (dma_capable), with the
// swiotlb bounce of kernel/dma/swiotlb.c when the buffer is beyond the device's mask.

import { KernelError } from "@kbridge/uapi";
import { KernelOops } from "@kbridge/vmm";
import { archRelease, archSyncForCpu, archSyncForDevice } from "./cache.js";
import { debugAdd, debugCheckSync, debugCheckUnmap, debugMappingError } from "./debug.js";
import { Device } from "./device.js";
import { DMA_MAPPING_ERROR, type DmaAddr, warnOnce } from "./direct.js";
import { swiotlbFor } from "./swiotlb.js";

/** `DMA_BIDIRECTIONAL` (0). */
export const DMA_BIDIRECTIONAL = 0;
/** `DMA_TO_DEVICE` (1): the device reads the buffer. */
export const DMA_TO_DEVICE = 1;
/** `DMA_FROM_DEVICE` (2): the device writes the buffer. */
export const DMA_FROM_DEVICE = 2;
/** `DMA_NONE` (3): not a direction a mapping may have. */
export const DMA_NONE = 3;

/** `enum dma_data_direction`. */
export type DmaDirection = 0 | 1 | 2 | 3;

/** `DMA_ATTR_WEAK_ORDERING` (accepted; x86 orders DMA strongly anyway). */
export const DMA_ATTR_WEAK_ORDERING = 1 << 1;
/** `DMA_ATTR_WRITE_COMBINE` (accepted; the model has no write-combining). */
export const DMA_ATTR_WRITE_COMBINE = 1 << 2;
/** `DMA_ATTR_NO_KERNEL_MAPPING` (accepted; dma-direct on x86 maps the buffer anyway). */
export const DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4;
/** `DMA_ATTR_SKIP_CPU_SYNC`: map or unmap without the CPU-side sync (no bounce copy back, no cache maintenance). */
export const DMA_ATTR_SKIP_CPU_SYNC = 1 << 5;
/** `DMA_ATTR_FORCE_CONTIGUOUS` (accepted; dma-direct allocations are contiguous). */
export const DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6;
/** `DMA_ATTR_ALLOC_SINGLE_PAGES` (accepted). */
export const DMA_ATTR_ALLOC_SINGLE_PAGES = 1 << 7;
/** `DMA_ATTR_NO_WARN`: no "swiotlb buffer is full" message when a bounce fails. */
export const DMA_ATTR_NO_WARN = 1 << 8;
/** `DMA_ATTR_PRIVILEGED` (accepted). */
export const DMA_ATTR_PRIVILEGED = 1 << 9;

function checkDev(op: string, dev: unknown): Device {
  if (!(dev instanceof Device)) throw new KernelError("EINVAL", `${String(dev)} is not a Device`, { op });
  return dev;
}

// valid_dma_direction(): anything but BIDIRECTIONAL, TO_DEVICE and FROM_DEVICE is BUG_ON.
function checkDir(op: string, dir: unknown): DmaDirection {
  if (dir === DMA_BIDIRECTIONAL || dir === DMA_TO_DEVICE || dir === DMA_FROM_DEVICE) return dir;
  throw new KernelOops(
    `kernel BUG at kernel/dma/mapping.c: ${op}: BUG_ON(!valid_dma_direction(${String(dir)}))`,
    op,
  );
}

function checkSize(op: string, size: unknown): number {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
    throw new KernelError("EINVAL", `size ${String(size)} is not a byte count`, { op });
  return size;
}

const minNotZero = (a: bigint, b: bigint): bigint => (a === 0n ? b : b === 0n ? a : a < b ? a : b);

/**
 * `dma_capable(dev, addr, size, is_ram)`: the device can reach `[addr, addr + size)` under
 * `min_not_zero(*dev->dma_mask, dev->bus_dma_limit)`.
 */
export function dma_capable(dev: Device, addr: DmaAddr, size: number): boolean {
  const op = "dma_capable";
  checkDev(op, dev);
  checkSize(op, size);
  if (typeof addr !== "bigint" || addr < 0n || addr > DMA_MAPPING_ERROR)
    throw new KernelError("EINVAL", `bus address ${String(addr)} is not a dma_addr_t`, { op });
  const mask = dev.dma_mask;
  if (mask === undefined || addr === DMA_MAPPING_ERROR) return false;
  // dma_addr_t end = addr + size - 1: 64-bit arithmetic, so a 0-byte buffer at bus address 0 ends at ~0.
  const end = BigInt.asUintN(64, addr + BigInt(size) - 1n);
  return end <= minNotZero(mask, dev.bus_dma_limit);
}

/**
 * `dma_map_page(dev, page, offset, size, dir)`: the bus address the device uses for `size` bytes at `offset` into
 * frame `pfn`, or `DMA_MAPPING_ERROR`. A buffer the device cannot reach is bounced through swiotlb (the bytes are
 * copied to a slot below the mask, for every direction); a device without a `dma_mask` gets a WARN and
 * DMA_MAPPING_ERROR.
 * @throws {@link @kbridge/vmm!KernelOops} for DMA_NONE or another bad direction (BUG_ON);
 * {@link @kbridge/uapi!KernelError} EINVAL for bad arguments
 */
export function dma_map_page(
  dev: Device,
  pfn: number,
  offset: number,
  size: number,
  dir: DmaDirection,
  attrs = 0,
): DmaAddr {
  const addr = mapUntracked(dev, pfn, offset, size, dir, attrs);
  // debug_dma_map_page(): a mapping that worked is recorded, its map error unchecked until dma_mapping_error().
  if (addr !== DMA_MAPPING_ERROR)
    debugAdd(
      {
        dev,
        type: "single",
        dev_addr: addr,
        size,
        direction: dir,
        paddr: pfn * 4096 + offset,
        mapErr: "not-checked",
      },
      attrs,
    );
  return addr;
}

/** dma_map_page without dma-debug's record (for dma_map_sg, which records its own). @internal */
export function mapUntracked(
  dev: Device,
  pfn: number,
  offset: number,
  size: number,
  dir: DmaDirection,
  attrs: number,
): DmaAddr {
  const op = "dma_map_page";
  checkDev(op, dev);
  checkDir(op, dir);
  checkSize(op, size);
  if (!Number.isSafeInteger(pfn) || pfn < 0 || !Number.isSafeInteger(offset) || offset < 0)
    throw new KernelError("EINVAL", `page ${String(pfn)} / offset ${String(offset)} are not valid`, { op });
  const phys = pfn * 4096 + offset;
  // The buffer must be RAM of this machine.
  dev.vmm.phys.view(phys, size);
  if (dev.dma_mask === undefined) {
    warnOnce(dev, "kernel/dma/mapping.c dma_map_page_attrs", `${dev.name}: WARN_ON_ONCE(!dev->dma_mask)`);
    return DMA_MAPPING_ERROR;
  }
  const addr = BigInt(phys);
  const pool = swiotlbFor(dev.vmm);
  // dma_direct_map_page(): bounce when forced or when the device cannot reach the buffer.
  let bus: DmaAddr;
  if (pool?.force !== true && dma_capable(dev, addr, size)) bus = addr;
  else if (pool !== null) {
    bus = pool.map(dev, phys, size, dir, attrs);
    if (bus === DMA_MAPPING_ERROR) return bus;
  } else bus = -1n;
  if (bus >= 0n) {
    // A non-coherent device: the CPU's cache lines of the buffer (or of the bounce slot) are written back.
    if (!dev.dma_coherent && (attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0)
      archSyncForDevice(dev.vmm, Number(bus), size);
    return bus;
  }
  warnOnce(
    dev,
    "kernel/dma/direct.h dma_direct_map_page",
    `${dev.name}: DMA addr 0x${addr.toString(16).padStart(16, "0")}+${size} overflow (mask ${dev.dma_mask.toString(16)}, bus limit ${dev.bus_dma_limit.toString(16)}).`,
  );
  return DMA_MAPPING_ERROR;
}

/**
 * `dma_map_single(dev, ptr, size, dir)`: dma_map_page of the frame and offset of kernel pointer `cpu_addr` (a
 * direct-map address, e.g. from kmalloc).
 * @throws as {@link dma_map_page}; EINVAL for a pointer outside the direct map
 */
export function dma_map_single(
  dev: Device,
  cpu_addr: bigint,
  size: number,
  dir: DmaDirection,
  attrs = 0,
): DmaAddr {
  const op = "dma_map_single";
  checkDev(op, dev);
  const phys = dev.vmm.kmem.__pa(cpu_addr);
  return dma_map_page(dev, Math.floor(phys / 4096), phys % 4096, size, dir, attrs);
}

/** `dma_mapping_error(dev, addr)`: -ENOMEM (-12) for DMA_MAPPING_ERROR, else 0. */
export function dma_mapping_error(dev: Device, addr: DmaAddr): 0 | -12 {
  checkDev("dma_mapping_error", dev);
  debugMappingError(dev, addr);
  return addr === DMA_MAPPING_ERROR ? -12 : 0;
}

/**
 * `dma_unmap_page(dev, addr, size, dir)` / `dma_unmap_single`: ends a streaming mapping. A bounced mapping copies the
 * slot back to the buffer for DMA_FROM_DEVICE and DMA_BIDIRECTIONAL and frees the slot.
 * @throws {@link @kbridge/vmm!KernelOops} for a bad direction
 */
export function dma_unmap_page(dev: Device, addr: DmaAddr, size: number, dir: DmaDirection, attrs = 0): void {
  unmapUntracked(dev, addr, size, dir, attrs);
  debugCheckUnmap(dev, { type: "single", dev_addr: addr, size, direction: dir }, DMA_MAPPING_ERROR);
}

/** dma_unmap_page without dma-debug's check. @internal */
export function unmapUntracked(
  dev: Device,
  addr: DmaAddr,
  size: number,
  dir: DmaDirection,
  attrs: number,
): void {
  const op = "dma_unmap_page";
  checkDev(op, dev);
  checkDir(op, dir);
  checkSize(op, size);
  // dma_direct_unmap_page(): the sync for the CPU (caches, then the bounce copy) unless SKIP_CPU_SYNC.
  if (!dev.dma_coherent && (attrs & DMA_ATTR_SKIP_CPU_SYNC) === 0)
    archSyncForCpu(dev.vmm, Number(addr), size, dir);
  const tlb = swiotlbFor(dev.vmm);
  if (tlb?.owns(addr)) tlb.unmap(dev, addr, size, dir, attrs);
  if (!dev.dma_coherent) archRelease(dev.vmm, Number(addr));
}

/** `dma_unmap_single()`: the same as {@link dma_unmap_page}. */
export const dma_unmap_single: typeof dma_unmap_page = (dev, addr, size, dir, attrs = 0) =>
  dma_unmap_page(dev, addr, size, dir, attrs);

/**
 * `dma_sync_single_for_cpu(dev, addr, size, dir)`: the CPU takes the buffer back; a bounced mapping copies the slot to
 * the buffer for DMA_FROM_DEVICE and DMA_BIDIRECTIONAL.
 */
export function dma_sync_single_for_cpu(dev: Device, addr: DmaAddr, size: number, dir: DmaDirection): void {
  const op = "dma_sync_single_for_cpu";
  checkDev(op, dev);
  checkDir(op, dir);
  checkSize(op, size);
  // dma_direct_sync_single_for_cpu(): invalidate the caches, then the bounce copy.
  if (!dev.dma_coherent) archSyncForCpu(dev.vmm, Number(addr), size, dir);
  const tlb = swiotlbFor(dev.vmm);
  if (tlb?.owns(addr)) tlb.sync(dev, addr, size, dir, "cpu");
  debugCheckSync(dev, addr, size, dir, true);
}

/**
 * `dma_sync_single_for_device(dev, addr, size, dir)`: the device gets the buffer; a bounced mapping copies the buffer
 * to the slot for DMA_TO_DEVICE and DMA_BIDIRECTIONAL.
 */
export function dma_sync_single_for_device(
  dev: Device,
  addr: DmaAddr,
  size: number,
  dir: DmaDirection,
): void {
  const op = "dma_sync_single_for_device";
  checkDev(op, dev);
  checkDir(op, dir);
  checkSize(op, size);
  // dma_direct_sync_single_for_device(): the bounce copy, then write the caches back.
  const tlb = swiotlbFor(dev.vmm);
  if (tlb?.owns(addr)) tlb.sync(dev, addr, size, dir, "device");
  if (!dev.dma_coherent) archSyncForDevice(dev.vmm, Number(addr), size);
  debugCheckSync(dev, addr, size, dir, false);
}
