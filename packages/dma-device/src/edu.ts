// A bus-master device: QEMU's `edu` teaching device (hw/misc/edu.c, docs/specs/edu.rst), re-implemented from its
// documented behaviour: a 1 MiB MMIO BAR of 32-bit registers (and 64-bit DMA registers), a factorial unit, an
// interrupt status register, and a DMA engine with a 4 KiB internal buffer at device address 0x40000 whose
// transfers happen 100 ms of virtual time after they are started, with addresses clamped to the device's own DMA mask.

import { KernelError } from "@kbridge/uapi";
import type { Vmm } from "@kbridge/vmm";
import { deviceView } from "./cache.js";
import { Device } from "./device.js";

/** `EDU_STATUS_COMPUTING` (status bit 0x01): a factorial is being computed. */
export const EDU_STATUS_COMPUTING = 0x01;
/** `EDU_STATUS_IRQFACT` (status bit 0x80): raise FACT_IRQ when a factorial is done. */
export const EDU_STATUS_IRQFACT = 0x80;
/** `EDU_DMA_RUN` (command bit 0x1). */
export const EDU_DMA_RUN = 0x1;
/** `EDU_DMA_DIR` (command bit 0x2): 0 = RAM to the device buffer (FROM_PCI), 1 = the buffer to RAM (TO_PCI). */
export const EDU_DMA_TO_PCI = 0x2;
/** `EDU_DMA_IRQ` (command bit 0x4): raise DMA_IRQ when the transfer is done. */
export const EDU_DMA_IRQ = 0x4;
/** `FACT_IRQ`: the interrupt status bit of a finished factorial. */
export const FACT_IRQ = 0x001;
/** `DMA_IRQ`: the interrupt status bit of a finished transfer. */
export const DMA_IRQ = 0x100;
/** `DMA_START`: the device address of the internal buffer. */
export const DMA_START = 0x40000;
/** `DMA_SIZE`: the internal buffer's size. */
export const DMA_SIZE = 4096;
/** The BAR0 size (1 MiB). */
export const EDU_BAR_SIZE = 1 << 20;

/**
 * Virtual time for device models: timers fire when the clock is advanced, in deadline order, so tests and examples
 * decide when a device's work completes (QEMU_CLOCK_VIRTUAL).
 */
export class VirtualClock {
  #now = 0;
  #seq = 0;
  readonly #timers: { at: number; seq: number; fn: () => void }[] = [];

  /** Nanoseconds since the clock started. */
  get now(): number {
    return this.#now;
  }

  /**
   * Runs `fn` after `delayNs` of virtual time (0: at the next advance).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a negative or non-integer delay
   */
  schedule(delayNs: number, fn: () => void): void {
    if (!Number.isSafeInteger(delayNs) || delayNs < 0)
      throw new KernelError("EINVAL", `delay ${String(delayNs)} is not a number of nanoseconds`, {
        op: "VirtualClock.schedule",
      });
    this.#timers.push({ at: this.#now + delayNs, seq: this.#seq++, fn });
  }

  /**
   * Moves time forward by `ns`, running every timer that falls due, in order.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a negative or non-integer step
   */
  advance(ns: number): void {
    if (!Number.isSafeInteger(ns) || ns < 0)
      throw new KernelError("EINVAL", `step ${String(ns)} is not a number of nanoseconds`, {
        op: "VirtualClock.advance",
      });
    const until = this.#now + ns;
    for (;;) {
      let next = -1;
      for (let i = 0; i < this.#timers.length; i++) {
        const t = this.#timers[i]!;
        if (t.at > until) continue;
        const n = next < 0 ? undefined : this.#timers[next]!;
        if (n === undefined || t.at < n.at || (t.at === n.at && t.seq < n.seq)) next = i;
      }
      if (next < 0) break;
      const [t] = this.#timers.splice(next, 1);
      this.#now = Math.max(this.#now, t!.at);
      t!.fn();
    }
    this.#now = until;
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.#timers.length;
  }
}

/** Options of an {@link EduDevice}. */
export interface EduOptions {
  /** The device's own DMA mask (QOM property `dma_mask`; 28 bits, 256 MiB, by default). */
  readonly dmaMask?: bigint;
  /** The clock its timers run on (a new one by default). */
  readonly clock?: VirtualClock;
  /** The bound driver's name. */
  readonly driver?: string;
  /**
   * How long a transfer takes, in virtual nanoseconds, from RUN to completion: `latencyNs + count / bytesPerNs`.
   * edu's own is a fixed 100 ms whatever the count (the default).
   */
  readonly timing?: { readonly latencyNs: number; readonly bytesPerNs?: number };
}

const U32 = 0xffff_ffff;

/**
 * QEMU's `edu` PCI device (vendor 0x1234, device 0x11e8, revision 0x10) on a simulated machine, re-implemented from
 * docs/specs/edu.rst. `mmioRead`/`mmioWrite` are BAR0 accesses with edu's rules (4-byte accesses below 0x80, 4 or 8
 * from 0x80; other sizes and misaligned ones never reach the device and read 0; undecoded offsets read all ones).
 * Interrupts are delivered to `onInterrupt` while the INTx line is raised (or per raise with MSI). Its QEMU-side
 * guest-error log (clamping, out-of-range transfers) is in `log`.
 */
export class EduDevice extends Device {
  /** PCI vendor ID. */
  static readonly VENDOR = 0x1234;
  /** PCI device ID. */
  static readonly DEVICE = 0x11e8;
  /** The clock DMA and the factorial unit run on. */
  readonly clock: VirtualClock;
  /** The device's own DMA mask: bus addresses are ANDed with it. */
  readonly hwDmaMask: bigint;
  /** QEMU's guest-error log of this device ("EDU: clamping DMA …"). */
  readonly log: string[] = [];
  /** Called with the interrupt status whenever the device raises an interrupt. */
  onInterrupt: ((irqStatus: number) => void) | undefined;
  /** MSI enabled (one vector): interrupts are messages, and acking does not lower a line. */
  msiEnabled = false;
  /** The INTx line (asserted while interrupts are pending and MSI is off). */
  #intx = false;
  #addr4 = 0;
  #fact = 0;
  #status = 0;
  #irqStatus = 0;
  #dmaSrc = 0n;
  #dmaDst = 0n;
  #dmaCnt = 0n;
  #dmaCmd = 0n;
  readonly #buf = new Uint8Array(DMA_SIZE);
  readonly #latency: number;
  readonly #bytesPerNs: number;

  /**
   * @param vmm - the machine whose RAM the device reaches
   * @param name - the PCI address, `"0000:00:04.0"` by default
   * @param options - its DMA mask, clock and driver name
   */
  constructor(vmm: Vmm, name = "0000:00:04.0", options: EduOptions = {}) {
    super(vmm, name, "pci", options.driver === undefined ? {} : { driver: options.driver });
    this.clock = options.clock ?? new VirtualClock();
    const mask = options.dmaMask ?? (1n << 28n) - 1n;
    if (typeof mask !== "bigint" || mask < 0n || mask >= 1n << 64n)
      throw new KernelError("EINVAL", `dma_mask ${String(mask)} is not a 64-bit mask`, { op: "EduDevice" });
    this.hwDmaMask = mask;
    const timing = options.timing ?? { latencyNs: 100_000_000 };
    if (
      !Number.isSafeInteger(timing.latencyNs) ||
      timing.latencyNs < 0 ||
      (timing.bytesPerNs !== undefined && !(timing.bytesPerNs > 0))
    )
      throw new KernelError(
        "EINVAL",
        `timing ${JSON.stringify(timing)} is not a latency and a positive bandwidth`,
        {
          op: "EduDevice",
        },
      );
    this.#latency = timing.latencyNs;
    this.#bytesPerNs = timing.bytesPerNs ?? Number.POSITIVE_INFINITY;
  }

  /** The INTx line. */
  get intx(): boolean {
    return this.#intx;
  }

  /** The internal 4 KiB buffer (at device address 0x40000). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  // edu_raise_irq(): MSI message, or assert INTx.
  #raise(val: number): void {
    this.#irqStatus = (this.#irqStatus | val) >>> 0;
    if (this.#irqStatus === 0) return;
    if (!this.msiEnabled) this.#intx = true;
    this.onInterrupt?.(this.#irqStatus);
  }

  /**
   * A read of BAR0 at `offset`: 4 bytes (a number) or 8 bytes (a bigint, from 0x80 on).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for an offset outside the 1 MiB BAR or a size not 1, 2, 4 or 8
   */
  mmioRead(offset: number, size: 1 | 2 | 4 | 8 = 4): number | bigint {
    this.#checkAccess("mmioRead", offset, size);
    if (!this.#valid(offset, size)) return size === 8 ? 0n : 0; // unassigned_mem_read
    if (size === 8) {
      if (offset < 0x80) return (1n << 64n) - 1n;
      return this.#reg64(offset) ?? (1n << 64n) - 1n;
    }
    switch (offset) {
      case 0x00:
        return 0x010000ed;
      case 0x04:
        return this.#addr4;
      case 0x08:
        return this.#fact;
      case 0x20:
        return this.#status;
      case 0x24:
        return this.#irqStatus;
      default: {
        const r = this.#reg64(offset);
        return r === undefined ? U32 : Number(r & 0xffff_ffffn);
      }
    }
  }

  #reg64(offset: number): bigint | undefined {
    return offset === 0x80
      ? this.#dmaSrc
      : offset === 0x88
        ? this.#dmaDst
        : offset === 0x90
          ? this.#dmaCnt
          : offset === 0x98
            ? this.#dmaCmd
            : undefined;
  }

  /**
   * A write to BAR0 at `offset` of a 4-byte (number) or 8-byte (bigint or number) value.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for an offset outside the BAR, a bad size or value
   */
  mmioWrite(offset: number, value: number | bigint, size: 1 | 2 | 4 | 8 = 4): void {
    this.#checkAccess("mmioWrite", offset, size);
    const v =
      typeof value === "bigint"
        ? value
        : typeof value === "number" && Number.isSafeInteger(value)
          ? BigInt(value)
          : -1n;
    if (v < 0n || v >= 1n << BigInt(size * 8))
      throw new KernelError("EINVAL", `value ${String(value)} does not fit ${size} bytes`, {
        op: "mmioWrite",
      });
    if (!this.#valid(offset, size) || (size === 8 && offset < 0x80)) return;
    const n = Number(v & 0xffff_ffffn);
    switch (offset) {
      case 0x04:
        this.#addr4 = ~n >>> 0;
        return;
      case 0x08:
        if (this.#status & EDU_STATUS_COMPUTING) return;
        this.#fact = n;
        this.#status |= EDU_STATUS_COMPUTING;
        // The worker thread: n! in uint32 arithmetic, done at the clock's next advance.
        this.clock.schedule(0, () => {
          let f = 1;
          for (let i = this.#fact; i > 0; i--) f = Math.imul(f, i) >>> 0;
          this.#fact = f;
          this.#status &= ~EDU_STATUS_COMPUTING;
          if (this.#status & EDU_STATUS_IRQFACT) this.#raise(FACT_IRQ);
        });
        return;
      case 0x20:
        this.#status = (this.#status & ~EDU_STATUS_IRQFACT) | (n & EDU_STATUS_IRQFACT);
        return;
      case 0x60:
        this.#raise(n);
        return;
      case 0x64:
        this.#irqStatus = (this.#irqStatus & ~n) >>> 0;
        if (this.#irqStatus === 0 && !this.msiEnabled) this.#intx = false;
        return;
      case 0x80:
      case 0x88:
      case 0x90:
      case 0x98: {
        if (this.#dmaCmd & BigInt(EDU_DMA_RUN)) return; // registers locked while a transfer runs
        if (offset === 0x80) this.#dmaSrc = v;
        else if (offset === 0x88) this.#dmaDst = v;
        else if (offset === 0x90) this.#dmaCnt = v;
        else {
          if ((v & BigInt(EDU_DMA_RUN)) === 0n) return; // a command without RUN is ignored
          this.#dmaCmd = v;
          const bytes = Number(this.#dmaCnt > 0xffff_ffffn ? 0xffff_ffffn : this.#dmaCnt);
          this.clock.schedule(this.#latency + Math.ceil(bytes / this.#bytesPerNs), () => this.#dmaTimer());
        }
        return;
      }
      default:
        return; // undecoded
    }
  }

  #checkAccess(op: string, offset: number, size: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > EDU_BAR_SIZE)
      throw new KernelError("EINVAL", `offset ${String(offset)} is outside the 1 MiB BAR`, { op });
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
      throw new KernelError("EINVAL", `access size ${String(size)} is not 1, 2, 4 or 8`, { op });
  }

  // The memory core's checks (edu_mmio_ops: valid 4..8 bytes, aligned): other accesses never reach the device.
  #valid(offset: number, size: number): boolean {
    return (size === 4 || size === 8) && offset % size === 0;
  }

  // edu_clamp_addr()
  #clamp(addr: bigint): bigint {
    const res = addr & this.hwDmaMask;
    if (addr !== res) this.log.push(`EDU: clamping DMA ${hex16(addr)} to ${hex16(res)}!`);
    return res;
  }

  // edu_check_range() as fixed in 2025: a transfer outside the buffer is logged and skipped.
  #inBuffer(start: bigint, cnt: bigint): boolean {
    const end = start + cnt;
    const ok = end >= start && start >= BigInt(DMA_START) && end <= BigInt(DMA_START + DMA_SIZE);
    if (!ok)
      this.log.push(
        `EDU: DMA range ${hex16(start)}-${hex16(end - 1n)} out of bounds (${hex16(BigInt(DMA_START))}-${hex16(BigInt(DMA_START + DMA_SIZE - 1))})!`,
      );
    return ok;
  }

  // edu_dma_timer(): the whole transfer at once, then RUN clears and DMA_IRQ is raised if asked.
  #dmaTimer(): void {
    const toPci = (this.#dmaCmd & BigInt(EDU_DMA_TO_PCI)) !== 0n;
    const cnt = this.#dmaCnt;
    if (!toPci) {
      if (this.#inBuffer(this.#dmaDst, cnt)) {
        const dst = Number(this.#dmaDst) - DMA_START;
        this.#buf.set(this.#pciRead(this.#clamp(this.#dmaSrc), Number(cnt)), dst);
      }
    } else if (this.#inBuffer(this.#dmaSrc, cnt)) {
      const src = Number(this.#dmaSrc) - DMA_START;
      this.#pciWrite(this.#clamp(this.#dmaDst), this.#buf.subarray(src, src + Number(cnt)));
    }
    this.#dmaCmd &= ~BigInt(EDU_DMA_RUN);
    if (this.#dmaCmd & BigInt(EDU_DMA_IRQ)) this.#raise(DMA_IRQ);
  }

  // pci_dma_read/pci_dma_write without an IOMMU: guest RAM (as a non-coherent device sees it); addresses with no
  // RAM read as all ones and drop writes (unassigned memory).
  #pciRead(addr: bigint, n: number): Uint8Array {
    try {
      return deviceView(this.vmm, Number(addr), n).slice();
    } catch {
      this.log.push(`EDU: DMA read of unassigned memory at ${hex16(addr)}`);
      return new Uint8Array(n).fill(0xff);
    }
  }

  #pciWrite(addr: bigint, data: Uint8Array): void {
    try {
      deviceView(this.vmm, Number(addr), data.length).set(data);
    } catch {
      this.log.push(`EDU: DMA write to unassigned memory at ${hex16(addr)}`);
    }
  }
}

function hex16(n: bigint): string {
  return `0x${n.toString(16).padStart(16, "0")}`;
}
