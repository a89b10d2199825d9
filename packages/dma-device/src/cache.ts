// The CPU caches as a non-coherent device sees them (arch/arm64/mm/dma-mapping.c arch_sync_dma_for_device /
// arch_sync_dma_for_cpu; kernel/dma/direct.h calls them around the swiotlb copies). On x86-64 every device is
// coherent and these are no-ops; a device created with `coherent: false` gets the behaviour of such an architecture:
// the memory the device reads and writes is apart from what the CPU sees until the driver syncs.

import type { Vmm } from "@kbridge/vmm";

// Per machine: the physical ranges a non-coherent device owns, with the bytes in memory (what the device sees).
// The CPU's view, cache included, is the RAM of the model.
interface Region {
  start: number;
  bytes: Uint8Array;
}

const regions = new WeakMap<Vmm, Region[]>();

function list(vmm: Vmm): Region[] {
  let l = regions.get(vmm);
  if (l === undefined) {
    l = [];
    regions.set(vmm, l);
  }
  return l;
}

function find(vmm: Vmm, phys: number, size: number): Region | undefined {
  return list(vmm).find((r) => r.start <= phys && phys + size <= r.start + r.bytes.length);
}

/**
 * arch_sync_dma_for_device(): clean (write back) the CPU's cache lines of the range to memory, for every direction;
 * from now on the device sees those bytes. The first call for a range makes the device-side copy.
 * @internal
 */
export function archSyncForDevice(vmm: Vmm, phys: number, size: number): void {
  const cpu = vmm.phys.view(phys, size);
  const r = find(vmm, phys, size);
  if (r === undefined) list(vmm).push({ start: phys, bytes: cpu.slice() });
  else r.bytes.set(cpu, phys - r.start);
}

/**
 * arch_sync_dma_for_cpu(): invalidate the CPU's cache lines of the range, so that it reads what the device wrote
 * (nothing to do for DMA_TO_DEVICE).
 * @internal
 */
export function archSyncForCpu(vmm: Vmm, phys: number, size: number, dir: number): void {
  if (dir === 1) return;
  const r = find(vmm, phys, size);
  if (r !== undefined) vmm.phys.view(phys, size).set(r.bytes.subarray(phys - r.start, phys - r.start + size));
}

/** The mapping is gone: the device no longer owns the range. @internal */
export function archRelease(vmm: Vmm, phys: number): void {
  const l = list(vmm);
  const i = l.findIndex((r) => r.start === phys);
  if (i >= 0) l.splice(i, 1);
}

/** The device's view of `[phys, phys + size)`: its own copy where it owns the range, else RAM. @internal */
export function deviceView(vmm: Vmm, phys: number, size: number): Uint8Array {
  const r = find(vmm, phys, size);
  return r === undefined
    ? vmm.phys.view(phys, size)
    : r.bytes.subarray(phys - r.start, phys - r.start + size);
}
