// Coherent DMA memory with dma-direct (no IOMMU, x86-64): kernel/dma/mapping.c dma_alloc_attrs / dma_free_attrs /
// dma_mmap_attrs, kernel/dma/direct.c dma_direct_alloc / __dma_direct_alloc_pages (the zone ladder) /
// dma_coherent_ok / dma_direct_mmap.

import { KernelError } from "@kbridge/uapi";
import { __GFP_COMP, __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, type Vma } from "@kbridge/vmm";
import { debugAdd, debugCheckUnmap } from "./debug.js";
import { Device, DMA_BIT_MASK, ZONE_DMA_LIMIT } from "./device.js";

/** `dma_addr_t`: a bus address as the device sees it (the physical address with dma-direct on x86-64). */
export type DmaAddr = bigint;

/** `DMA_MAPPING_ERROR`: `~(dma_addr_t)0`. */
export const DMA_MAPPING_ERROR: DmaAddr = (1n << 64n) - 1n;

/** A coherent allocation: the kernel's address of it and the address the device uses. */
export interface DmaCoherent {
  /** The CPU's (kernel) address: a direct-map pointer of `vmm.kmem`. */
  readonly cpu_addr: bigint;
  /** The device's address (`*dma_handle`). */
  readonly dma_handle: DmaAddr;
}

// The WARN_ON_ONCE sites that already fired, per machine (a WARN_ON_ONCE fires once per boot).
const warned = new WeakMap<object, Set<string>>();

/** A `WARN_ON_ONCE`/`dev_WARN_ONCE` at `site`: logged in the machine's dmesg the first time only. @internal */
export function warnOnce(dev: Device, site: string, text: string): void {
  let set = warned.get(dev.vmm);
  if (set === undefined) {
    set = new Set();
    warned.set(dev.vmm, set);
  }
  if (set.has(site)) return;
  set.add(site);
  dev.vmm.printk(`WARNING: ${site}: ${text}`);
}

function checkDev(op: string, dev: unknown): Device {
  if (!(dev instanceof Device)) throw new KernelError("EINVAL", `${String(dev)} is not a Device`, { op });
  return dev;
}

const minNotZero = (a: bigint, b: bigint): bigint => (a === 0n ? b : b === 0n ? a : a < b ? a : b);

/** get_order(size): the smallest order whose block holds `size` bytes. */
function getOrder(size: number): number {
  let order = 0;
  while (4096 * 2 ** order < size) order++;
  return order;
}

// dma_coherent_ok(): the whole buffer is below min_not_zero(coherent_dma_mask, bus_dma_limit).
function coherentOk(dev: Device, phys: number, size: number): boolean {
  return BigInt(phys) + BigInt(size) - 1n <= minNotZero(dev.coherent_dma_mask, dev.bus_dma_limit);
}

/**
 * `dma_alloc_coherent(dev, size, &dma_handle, gfp)`: memory the CPU and the device see alike, zeroed, PAGE_SIZE <<
 * get_order(size) aligned, below the device's coherent mask; or `null` (the kernel's NULL) when none can be found.
 * As dma_alloc_attrs does: a device without a coherent mask gets `WARN_ON_ONCE(!dev->coherent_dma_mask)` in
 * {@link @kbridge/vmm!Vmm.dmesg} and (dma-direct finding no page below mask 0) `null`; `__GFP_COMP` is a WARN and
 * `null`; the zone bits of `gfp` are dropped and dma-direct picks the zone from the mask (`dma_direct_optimal_gfp_mask`),
 * retrying with `GFP_DMA32`, then `GFP_DMA` while the page is above the mask.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad device, size or gfp
 */
export function dma_alloc_coherent(dev: Device, size: number, gfp: number): DmaCoherent | null {
  const op = "dma_alloc_coherent";
  checkDev(op, dev);
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new KernelError("EINVAL", `size ${String(size)} is not a positive byte count`, { op });
  if (!Number.isInteger(gfp) || gfp < 0)
    throw new KernelError("EINVAL", `gfp ${String(gfp)} is not a gfp_t`, { op });
  if (dev.coherent_dma_mask === 0n)
    warnOnce(
      dev,
      "kernel/dma/mapping.c dma_alloc_attrs",
      `${dev.name}: WARN_ON_ONCE(!dev->coherent_dma_mask)`,
    );
  if ((gfp & __GFP_COMP) !== 0) {
    warnOnce(
      dev,
      "kernel/dma/mapping.c dma_alloc_attrs (__GFP_COMP)",
      `${dev.name}: WARN_ON_ONCE(flag & __GFP_COMP)`,
    );
    return null;
  }
  let flags = gfp & ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM);
  const aligned = Math.ceil(size / 4096) * 4096; // dma_direct_alloc: size = PAGE_ALIGN(size)
  if (aligned / 4096 > 1024) return null; // beyond MAX_PAGE_ORDER: the page allocator fails (no CMA in the model)
  const order = getOrder(aligned);
  // dma_direct_optimal_gfp_mask()
  const limit = minNotZero(dev.coherent_dma_mask, dev.bus_dma_limit);
  if (limit <= ZONE_DMA_LIMIT) flags |= __GFP_DMA;
  else if (limit <= DMA_BIT_MASK(32)) flags |= __GFP_DMA32;
  const phys = dev.vmm.phys;
  for (;;) {
    let pfn = -1;
    try {
      pfn = phys.alloc_pages(flags, order);
    } catch (err) {
      if (!KernelError.is(err, "ENOMEM")) throw err;
    }
    if (pfn >= 0 && coherentOk(dev, pfn * 4096, aligned)) {
      dev.vmm.phys.view(pfn * 4096, aligned).fill(0);
      const dma_handle = BigInt(pfn * 4096);
      // debug_dma_alloc_coherent(): recorded with the size the driver asked for.
      debugAdd({
        dev,
        type: "coherent",
        dev_addr: dma_handle,
        size,
        direction: 0,
        paddr: pfn * 4096,
        mapErr: "not-applicable",
      });
      return { cpu_addr: dev.vmm.kmem.page_address(pfn), dma_handle };
    }
    if (pfn >= 0) phys.__free_pages(pfn, order);
    // The ladder of __dma_direct_alloc_pages(): only when a page came back above the mask.
    if (pfn < 0) return null;
    if (limit < DMA_BIT_MASK(64) && (flags & (__GFP_DMA32 | __GFP_DMA)) === 0) flags |= __GFP_DMA32;
    else if ((flags & __GFP_DMA) === 0) flags = (flags & ~__GFP_DMA32) | __GFP_DMA;
    else return null;
  }
}

/**
 * `dma_free_coherent(dev, size, cpu_addr, dma_handle)`: gives the allocation back; a `cpu_addr` of 0 (NULL) is
 * ignored. dma-direct frees the pages found from `dma_handle`, `get_order(size)` of them.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when `dma_handle` and `size` do not name a coherent allocation
 * (the kernel would free the wrong pages and corrupt its free lists; dma-debug reports it)
 */
export function dma_free_coherent(dev: Device, size: number, cpu_addr: bigint, dma_handle: DmaAddr): void {
  const op = "dma_free_coherent";
  checkDev(op, dev);
  if (cpu_addr === 0n) return;
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new KernelError("EINVAL", `size ${String(size)} is not a positive byte count`, { op });
  if (typeof dma_handle !== "bigint" || dma_handle < 0n || dma_handle % 4096n !== 0n)
    throw new KernelError("EINVAL", `dma_handle ${String(dma_handle)} is not a page-aligned bus address`, {
      op,
    });
  // debug_dma_free_coherent(): checked against the record before the pages go.
  let paddr: number | undefined;
  try {
    paddr = dev.vmm.kmem.__pa(cpu_addr);
  } catch {
    paddr = undefined;
  }
  // debug_dma_free_coherent() returns without a check for a cpu_addr that is neither vmalloc nor a linear address.
  if (paddr !== undefined)
    debugCheckUnmap(
      dev,
      { type: "coherent", dev_addr: dma_handle, size, direction: 0, paddr },
      DMA_MAPPING_ERROR,
    );
  dev.vmm.phys.__free_pages(Number(dma_handle / 4096n), getOrder(Math.ceil(size / 4096) * 4096));
}

/**
 * `dma_mmap_coherent(dev, vma, cpu_addr, dma_handle, size)` (dma_direct_mmap): maps the allocation into a process
 * from a driver's `mmap`. `vma.vm_pgoff` is a page offset into the allocation; a VMA that starts past its end or
 * reaches beyond it is -ENXIO (-6). Otherwise the pages are mapped with `remap_pfn_range` (the VMA becomes
 * `VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP`) and 0 is returned.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for bad arguments; what remap_pfn_range throws
 */
export function dma_mmap_coherent(
  dev: Device,
  vma: Vma,
  cpu_addr: bigint,
  dma_handle: DmaAddr,
  size: number,
): 0 | -6 {
  const op = "dma_mmap_coherent";
  checkDev(op, dev);
  if (vma === null || typeof vma !== "object" || typeof vma.vm_start !== "number")
    throw new KernelError("EINVAL", "not a VMA", { op });
  if (typeof cpu_addr !== "bigint")
    throw new KernelError("EINVAL", `cpu_addr ${String(cpu_addr)} is not a kernel pointer`, { op });
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new KernelError("EINVAL", `size ${String(size)} is not a positive byte count`, { op });
  if (typeof dma_handle !== "bigint" || dma_handle < 0n)
    throw new KernelError("EINVAL", `dma_handle ${String(dma_handle)} is not a bus address`, { op });
  const userCount = (vma.vm_end - vma.vm_start) / 4096;
  const count = Math.ceil(size / 4096);
  if (vma.vm_pgoff >= count || userCount > count - vma.vm_pgoff) return -6;
  const pfn = Number(dma_handle / 4096n);
  vma.vm_mm.remap_pfn_range(vma, vma.vm_start, pfn + vma.vm_pgoff, userCount * 4096, vma.vm_page_prot);
  return 0;
}
