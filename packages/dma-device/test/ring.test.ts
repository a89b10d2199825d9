// The descriptor-ring engine: descriptors in coherent memory, HEAD/TAIL, a latency + bandwidth model on a virtual
// clock, status written back, interrupts, and target aborts beyond the engine's address width.
import { GFP_KERNEL, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  dma_alloc_coherent,
  RING_CTRL_ENABLE,
  RING_CTRL_IRQ,
  RING_DESC_IRQ,
  RING_DESC_OWN,
  RING_DESC_SIZE,
  RING_REG,
  RING_STATUS_OK,
  RING_STATUS_TARGET_ABORT,
  RingDmaDevice,
} from "../src/index.js";

function setup(options = {}) {
  const vmm = new Vmm({ ram: 32 << 20 });
  const dev = new RingDmaDevice(vmm, "0000:00:06.0", { latencyNs: 100, bytesPerNs: 2, ...options });
  const ring = dma_alloc_coherent(dev, 8 * RING_DESC_SIZE, GFP_KERNEL)!;
  const data = dma_alloc_coherent(dev, 8192, GFP_KERNEL)!;
  const ringMem = vmm.kmem.view(ring.cpu_addr, 8 * RING_DESC_SIZE);
  const desc = (i: number, src: bigint, dst: bigint, len: number, flags: number) => {
    const d = new DataView(ringMem.buffer, ringMem.byteOffset + i * RING_DESC_SIZE, RING_DESC_SIZE);
    d.setBigUint64(0, src, true);
    d.setBigUint64(8, dst, true);
    d.setUint32(16, len, true);
    d.setUint32(20, flags, true);
    d.setUint32(24, 0xffff_ffff, true);
  };
  const status = (i: number) =>
    new DataView(ringMem.buffer, ringMem.byteOffset + i * RING_DESC_SIZE, RING_DESC_SIZE).getUint32(24, true);
  const flagsOf = (i: number) =>
    new DataView(ringMem.buffer, ringMem.byteOffset + i * RING_DESC_SIZE, RING_DESC_SIZE).getUint32(20, true);
  dev.mmioWrite(RING_REG.BASE_LO, Number(ring.dma_handle));
  dev.mmioWrite(RING_REG.SIZE, 8);
  return { vmm, dev, data, mem: vmm.kmem.view(data.cpu_addr, 8192), desc, status, flagsOf };
}

describe("RingDmaDevice", () => {
  it("copies per descriptor after latency + len / bandwidth, writes status, clears OWN, advances TAIL, interrupts", () => {
    const { dev, data, mem, desc, status, flagsOf } = setup();
    mem.set([1, 2, 3, 4], 0);
    desc(0, data.dma_handle, data.dma_handle + 4096n, 200, RING_DESC_OWN);
    desc(1, data.dma_handle, data.dma_handle + 5000n, 4, RING_DESC_OWN | RING_DESC_IRQ);
    const irqs: number[] = [];
    dev.onInterrupt = (s) => irqs.push(s);
    dev.mmioWrite(RING_REG.CTRL, RING_CTRL_ENABLE | RING_CTRL_IRQ);
    dev.mmioWrite(RING_REG.HEAD, 2);
    dev.clock.advance(199); // 100 + 200 / 2 = 200 ns for the first
    expect(dev.mmioRead(RING_REG.TAIL)).toBe(0);
    dev.clock.advance(1);
    expect([dev.mmioRead(RING_REG.TAIL), status(0), flagsOf(0)]).toEqual([1, RING_STATUS_OK, 0]);
    expect([...mem.subarray(4096, 4100)]).toEqual([1, 2, 3, 4]);
    expect(irqs).toEqual([]); // no IRQ flag on the first
    dev.clock.advance(102); // 100 + 4 / 2
    expect([dev.mmioRead(RING_REG.TAIL), status(1), flagsOf(1)]).toEqual([2, RING_STATUS_OK, RING_DESC_IRQ]);
    expect([...mem.subarray(5000, 5004)]).toEqual([1, 2, 3, 4]);
    expect(irqs).toEqual([0x1]);
    dev.mmioWrite(RING_REG.IRQ_ACK, 0x1);
    expect(dev.mmioRead(RING_REG.IRQ_STATUS)).toBe(0);
    expect(dev.counters).toEqual({ completed: 2, aborted: 0, bytes: 204 });
  });

  it("a descriptor beyond the engine's address lines is a target abort: no copy, status 1, interrupt bit 1", () => {
    const { dev, data, mem, desc, status } = setup({ addressBits: 32 });
    desc(0, 1n << 32n, data.dma_handle, 16, RING_DESC_OWN);
    mem.fill(0x77, 0, 16);
    dev.mmioWrite(RING_REG.CTRL, RING_CTRL_ENABLE);
    dev.mmioWrite(RING_REG.HEAD, 1);
    dev.clock.advance(1000);
    expect(status(0)).toBe(RING_STATUS_TARGET_ABORT);
    expect(mem[0]).toBe(0x77);
    expect(dev.mmioRead(RING_REG.IRQ_STATUS)).toBe(0x2);
    expect(dev.counters.aborted).toBe(1);
  });

  it("registers: id, ring base and size locked while enabled, undecoded offsets all ones, bad accesses EINVAL", () => {
    const { dev } = setup();
    expect(dev.mmioRead(RING_REG.ID)).toBe(0x52494e47);
    dev.mmioWrite(RING_REG.CTRL, RING_CTRL_ENABLE);
    dev.mmioWrite(RING_REG.SIZE, 16);
    expect(dev.mmioRead(RING_REG.SIZE)).toBe(8);
    expect(dev.mmioRead(0x40)).toBe(0xffffffff);
    expect(() => dev.mmioRead(2)).toThrow(/EINVAL/);
    expect(() => dev.mmioWrite(RING_REG.HEAD, -1)).toThrow(/EINVAL/);
    expect(() => new RingDmaDevice(dev.vmm, "x", { addressBits: 70 })).toThrow(/EINVAL/);
  });
});
