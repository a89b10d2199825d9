// A device as the DMA API sees it: struct device's dma_mask pointer, coherent_dma_mask and bus_dma_limit
// (include/linux/device.h), the defaults each bus gives them (drivers/pci/probe.c pci_setup_device,
// drivers/base/platform.c setup_pdev_dma_masks, drivers/base/core.c root_device_register), and the mask calls of
// kernel/dma/mapping.c with dma_direct_supported() of kernel/dma/direct.c.

import { KernelError } from "@kbridge/uapi";
import type { Vmm } from "@kbridge/vmm";
import { deviceView } from "./cache.js";

const U64_MAX = (1n << 64n) - 1n;

/**
 * `DMA_BIT_MASK(n)`: the mask of an `n`-bit DMA address (`n == 64 ? ~0ULL : (1ULL << n) - 1`).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for `n` outside 0..64
 */
export function DMA_BIT_MASK(n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > 64)
    throw new KernelError("EINVAL", `DMA_BIT_MASK(${String(n)}): n is not 0..64`, { op: "DMA_BIT_MASK" });
  return n === 64 ? U64_MAX : (1n << BigInt(n)) - 1n;
}

/** `zone_dma_limit` on x86-64: ZONE_DMA ends at 16 MiB, so DMA_BIT_MASK(24). */
export const ZONE_DMA_LIMIT = 0xff_ffffn;

/**
 * How the device was created, which decides its default masks:
 * - `"pci"`: `pci_setup_device()` gives both masks DMA_BIT_MASK(32), `dma_mask` pointing at its own field;
 * - `"platform"`: `setup_pdev_dma_masks()` gives coherent_dma_mask DMA_BIT_MASK(32) and points `dma_mask` at a separate
 *   `platform_dma_mask` (also 32 bits), so `dma_set_mask` leaves the coherent mask alone;
 * - `"root"`: `root_device_register()` / a bare `device_register()`: `dma_mask` is NULL, coherent_dma_mask 0 — the
 *   device the source article allocates DMA memory on.
 */
export type DeviceKind = "pci" | "platform" | "root";

/** Options of a {@link Device}. */
export interface DeviceOptions {
  /** The name of the bound driver. */
  readonly driver?: string;
  /** Cache-coherent DMA (true by default). */
  readonly coherent?: boolean;
}

/**
 * `struct device`, the DMA side of it, on one simulated machine ({@link @kbridge/vmm!Vmm}). `dma_mask` models the
 * kernel's pointer: `undefined` when the pointer is NULL; after `dma_coerce_mask_and_coherent` it aliases
 * `coherent_dma_mask`.
 */
export class Device {
  /** `dev_name()`. */
  readonly name: string;
  /** The machine whose memory the device reaches. */
  readonly vmm: Vmm;
  /** How it was created. */
  readonly kind: DeviceKind;
  /** `dev->coherent_dma_mask`. */
  coherent_dma_mask: bigint;
  /**
   * `dev->dma_coherent`: the device snoops the CPU caches. When false, the CPU's view of a streaming buffer and the
   * memory the device reads are kept apart until a sync (see {@link Device.busRead}).
   */
  readonly dma_coherent: boolean;
  /** The bound driver's name, if any (`dev->driver->name`). */
  driver: string | undefined;
  /** `dev->bus_dma_limit`: a limit of the bus (0: none). */
  bus_dma_limit: bigint;
  #mask: bigint | undefined; // *dev->dma_mask, or undefined for a NULL pointer
  #aliased = false; // dev->dma_mask == &dev->coherent_dma_mask

  /**
   * @param vmm - the machine
   * @param name - `dev_name()`, e.g. `"0000:00:04.0"`
   * @param kind - how it was created (its default masks)
   * @param options - the bound driver's name (dma-debug's messages name it), and whether the device is cache-coherent
   * (`dev_is_dma_coherent`; true by default, as every device on x86-64)
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad name or kind
   */
  constructor(vmm: Vmm, name: string, kind: DeviceKind = "pci", options: DeviceOptions = {}) {
    if (vmm === null || typeof vmm !== "object" || typeof (vmm as Vmm).kmem !== "object")
      throw new KernelError("EINVAL", "not a Vmm", { op: "Device" });
    if (typeof name !== "string" || name === "")
      throw new KernelError("EINVAL", `device name ${JSON.stringify(name)} is empty`, { op: "Device" });
    if (kind !== "pci" && kind !== "platform" && kind !== "root")
      throw new KernelError("EINVAL", `device kind ${String(kind)} is not pci, platform or root`, {
        op: "Device",
      });
    this.vmm = vmm;
    this.name = name;
    this.kind = kind;
    if (options === null || typeof options !== "object")
      throw new KernelError("EINVAL", "options is not an object", { op: "Device" });
    this.driver = options.driver;
    this.dma_coherent = options.coherent ?? true;
    this.bus_dma_limit = 0n;
    this.coherent_dma_mask = kind === "root" ? 0n : DMA_BIT_MASK(32);
    this.#mask = kind === "root" ? undefined : DMA_BIT_MASK(32);
  }

  /** `dev_driver_string()`: the bound driver's name, else the bus's ("pci", "platform"), else "". */
  get driverString(): string {
    return this.driver ?? (this.kind === "root" ? "" : this.kind);
  }

  /**
   * A bus-master read by the device of `length` bytes at bus address `addr` (dma-direct: the physical address). A
   * non-coherent device reads memory, which holds the CPU's writes only after a sync for the device.
   * @throws {@link @kbridge/uapi!KernelError} EIO for an address beyond the device's DMA mask (a target abort on the
   * bus: the device cannot drive those address lines); EFAULT for an address with no RAM
   */
  busRead(addr: bigint, length: number): Uint8Array {
    return deviceView(this.vmm, this.#bus("busRead", addr, length), length).slice();
  }

  /**
   * A bus-master write by the device at bus address `addr`. A non-coherent device writes memory, which the CPU sees
   * only after a sync for the CPU.
   * @throws {@link @kbridge/uapi!KernelError} as {@link Device.busRead}
   */
  busWrite(addr: bigint, data: Uint8Array): void {
    if (!(data instanceof Uint8Array))
      throw new KernelError("EINVAL", "data is not a Uint8Array", { op: "busWrite" });
    deviceView(this.vmm, this.#bus("busWrite", addr, data.length), data.length).set(data);
  }

  #bus(op: string, addr: bigint, length: number): number {
    if (typeof addr !== "bigint" || addr < 0n || !Number.isSafeInteger(length) || length < 0)
      throw new KernelError(
        "EINVAL",
        `bus address ${String(addr)} / length ${String(length)} are not valid`,
        { op },
      );
    const limit = this.dma_mask ?? 0n;
    if (addr + BigInt(Math.max(length, 1)) - 1n > limit)
      throw new KernelError(
        "EIO",
        `${this.name}: target abort: bus address 0x${addr.toString(16)}+${length} is beyond the DMA mask 0x${limit.toString(16)}`,
        { op },
      );
    return Number(addr);
  }

  /** `*dev->dma_mask`, or undefined while the pointer is NULL. */
  get dma_mask(): bigint | undefined {
    return this.#aliased ? this.coherent_dma_mask : this.#mask;
  }

  /** @internal `*dev->dma_mask = mask` (the pointer must not be NULL) */
  setMaskValue(mask: bigint): void {
    if (this.#aliased) this.coherent_dma_mask = mask;
    else this.#mask = mask;
  }

  /** @internal `dev->dma_mask = &dev->coherent_dma_mask` */
  aliasMask(): void {
    this.#aliased = true;
  }
}

function checkDev(op: string, dev: unknown): Device {
  if (!(dev instanceof Device)) throw new KernelError("EINVAL", `${String(dev)} is not a Device`, { op });
  return dev;
}

function checkMask(op: string, mask: unknown): bigint {
  if (typeof mask === "bigint" && mask >= 0n) return mask & U64_MAX; // (dma_addr_t)mask: 64 bits on x86-64
  if (typeof mask === "number" && Number.isSafeInteger(mask) && mask >= 0) return BigInt(mask);
  throw new KernelError("EINVAL", `mask ${String(mask)} is not an unsigned 64-bit value`, { op });
}

/** The highest physical address of RAM on the device's machine (`(max_pfn - 1) << PAGE_SHIFT`). */
function maxPhys(dev: Device): bigint {
  const last = dev.vmm.phys.ranges.at(-1)!;
  return BigInt(last.start + last.size - 4096);
}

/**
 * `dma_supported(dev, mask)` for dma-direct (`dma_direct_supported`): every mask of 32 bits or more; a smaller one
 * when it still covers `min(highest RAM address, zone_dma_limit)` — 24 bits on x86-64, less only on a machine with
 * less RAM.
 */
export function dma_supported(dev: Device, mask: bigint): boolean {
  const op = "dma_supported";
  checkDev(op, dev);
  const m = checkMask(op, mask);
  if (m >= DMA_BIT_MASK(32)) return true;
  const min = maxPhys(dev) < ZONE_DMA_LIMIT ? maxPhys(dev) : ZONE_DMA_LIMIT;
  return m >= min;
}

/**
 * `dma_set_mask(dev, mask)`: sets `*dev->dma_mask`. -EIO (-5) when the pointer is NULL (a root device) or the mask is
 * not supported; 0 otherwise.
 */
export function dma_set_mask(dev: Device, mask: bigint): 0 | -5 {
  const op = "dma_set_mask";
  checkDev(op, dev);
  const m = checkMask(op, mask);
  if (dev.dma_mask === undefined || !dma_supported(dev, m)) return -5;
  dev.setMaskValue(m);
  return 0;
}

/** `dma_set_coherent_mask(dev, mask)`: -EIO when not supported, else 0 (works with a NULL `dma_mask` pointer). */
export function dma_set_coherent_mask(dev: Device, mask: bigint): 0 | -5 {
  const op = "dma_set_coherent_mask";
  checkDev(op, dev);
  const m = checkMask(op, mask);
  if (!dma_supported(dev, m)) return -5;
  dev.coherent_dma_mask = m;
  return 0;
}

/**
 * `dma_set_mask_and_coherent(dev, mask)`: dma_set_mask, then, only if it succeeded, dma_set_coherent_mask. On a root
 * device (NULL `dma_mask`) it returns -EIO and sets neither mask.
 */
export function dma_set_mask_and_coherent(dev: Device, mask: bigint): 0 | -5 {
  const rc = dma_set_mask(dev, mask);
  if (rc === 0) dma_set_coherent_mask(dev, mask);
  return rc;
}

/**
 * `dma_coerce_mask_and_coherent(dev, mask)`: points `dev->dma_mask` at `coherent_dma_mask`, then
 * dma_set_mask_and_coherent — how a driver gives a bare device a mask.
 */
export function dma_coerce_mask_and_coherent(dev: Device, mask: bigint): 0 | -5 {
  const op = "dma_coerce_mask_and_coherent";
  checkDev(op, dev);
  checkMask(op, mask); // before the pointer changes: a bad argument changes nothing
  dev.aliasMask();
  return dma_set_mask_and_coherent(dev, mask);
}

/**
 * `dma_get_mask(dev)`: `*dev->dma_mask`, or DMA_BIT_MASK(32) when the pointer is NULL or the mask is 0
 * (include/linux/dma-mapping.h: `if (dev->dma_mask && *dev->dma_mask)`).
 */
export function dma_get_mask(dev: Device): bigint {
  const mask = checkDev("dma_get_mask", dev).dma_mask;
  return mask === undefined || mask === 0n ? DMA_BIT_MASK(32) : mask;
}

/**
 * `dma_get_required_mask(dev)` (dma_direct_get_required_mask): the smallest all-ones mask that covers the machine's
 * highest RAM address — what a driver needs to reach every page without bouncing.
 */
export function dma_get_required_mask(dev: Device): bigint {
  checkDev("dma_get_required_mask", dev);
  const top = maxPhys(dev);
  let bits = 0n;
  while (top >> bits !== 0n) bits++;
  return (1n << bits) - 1n;
}
