// dma-debug (CONFIG_DMA_API_DEBUG): kernel/dma/debug.c. Every mapping and coherent allocation is recorded per
// (device, bus address); unmaps, frees and syncs are checked against the record, and each mistake is reported with
// the kernel's message through err_printk() — `DMA-API: <driver> <device>: <message>` — only the first one unless
// all_errors is on (show_num_errors = 1). dma-debug never changes a return value.

import { KernelError } from "@kbridge/uapi";
import type { Vmm } from "@kbridge/vmm";
import type { Device } from "./device.js";

/** The mapping types of 6.12 (`type2name[]`). */
export type DmaDebugType = "single" | "scatter-gather" | "coherent" | "resource" | "noncoherent";

const DIR = ["DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_NONE"] as const;

/** One recorded mapping (`struct dma_debug_entry`). */
export interface DmaDebugEntry {
  /** The device. */
  readonly dev: Device;
  /** How it was made. */
  readonly type: DmaDebugType;
  /** Its bus address. */
  readonly dev_addr: bigint;
  /** Its size in bytes, as the driver passed it. */
  readonly size: number;
  /** Its direction (0..2). */
  readonly direction: number;
  /** The CPU's physical address of the buffer. */
  readonly paddr: number;
  /** Whether dma_mapping_error() was called on it (not applicable to coherent memory). */
  mapErr: "not-applicable" | "not-checked" | "checked";
  /** For a scatter-gather segment: the `nents` of its dma_map_sg call. */
  readonly sgCallEnts?: number;
}

/** dma-debug's state on one machine. */
export interface DmaDebugStats {
  /** Errors found (`error_count` in debugfs), printed or not. */
  readonly errorCount: number;
  /** Live entries. */
  readonly entries: number;
}

interface State {
  readonly entries: DmaDebugEntry[];
  errorCount: number;
  showNumErrors: number;
  allErrors: boolean;
}

const states = new WeakMap<Vmm, State>();

function state(vmm: Vmm): State {
  let s = states.get(vmm);
  if (s === undefined) {
    s = { entries: [], errorCount: 0, showNumErrors: 1, allErrors: false };
    states.set(vmm, s);
  }
  return s;
}

const hex16 = (a: bigint) => `0x${a.toString(16).padStart(16, "0")}`;

// err_printk(): count the error; print it while show_num_errors lasts (or always with all_errors).
function errPrintk(dev: Device, message: string): void {
  const s = state(dev.vmm);
  s.errorCount++;
  if (s.allErrors || s.showNumErrors > 0)
    dev.vmm.printk(`DMA-API: ${dev.driverString} ${dev.name}: ${message}`);
  if (!s.allErrors && s.showNumErrors > 0) s.showNumErrors--;
}

/**
 * Sets dma-debug's reporting on a machine: `allErrors` (debugfs `dma-api/all_errors`) prints every error instead of
 * the first only; `numErrors` (`dma-api/num_errors`) how many more to print.
 */
export function dma_debug_config(vmm: Vmm, options: { allErrors?: boolean; numErrors?: number }): void {
  const s = state(vmm);
  if (options.numErrors !== undefined) {
    if (!Number.isSafeInteger(options.numErrors) || options.numErrors < 0)
      throw new KernelError("EINVAL", `num_errors ${String(options.numErrors)} is not a count`, {
        op: "dma_debug_config",
      });
    s.showNumErrors = options.numErrors;
  }
  if (options.allErrors !== undefined) s.allErrors = options.allErrors;
}

/** dma-debug's counters on a machine. */
export function dma_debug_stats(vmm: Vmm): DmaDebugStats {
  const s = state(vmm);
  return { errorCount: s.errorCount, entries: s.entries.length };
}

/** The live entries of a device (what `device_dma_allocations()` counts). */
export function dma_debug_entries(dev: Device): readonly DmaDebugEntry[] {
  return state(dev.vmm).entries.filter((e) => e.dev === dev);
}

/**
 * @internal debug_dma_map_page() / debug_dma_alloc_coherent() → add_dma_entry(): record a mapping, and track the
 * cacheline it starts in (active_cacheline_insert, L1_CACHE_SHIFT 6 on x86-64): a second mapping the device may write
 * (not DMA_TO_DEVICE) starting in the same cacheline as a live one is "cacheline tracking EEXIST, overlapping
 * mappings aren't supported", unless mapped with DMA_ATTR_SKIP_CPU_SYNC.
 */
export function debugAdd(entry: DmaDebugEntry, attrs = 0): void {
  const s = state(entry.dev.vmm);
  const cln = Math.floor(entry.paddr / 64);
  const overlap =
    entry.direction !== 1 && s.entries.some((e) => e.direction !== 1 && Math.floor(e.paddr / 64) === cln);
  s.entries.push(entry);
  if (overlap && (attrs & (1 << 5)) === 0)
    errPrintk(entry.dev, "cacheline tracking EEXIST, overlapping mappings aren't supported");
}

/** @internal debug_dma_mapping_error(): the first unchecked entry at that address becomes checked */
export function debugMappingError(dev: Device, addr: bigint): void {
  const e = state(dev.vmm).entries.find(
    (x) => x.dev === dev && x.dev_addr === addr && x.mapErr === "not-checked",
  );
  if (e !== undefined) e.mapErr = "checked";
}

/** @internal check_unmap(): an unmap or free against its record, which goes */
export function debugCheckUnmap(
  dev: Device,
  ref: {
    type: DmaDebugType;
    dev_addr: bigint;
    size: number;
    direction: number;
    paddr?: number;
    sgCallEnts?: number;
  },
  mappingError: bigint,
): void {
  const s = state(dev.vmm);
  const i = s.entries.findIndex((e) => e.dev === dev && e.dev_addr === ref.dev_addr);
  if (i < 0) {
    if (ref.dev_addr === mappingError)
      errPrintk(dev, "device driver tries to free an invalid DMA memory address");
    else
      errPrintk(
        dev,
        `device driver tries to free DMA memory it has not allocated [device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes]`,
      );
    return;
  }
  const e = s.entries[i]!;
  if (ref.size !== e.size)
    errPrintk(
      dev,
      `device driver frees DMA memory with different size [device address=${hex16(ref.dev_addr)}] [map size=${e.size} bytes] [unmap size=${ref.size} bytes]`,
    );
  if (ref.type !== e.type)
    errPrintk(
      dev,
      `device driver frees DMA memory with wrong function [device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes] [mapped as ${e.type}] [unmapped as ${ref.type}]`,
    );
  else if (e.type === "coherent" && ref.paddr !== undefined && ref.paddr !== e.paddr)
    // "0x%pa": %pa prints its own 0x and 16 digits (lib/vsprintf.c special_hex_number), so the kernel shows 0x0x.
    errPrintk(
      dev,
      `device driver frees DMA memory with different CPU address [device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes] [cpu alloc address=0x0x${e.paddr.toString(16).padStart(16, "0")}] [cpu free address=0x0x${ref.paddr.toString(16).padStart(16, "0")}]`,
    );
  if (ref.sgCallEnts !== undefined && ref.type === "scatter-gather" && ref.sgCallEnts !== e.sgCallEnts)
    errPrintk(
      dev,
      `device driver frees DMA sg list with different entry count [map count=${e.sgCallEnts}] [unmap count=${ref.sgCallEnts}]`,
    );
  if (ref.direction !== e.direction)
    errPrintk(
      dev,
      `device driver frees DMA memory with different direction [device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes] [mapped with ${DIR[e.direction]}] [unmapped with ${DIR[ref.direction]}]`,
    );
  if (e.mapErr === "not-checked")
    errPrintk(
      dev,
      `device driver failed to check map error[device address=${hex16(ref.dev_addr)}] [size=${ref.size} bytes] [mapped as ${e.type}]`,
    );
  s.entries.splice(i, 1);
}

/** @internal check_sync(): a sync must lie inside one mapping and agree with its direction */
export function debugCheckSync(
  dev: Device,
  addr: bigint,
  size: number,
  direction: number,
  toCpu: boolean,
): void {
  const s = state(dev.vmm);
  const e = s.entries.find(
    (x) => x.dev === dev && x.dev_addr <= addr && addr + BigInt(size) <= x.dev_addr + BigInt(x.size),
  );
  if (e === undefined) {
    errPrintk(
      dev,
      `device driver tries to sync DMA memory it has not allocated [device address=${hex16(addr)}] [size=${size} bytes]`,
    );
    return;
  }
  if (e.direction === 0) return;
  const tail = `[device address=${hex16(addr)}] [size=${e.size} bytes] [mapped with ${DIR[e.direction]}] [synced with ${DIR[direction]}]`;
  if (direction !== e.direction)
    errPrintk(dev, `device driver syncs DMA memory with different direction ${tail}`);
  if (toCpu && e.direction !== 2 && direction !== 1)
    errPrintk(dev, `device driver syncs device read-only DMA memory for cpu ${tail}`);
  if (!toCpu && e.direction !== 1 && direction !== 2)
    errPrintk(dev, `device driver syncs device write-only DMA memory to device ${tail}`);
}

/**
 * `device_release_driver(dev)`: the driver lets the device go; dma-debug (BUS_NOTIFY_UNBOUND_DRIVER) reports the
 * mappings and allocations it still holds — `device driver has pending DMA allocations while released from device
 * [count=N]` with one of them — and returns how many there were. The entries stay (the memory is leaked).
 */
export function device_release_driver(dev: Device): number {
  const held = dma_debug_entries(dev);
  if (held.length > 0) {
    const e = held[0]!;
    errPrintk(
      dev,
      `device driver has pending DMA allocations while released from device [count=${held.length}]\nOne of leaked entries details: [device address=${hex16(e.dev_addr)}] [size=${e.size} bytes] [mapped with ${DIR[e.direction]}] [mapped as ${e.type}]`,
    );
  }
  return held.length;
}
