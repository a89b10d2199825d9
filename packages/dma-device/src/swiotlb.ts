// The software IO TLB: kernel/dma/swiotlb.c (swiotlb_tbl_map_single, swiotlb_search_pool_area, swiotlb_bounce,
// swiotlb_release_slots, the sync helpers), include/linux/swiotlb.h (IO_TLB_*), arch/x86/kernel/pci-dma.c
// (pci_swiotlb_detect: a pool only when RAM reaches above 4 GiB, or when forced). One CPU, so one area; no
// min_align_mask (no device in the model asks for one).

import { KernelError } from "@kbridge/uapi";
import { __GFP_DMA32, KernelOops, type Vmm } from "@kbridge/vmm";
import type { Device } from "./device.js";
import { DMA_MAPPING_ERROR, type DmaAddr, warnOnce } from "./direct.js";

/** `IO_TLB_SHIFT` (11). */
export const IO_TLB_SHIFT = 11;
/** `IO_TLB_SIZE`: one slot, 2 KiB. */
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
/** `IO_TLB_SEGSIZE`: slots per segment (128); one mapping never crosses a segment, so at most 256 KiB. */
export const IO_TLB_SEGSIZE = 128;
/** `IO_TLB_DEFAULT_SIZE`: 64 MiB. */
export const IO_TLB_DEFAULT_SIZE = 64 << 20;

const SKIP_CPU_SYNC = 1 << 5;
const NO_WARN = 1 << 8;
const INVALID = -1;

/** What {@link swiotlb_init} takes. */
export interface SwiotlbOptions {
  /** Pool size in bytes (`swiotlb=`); 64 MiB by default, halved down to 1 MiB until RAM below 4 GiB holds it. */
  readonly size?: number;
  /** `swiotlb=force`: bounce every streaming mapping, reachable or not. */
  readonly force?: boolean;
}

/** The pool's counters, as `/sys/kernel/debug/swiotlb` reports them (io_tlb_nslabs, io_tlb_used) and more. */
export interface SwiotlbStats {
  /** Slots in the pool (`io_tlb_nslabs`); 0 without a pool. */
  readonly nslabs: number;
  /** Slots in use (`io_tlb_used`). */
  readonly used: number;
  /** The pool's physical start. */
  readonly start: number;
  /** Bounce copies made, and their bytes. */
  readonly bounces: number;
  /** Bytes copied by bounces. */
  readonly bouncedBytes: number;
}

/** @internal the pool of one machine */
export class Swiotlb {
  readonly vmm: Vmm;
  readonly start: number; // physical
  readonly nslabs: number;
  readonly force: boolean;
  readonly #list: Int32Array; // free contiguous slots from here to the segment end (0 = taken)
  readonly #orig: Float64Array; // the original physical address of each taken slot
  readonly #allocSize: Int32Array; // bytes of the mapping from this slot on
  #index = 0;
  #used = 0;
  #bounces = 0;
  #bytes = 0;
  readonly #pfn: number;
  readonly #order: number;

  constructor(vmm: Vmm, size: number, force: boolean) {
    this.vmm = vmm;
    this.force = force;
    // swiotlb_init_remap(): memblock_alloc_low() of the size (tried first whatever it is), halved with
    // ALIGN(nslabs >> 1, IO_TLB_SEGSIZE) on failure while above IO_TLB_MIN_SLABS (1 MiB). The model's allocator
    // hands out at most 4 MiB contiguous (MAX_PAGE_ORDER), below 4 GiB (GFP_DMA32).
    const seg = IO_TLB_SIZE * IO_TLB_SEGSIZE;
    let bytes = size;
    let pfn = -1;
    let order = 0;
    for (;;) {
      order = Math.ceil(Math.log2(bytes / 4096));
      if (order <= 10) {
        try {
          pfn = vmm.phys.alloc_pages(__GFP_DMA32, order);
          break;
        } catch {
          // smaller
        }
      }
      if (bytes <= 1 << 20) break;
      bytes = Math.ceil(bytes / 2 / seg) * seg;
    }
    if (pfn < 0)
      throw new KernelError("ENOMEM", "cannot allocate a swiotlb pool of at least 1 MiB below 4 GiB", {
        op: "swiotlb_init",
      });
    this.#pfn = pfn;
    this.#order = order;
    this.start = pfn * 4096;
    this.nslabs = bytes / IO_TLB_SIZE;
    this.#list = new Int32Array(this.nslabs);
    for (let i = 0; i < this.nslabs; i++)
      this.#list[i] = Math.min(IO_TLB_SEGSIZE - (i % IO_TLB_SEGSIZE), this.nslabs - i);
    this.#orig = new Float64Array(this.nslabs).fill(INVALID);
    this.#allocSize = new Int32Array(this.nslabs);
  }

  stats(): SwiotlbStats {
    return {
      nslabs: this.nslabs,
      used: this.#used,
      start: this.start,
      bounces: this.#bounces,
      bouncedBytes: this.#bytes,
    };
  }

  /** True when `addr` is a bus address inside the pool (is_swiotlb_buffer). */
  owns(addr: DmaAddr): boolean {
    return addr >= BigInt(this.start) && addr < BigInt(this.start + this.nslabs * IO_TLB_SIZE);
  }

  // swiotlb_search_pool_area(): next fit from the area index, page-aligned slots for a page or more.
  #find(size: number): number {
    const nslots = Math.ceil(size / IO_TLB_SIZE);
    const stride = size >= 4096 ? 2 : 1;
    if (nslots > this.nslabs - this.#used) return -1;
    let index = this.#index;
    for (let tried = 0; tried < this.nslabs; ) {
      const slotAddr = this.start + index * IO_TLB_SIZE;
      if (size >= 4096 && slotAddr % 4096 !== 0) {
        index = index + 1 >= this.nslabs ? 0 : index + 1;
        tried++;
        continue;
      }
      if (this.#list[index]! >= nslots) return index;
      const next = index + stride;
      index = next >= this.nslabs ? 0 : next;
      tried += stride;
    }
    return -1;
  }

  /** swiotlb_map(): a slot below the mask, filled with the buffer's bytes (for every direction). */
  map(dev: Device, orig: number, size: number, dir: number, attrs: number): DmaAddr {
    if (size === 0)
      throw new KernelOops(
        "kernel BUG at kernel/dma/swiotlb.c: swiotlb_search_pool_area: BUG_ON(!nslots)",
        "swiotlb_map",
      );
    const idx = this.#find(size);
    if (idx < 0) {
      if ((attrs & NO_WARN) === 0)
        dev.vmm.printk(
          `${dev.name}: swiotlb buffer is full (sz: ${size} bytes), total ${this.nslabs} (slots), used ${this.#used} (slots)`,
        );
      return DMA_MAPPING_ERROR;
    }
    const nslots = Math.ceil(size / IO_TLB_SIZE);
    for (let k = 0; k < nslots; k++) {
      this.#list[idx + k] = 0;
      this.#orig[idx + k] = orig + k * IO_TLB_SIZE;
      this.#allocSize[idx + k] = size - k * IO_TLB_SIZE;
    }
    // The free slots before the taken ones now end there.
    for (let i = idx - 1; i >= 0 && i % IO_TLB_SEGSIZE !== IO_TLB_SEGSIZE - 1 && this.#list[i]! > 0; i--)
      this.#list[i] = idx - i;
    this.#index = idx + nslots >= this.nslabs ? 0 : idx + nslots;
    this.#used += nslots;
    const tlb = this.start + idx * IO_TLB_SIZE;
    this.#copy(orig, tlb, size); // swiotlb_tbl_map_single() bounces orig → slot whatever the direction
    void dir;
    const addr = BigInt(tlb);
    const mask = dev.dma_mask ?? 0n;
    // swiotlb_map(): the slot must be dma_capable() — under min_not_zero(*dev->dma_mask, dev->bus_dma_limit) — or
    // the slots go again (with SKIP_CPU_SYNC) and dev_WARN_ONCE.
    const limit =
      mask === 0n
        ? dev.bus_dma_limit
        : dev.bus_dma_limit === 0n || mask < dev.bus_dma_limit
          ? mask
          : dev.bus_dma_limit;
    if (addr + BigInt(size - 1) > limit) {
      this.#release(idx);
      warnOnce(
        dev,
        "kernel/dma/swiotlb.c swiotlb_map",
        `${dev.name}: swiotlb addr 0x${addr.toString(16).padStart(16, "0")}+${size} overflow (mask ${mask.toString(16)}, bus limit ${dev.bus_dma_limit.toString(16)}).`,
      );
      return DMA_MAPPING_ERROR;
    }
    return addr;
  }

  #slot(addr: DmaAddr): number {
    return Number((addr - BigInt(this.start)) / BigInt(IO_TLB_SIZE));
  }

  #copy(from: number, to: number, size: number): void {
    const ram = this.vmm.phys;
    ram.view(to, size).set(ram.view(from, size));
    this.#bounces++;
    this.#bytes += size;
  }

  // swiotlb_bounce(): between the buffer and the slot; a length past the mapping WARNs and is clamped.
  #bounce(dev: Device, addr: DmaAddr, size: number, toDevice: boolean): void {
    const idx = this.#slot(addr);
    if (this.#orig[idx]! === INVALID) return;
    // tlb_offset: where in its slot the synced range starts (a sync of part of a mapping); no min_align_mask, so
    // swiotlb_align_offset() is 0.
    const tlbOffset = Number(addr) & (IO_TLB_SIZE - 1);
    const orig = this.#orig[idx]! + tlbOffset;
    const alloc = this.#allocSize[idx]! - tlbOffset;
    let n = size;
    if (n > alloc) {
      warnOnce(
        dev,
        "kernel/dma/swiotlb.c swiotlb_bounce",
        `${dev.name}: Buffer overflow detected. Allocation size: ${alloc}. Mapping size: ${size}.`,
      );
      n = alloc;
    }
    const tlb = Number(addr);
    if (toDevice) this.#copy(orig, tlb, n);
    else this.#copy(tlb, orig, n);
  }

  sync(dev: Device, addr: DmaAddr, size: number, dir: number, target: "cpu" | "device"): void {
    // __swiotlb_sync_single_for_cpu: FROM_DEVICE/BIDIRECTIONAL copy back; __swiotlb_sync_single_for_device:
    // TO_DEVICE/BIDIRECTIONAL copy out. The other direction is a no-op.
    if (target === "cpu" && (dir === 2 || dir === 0)) this.#bounce(dev, addr, size, false);
    if (target === "device" && (dir === 1 || dir === 0)) this.#bounce(dev, addr, size, true);
  }

  unmap(dev: Device, addr: DmaAddr, size: number, dir: number, attrs: number): void {
    // dma_direct_unmap_page(): the sync for the CPU (unless SKIP_CPU_SYNC), then the slots go.
    if ((attrs & SKIP_CPU_SYNC) === 0) this.sync(dev, addr, size, dir, "cpu");
    this.#release(this.#slot(addr));
  }

  // swiotlb_release_slots(): the slots of the mapping starting at idx are free again, merged with the free run after
  // them; the free run before them now reaches further.
  #release(idx: number): void {
    const nslots = Math.ceil(this.#allocSize[idx]! / IO_TLB_SIZE);
    if (nslots === 0) return; // already free: the kernel has no double-free check here either
    const segEnd = idx - (idx % IO_TLB_SEGSIZE) + IO_TLB_SEGSIZE;
    let count = idx + nslots < Math.min(segEnd, this.nslabs) ? this.#list[idx + nslots]! : 0;
    for (let i = idx + nslots - 1; i >= idx; i--) {
      this.#list[i] = ++count;
      this.#orig[i] = INVALID;
      this.#allocSize[i] = 0;
    }
    for (let i = idx - 1; i >= 0 && i % IO_TLB_SEGSIZE !== IO_TLB_SEGSIZE - 1 && this.#list[i]! > 0; i--)
      this.#list[i] = ++count;
    this.#used -= nslots;
  }

  /** Frees the pool's frames (swiotlb_exit). */
  exit(): void {
    this.vmm.phys.__free_pages(this.#pfn, this.#order);
  }
}

// One pool per machine, made at the first streaming map (the kernel makes it at boot).
const pools = new WeakMap<Vmm, Swiotlb | null>();

/**
 * `swiotlb_init()`: gives the machine a bounce pool now (`size`, `force`), as booting with `iommu=soft` or
 * `swiotlb=force` would. Without it a pool is made at the first streaming mapping, and only on a machine with RAM
 * above 4 GiB (`pci_swiotlb_detect`); elsewhere a buffer a device cannot reach gets the kernel's "DMA addr … overflow"
 * WARN and DMA_MAPPING_ERROR.
 * @throws {@link @kbridge/uapi!KernelError} EEXIST when the machine has a pool already; ENOMEM when none fits
 */
export function swiotlb_init(vmm: Vmm, options: SwiotlbOptions = {}): SwiotlbStats {
  if (pools.get(vmm))
    throw new KernelError("EEXIST", "this machine has a swiotlb pool already", { op: "swiotlb_init" });
  if (options === null || typeof options !== "object")
    throw new KernelError("EINVAL", "options is not an object", { op: "swiotlb_init" });
  const size = options.size ?? IO_TLB_DEFAULT_SIZE;
  if (!Number.isSafeInteger(size) || size < IO_TLB_SIZE * IO_TLB_SEGSIZE)
    throw new KernelError("EINVAL", `pool size ${String(size)} is less than one segment (256 KiB)`, {
      op: "swiotlb_init",
    });
  if (options.force !== undefined && typeof options.force !== "boolean")
    throw new KernelError("EINVAL", `force ${String(options.force)} is not a boolean`, {
      op: "swiotlb_init",
    });
  // setup_io_tlb_npages(): nslabs = ALIGN(nslabs, IO_TLB_SEGSIZE) — the pool is whole segments.
  const seg = IO_TLB_SIZE * IO_TLB_SEGSIZE;
  const pool = new Swiotlb(vmm, Math.ceil(size / seg) * seg, options.force ?? false);
  pools.set(vmm, pool);
  return pool.stats();
}

/** The machine's pool (made on first use where the kernel would have one), or null. @internal */
export function swiotlbFor(vmm: Vmm): Swiotlb | null {
  let pool = pools.get(vmm);
  if (pool === undefined) {
    const top = vmm.phys.ranges.reduce((m, r) => Math.max(m, r.start + r.size), 0);
    pool = top > 2 ** 32 ? new Swiotlb(vmm, IO_TLB_DEFAULT_SIZE, false) : null;
    pools.set(vmm, pool);
  }
  return pool;
}

/** The counters of the machine's bounce pool (`nslabs` 0 when it has none). */
export function swiotlb_stats(vmm: Vmm): SwiotlbStats {
  return pools.get(vmm)?.stats() ?? { nslabs: 0, used: 0, start: 0, bounces: 0, bouncedBytes: 0 };
}
