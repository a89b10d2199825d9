// QEMU's edu device as docs/specs/edu.rst describes it (and the 2024-2025 fixes of its DMA range check).
import { GFP_KERNEL, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  DMA_BIT_MASK,
  DMA_IRQ,
  DMA_START,
  dma_alloc_coherent,
  dma_set_mask_and_coherent,
  EDU_DMA_IRQ,
  EDU_DMA_RUN,
  EDU_DMA_TO_PCI,
  EDU_STATUS_COMPUTING,
  EDU_STATUS_IRQFACT,
  EduDevice,
  FACT_IRQ,
  VirtualClock,
} from "../src/index.js";

const MS = 1_000_000;
const edu = () => {
  const vmm = new Vmm({ ram: 32 << 20 });
  return { vmm, dev: new EduDevice(vmm, "0000:00:04.0", { driver: "edu" }) };
};

describe("registers", () => {
  it("identification, liveness (~x), undecoded offsets all ones, bad accesses never reach the device", () => {
    const { dev } = edu();
    expect(dev.mmioRead(0x00)).toBe(0x010000ed);
    dev.mmioWrite(0x04, 0x12345678);
    expect(dev.mmioRead(0x04)).toBe(0xedcba987);
    expect(dev.mmioRead(0x10)).toBe(0xffffffff);
    expect(dev.mmioRead(0x84)).toBe(0xffffffff); // upper half of a DMA register: not decoded
    expect(dev.mmioRead(0x00, 8)).toBe(2n ** 64n - 1n); // 8 bytes below 0x80
    expect(dev.mmioRead(0x00, 2)).toBe(0); // the memory core refuses 2-byte accesses
    expect(dev.mmioRead(0x02, 4)).toBe(0); // and misaligned ones
    dev.mmioWrite(0x04, 1, 2);
    expect(dev.mmioRead(0x04)).toBe(0xedcba987);
    expect(() => dev.mmioRead(1 << 20)).toThrow(/outside the 1 MiB BAR/);
    expect(() => dev.mmioWrite(0x04, 2 ** 32)).toThrow(/does not fit/);
  });

  it("factorial: COMPUTING until the worker runs, uint32 wrap, FACT_IRQ when asked, ack lowers INTx", () => {
    const { dev } = edu();
    const irqs: number[] = [];
    dev.onInterrupt = (s) => irqs.push(s);
    dev.mmioWrite(0x20, EDU_STATUS_IRQFACT);
    dev.mmioWrite(0x08, 13);
    expect(dev.mmioRead(0x20)).toBe(EDU_STATUS_IRQFACT | EDU_STATUS_COMPUTING);
    dev.mmioWrite(0x08, 5); // ignored while computing
    dev.clock.advance(0);
    expect(dev.mmioRead(0x08)).toBe(1932053504); // 13! mod 2^32
    expect(dev.mmioRead(0x20)).toBe(EDU_STATUS_IRQFACT);
    expect(irqs).toEqual([FACT_IRQ]);
    expect([dev.intx, dev.mmioRead(0x24)]).toEqual([true, FACT_IRQ]);
    dev.mmioWrite(0x64, FACT_IRQ);
    expect([dev.intx, dev.mmioRead(0x24)]).toEqual([false, 0]);
    dev.mmioWrite(0x08, 0);
    dev.clock.advance(0);
    expect(dev.mmioRead(0x08)).toBe(1); // 0! = 1
  });
});

describe("DMA", () => {
  it("the spec's example: RAM → buffer → RAM, 100 ms of virtual time each, polled on cmd & 1", () => {
    const { vmm, dev } = edu();
    expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28))).toBe(0);
    const buf = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    const ram = vmm.kmem.view(buf.cpu_addr, 200);
    ram.set(Array.from({ length: 100 }, (_, i) => i + 1));
    dev.mmioWrite(0x80, buf.dma_handle, 8);
    dev.mmioWrite(0x88, DMA_START);
    dev.mmioWrite(0x90, 100);
    dev.mmioWrite(0x98, EDU_DMA_RUN);
    dev.clock.advance(99 * MS);
    expect(dev.mmioRead(0x98)).toBe(EDU_DMA_RUN); // still running
    dev.mmioWrite(0x90, 5); // locked while RUN
    dev.clock.advance(1 * MS);
    expect(dev.mmioRead(0x98)).toBe(0);
    expect(dev.mmioRead(0x90)).toBe(100);
    dev.mmioWrite(0x80, DMA_START);
    dev.mmioWrite(0x88, buf.dma_handle + 100n, 8);
    dev.mmioWrite(0x98, EDU_DMA_RUN | EDU_DMA_TO_PCI | EDU_DMA_IRQ);
    const irqs: number[] = [];
    dev.onInterrupt = (s) => irqs.push(s);
    dev.clock.advance(100 * MS);
    expect([...ram.subarray(100, 200)]).toEqual([...ram.subarray(0, 100)]);
    expect(dev.mmioRead(0x98)).toBe(EDU_DMA_TO_PCI | EDU_DMA_IRQ); // RUN cleared, the rest stays
    expect(irqs).toEqual([DMA_IRQ]);
  });

  it("a command without RUN is ignored; addresses beyond its 28-bit mask are clamped (and logged)", () => {
    const { vmm, dev } = edu();
    dev.mmioWrite(0x98, EDU_DMA_TO_PCI);
    expect(dev.mmioRead(0x98)).toBe(0);
    dev.buffer.set([0x42]);
    dev.mmioWrite(0x80, DMA_START);
    dev.mmioWrite(0x88, (1n << 28n) + 0x10000n, 8); // a driver that forgot dma_set_mask(…, DMA_BIT_MASK(28))
    dev.mmioWrite(0x90, 1);
    dev.mmioWrite(0x98, EDU_DMA_RUN | EDU_DMA_TO_PCI);
    dev.clock.advance(100 * MS);
    expect(vmm.phys.view(0x10000, 1)[0]).toBe(0x42); // low memory corrupted
    expect(dev.log).toEqual(["EDU: clamping DMA 0x0000000010010000 to 0x0000000000010000!"]);
  });

  it("a transfer outside the 4 KiB buffer is logged and skipped, and still completes", () => {
    const { dev } = edu();
    dev.mmioWrite(0x80, 0x1000);
    dev.mmioWrite(0x88, DMA_START + 4000);
    dev.mmioWrite(0x90, 200);
    dev.mmioWrite(0x98, EDU_DMA_RUN | EDU_DMA_IRQ);
    dev.clock.advance(100 * MS);
    expect(dev.log).toEqual([
      "EDU: DMA range 0x0000000000040fa0-0x0000000000041067 out of bounds (0x0000000000040000-0x0000000000040fff)!",
    ]);
    expect(dev.mmioRead(0x24)).toBe(DMA_IRQ);
    // A transfer of the whole buffer, ending exactly at its end, is valid.
    dev.mmioWrite(0x88, DMA_START);
    dev.mmioWrite(0x90, 4096);
    dev.mmioWrite(0x98, EDU_DMA_RUN);
    dev.clock.advance(100 * MS);
    expect(dev.log).toHaveLength(1);
  });
});

describe("VirtualClock", () => {
  it("fires timers in deadline order and refuses negative time", () => {
    const c = new VirtualClock();
    const seen: string[] = [];
    c.schedule(20, () => seen.push("b"));
    c.schedule(10, () => seen.push("a"));
    c.schedule(10, () => seen.push("a2"));
    c.advance(15);
    expect(seen).toEqual(["a", "a2"]);
    expect([c.now, c.pending]).toEqual([15, 1]);
    c.advance(5);
    expect(seen).toEqual(["a", "a2", "b"]);
    expect(() => c.advance(-1)).toThrow(/EINVAL/);
    expect(() => c.schedule(1.5, () => {})).toThrow(/EINVAL/);
  });
});

describe("timing", () => {
  it("a latency and bandwidth model replaces edu's fixed 100 ms", () => {
    const vmm = new Vmm({ ram: 16 << 20 });
    const dev = new EduDevice(vmm, "0000:00:05.0", { timing: { latencyNs: 1000, bytesPerNs: 4 } });
    dev.mmioWrite(0x80, 0x1000);
    dev.mmioWrite(0x88, DMA_START);
    dev.mmioWrite(0x90, 4096);
    dev.mmioWrite(0x98, EDU_DMA_RUN);
    dev.clock.advance(2023); // 1000 + 4096 / 4 = 2024 ns
    expect(dev.mmioRead(0x98)).toBe(EDU_DMA_RUN);
    dev.clock.advance(1);
    expect(dev.mmioRead(0x98)).toBe(0);
    expect(() => new EduDevice(vmm, "x", { timing: { latencyNs: -1 } })).toThrow(/EINVAL/);
  });
});
