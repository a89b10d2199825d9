// A descriptor-ring DMA engine: the shape of real bus masters (NICs, NVMe, DMA controllers) that edu lacks — the driver
// places descriptors in coherent memory and writes a head index; the device fetches them, moves the data after a
// latency + bandwidth delay on a VirtualClock, writes each descriptor's status back, advances its tail and interrupts.
// The register layout is this model's own (no real device is copied), in edu's style: 32-bit registers in BAR0.

import { KernelError } from "@kbridge/uapi";
import type { Vmm } from "@kbridge/vmm";
import { deviceView } from "./cache.js";
import { Device } from "./device.js";
import { VirtualClock } from "./edu.js";

/** Register offsets of the ring engine's BAR0. */
export const RING_REG = {
  /** RO: identification, 0x52494e47 ("RING"). */
  ID: 0x00,
  /** RW: bit 0 enable, bit 1 interrupts enabled. */
  CTRL: 0x04,
  /** RW: the ring's bus address, low 32 bits. */
  BASE_LO: 0x08,
  /** RW: the ring's bus address, high 32 bits. */
  BASE_HI: 0x0c,
  /** RW: entries in the ring (a power of two, 1..4096). */
  SIZE: 0x10,
  /** RW: the producer index the driver advances after filling descriptors. */
  HEAD: 0x14,
  /** RO: the consumer index the device advances as it completes them. */
  TAIL: 0x18,
  /** RO: pending interrupt causes (bit 0: a descriptor completed, bit 1: one failed). */
  IRQ_STATUS: 0x1c,
  /** WO: acknowledge (clear) the written interrupt causes. */
  IRQ_ACK: 0x20,
} as const;

/** CTRL bit 0: the engine runs. */
export const RING_CTRL_ENABLE = 0x1;
/** CTRL bit 1: interrupts are delivered. */
export const RING_CTRL_IRQ = 0x2;
/** Descriptor flag: the device owns it (the driver sets it, the device clears it when done). */
export const RING_DESC_OWN = 0x1;
/** Descriptor flag: interrupt when this descriptor is done. */
export const RING_DESC_IRQ = 0x2;
/** Descriptor status: done. */
export const RING_STATUS_OK = 0;
/** Descriptor status: a source or destination beyond the engine's address width (a target abort on the bus). */
export const RING_STATUS_TARGET_ABORT = 1;
/** Size of one descriptor: u64 src, u64 dst, u32 len, u32 flags, u32 status, u32 reserved (little-endian). */
export const RING_DESC_SIZE = 32;

/** Options of a {@link RingDmaDevice}. */
export interface RingOptions {
  /** The address lines the engine drives (32 by default): a bus address beyond them is a target abort. */
  readonly addressBits?: number;
  /** Virtual nanoseconds per descriptor before its data moves (1000 by default). */
  readonly latencyNs?: number;
  /** Bytes moved per virtual nanosecond (1, about 1 GB/s, by default). */
  readonly bytesPerNs?: number;
  /** The clock the engine runs on. */
  readonly clock?: VirtualClock;
  /** The bound driver's name. */
  readonly driver?: string;
}

/**
 * A bus-master DMA engine with a descriptor ring in memory (see the module's register map {@link RING_REG}). Each
 * descriptor copies `len` bytes from bus address `src` to bus address `dst`; the engine processes descriptors from
 * TAIL to HEAD one after the other, each taking `latencyNs + len / bytesPerNs` of virtual time, writes its status,
 * clears OWN, advances TAIL and raises interrupt bit 0 (bit 1 for a target abort) when the descriptor asks for it.
 */
export class RingDmaDevice extends Device {
  /** The clock. */
  readonly clock: VirtualClock;
  /** Called with IRQ_STATUS whenever the engine raises an interrupt (CTRL bit 1 set). */
  onInterrupt: ((irqStatus: number) => void) | undefined;
  /** Descriptors completed, failed, and bytes moved. */
  readonly counters = { completed: 0, aborted: 0, bytes: 0 };
  readonly #bits: bigint;
  readonly #latency: number;
  readonly #bpns: number;
  #ctrl = 0;
  #base = 0n;
  #size = 0;
  #head = 0;
  #tail = 0;
  #irq = 0;
  #busy = false;

  /**
   * @param vmm - the machine
   * @param name - its PCI address
   * @param options - address width, timing, clock, driver name
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for bad options
   */
  constructor(vmm: Vmm, name = "0000:00:06.0", options: RingOptions = {}) {
    super(vmm, name, "pci", options.driver === undefined ? {} : { driver: options.driver });
    const bits = options.addressBits ?? 32;
    const latency = options.latencyNs ?? 1000;
    const bpns = options.bytesPerNs ?? 1;
    if (
      !Number.isInteger(bits) ||
      bits < 12 ||
      bits > 64 ||
      !Number.isSafeInteger(latency) ||
      latency < 0 ||
      !(bpns > 0)
    )
      throw new KernelError(
        "EINVAL",
        `options ${JSON.stringify(options)} are not an address width, a latency and a bandwidth`,
        {
          op: "RingDmaDevice",
        },
      );
    this.#bits = BigInt(bits);
    this.#latency = latency;
    this.#bpns = bpns;
    this.clock = options.clock ?? new VirtualClock();
  }

  /**
   * A 4-byte read of BAR0 (undecoded offsets read all ones).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for an offset that is not a 4-byte-aligned register offset
   */
  mmioRead(offset: number): number {
    this.#check("mmioRead", offset);
    switch (offset) {
      case RING_REG.ID:
        return 0x52494e47;
      case RING_REG.CTRL:
        return this.#ctrl;
      case RING_REG.BASE_LO:
        return Number(this.#base & 0xffff_ffffn);
      case RING_REG.BASE_HI:
        return Number(this.#base >> 32n);
      case RING_REG.SIZE:
        return this.#size;
      case RING_REG.HEAD:
        return this.#head;
      case RING_REG.TAIL:
        return this.#tail;
      case RING_REG.IRQ_STATUS:
        return this.#irq;
      default:
        return 0xffff_ffff;
    }
  }

  /**
   * A 4-byte write of BAR0. Writing HEAD (or enabling the engine) starts the processing of pending descriptors;
   * writes to BASE and SIZE are ignored while the engine is enabled.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad offset or a value that is not a u32
   */
  mmioWrite(offset: number, value: number): void {
    this.#check("mmioWrite", offset);
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)
      throw new KernelError("EINVAL", `value ${String(value)} is not a u32`, { op: "mmioWrite" });
    const enabled = (this.#ctrl & RING_CTRL_ENABLE) !== 0;
    switch (offset) {
      case RING_REG.CTRL:
        this.#ctrl = value & (RING_CTRL_ENABLE | RING_CTRL_IRQ);
        this.#kick();
        return;
      case RING_REG.BASE_LO:
        if (!enabled) this.#base = (this.#base & ~0xffff_ffffn) | BigInt(value);
        return;
      case RING_REG.BASE_HI:
        if (!enabled) this.#base = (this.#base & 0xffff_ffffn) | (BigInt(value) << 32n);
        return;
      case RING_REG.SIZE:
        if (!enabled && value >= 1 && value <= 4096 && (value & (value - 1)) === 0) {
          this.#size = value;
          this.#head = 0;
          this.#tail = 0;
        }
        return;
      case RING_REG.HEAD:
        if (this.#size > 0) this.#head = value % this.#size;
        this.#kick();
        return;
      case RING_REG.IRQ_ACK:
        this.#irq = (this.#irq & ~value) >>> 0;
        return;
      default:
        return;
    }
  }

  #check(op: string, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= 0x1000 || offset % 4 !== 0)
      throw new KernelError("EINVAL", `offset ${String(offset)} is not a 4-byte register of the 4 KiB BAR`, {
        op,
      });
  }

  // The engine reaches only addresses its lines can drive.
  #reachable(addr: bigint, len: number): boolean {
    return addr + BigInt(Math.max(len, 1)) <= 1n << this.#bits;
  }

  // Start the next descriptor if the engine is enabled, idle, and TAIL has not caught up with HEAD.
  #kick(): void {
    if (this.#busy || (this.#ctrl & RING_CTRL_ENABLE) === 0 || this.#size === 0 || this.#tail === this.#head)
      return;
    const at = this.#base + BigInt(this.#tail * RING_DESC_SIZE);
    if (!this.#reachable(at, RING_DESC_SIZE)) {
      // The ring itself cannot be fetched: the engine stops with an abort.
      this.#ctrl &= ~RING_CTRL_ENABLE;
      this.#raise(0x2);
      return;
    }
    const d = new DataView(deviceView(this.vmm, Number(at), RING_DESC_SIZE).slice().buffer);
    const len = d.getUint32(16, true);
    this.#busy = true;
    this.clock.schedule(this.#latency + Math.ceil(len / this.#bpns), () => this.#complete(at));
  }

  #complete(at: bigint): void {
    const view = deviceView(this.vmm, Number(at), RING_DESC_SIZE);
    const d = new DataView(view.buffer, view.byteOffset, RING_DESC_SIZE);
    const src = d.getBigUint64(0, true);
    const dst = d.getBigUint64(8, true);
    const len = d.getUint32(16, true);
    const flags = d.getUint32(20, true);
    let status = RING_STATUS_OK;
    if ((flags & RING_DESC_OWN) !== 0) {
      if (!this.#reachable(src, len) || !this.#reachable(dst, len)) status = RING_STATUS_TARGET_ABORT;
      else {
        try {
          deviceView(this.vmm, Number(dst), len).set(deviceView(this.vmm, Number(src), len));
          this.counters.bytes += len;
        } catch {
          status = RING_STATUS_TARGET_ABORT; // no RAM behind the address: master abort, reported the same way
        }
      }
    }
    d.setUint32(24, status, true);
    d.setUint32(20, flags & ~RING_DESC_OWN, true);
    if (status === RING_STATUS_OK) this.counters.completed++;
    else this.counters.aborted++;
    this.#tail = (this.#tail + 1) % this.#size;
    this.#busy = false;
    if (status !== RING_STATUS_OK) this.#raise(0x2);
    else if ((flags & RING_DESC_IRQ) !== 0) this.#raise(0x1);
    this.#kick();
  }

  #raise(cause: number): void {
    this.#irq = (this.#irq | cause) >>> 0;
    if ((this.#ctrl & RING_CTRL_IRQ) !== 0) this.onInterrupt?.(this.#irq);
  }
}
