// Property: random sequences of map / device write / sync / CPU write / unmap on coherent and non-coherent devices,
// with buffers below and above the mask (swiotlb), never corrupt memory — what a correct driver reads is what the
// device or the CPU wrote last — and leave no mapping, slot or dma-debug entry behind.

import { Vmm } from "@kbridge/vmm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  type DmaDirection,
  dma_debug_stats,
  dma_map_single,
  dma_mapping_error,
  dma_sync_single_for_cpu,
  dma_sync_single_for_device,
  dma_unmap_single,
  swiotlb_init,
  swiotlb_stats,
} from "../src/index.js";

type Cmd =
  | { kind: "map"; buf: number; dir: DmaDirection }
  | { kind: "device-write"; buf: number; at: number; byte: number }
  | { kind: "cpu-write"; buf: number; at: number; byte: number }
  | { kind: "unmap"; buf: number };

const N = 4; // buffers, of 64..3000 bytes, half of them above 4 GiB
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({
    kind: fc.constant("map" as const),
    buf: fc.nat(N - 1),
    dir: fc.constantFrom(DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL) as fc.Arbitrary<DmaDirection>,
  }),
  fc.record({
    kind: fc.constant("device-write" as const),
    buf: fc.nat(N - 1),
    at: fc.nat(63),
    byte: fc.nat(255),
  }),
  fc.record({
    kind: fc.constant("cpu-write" as const),
    buf: fc.nat(N - 1),
    at: fc.nat(63),
    byte: fc.nat(255),
  }),
  fc.record({ kind: fc.constant("unmap" as const), buf: fc.nat(N - 1) }),
);

function run(coherent: boolean, cmds: Cmd[]): void {
  const vmm = new Vmm({
    ranges: [
      { start: 0, size: 8 << 20 },
      { start: 2 ** 32, size: 8 << 20 },
    ],
  });
  swiotlb_init(vmm, { size: 1 << 20 });
  const dev = new Device(vmm, "0000:00:04.0", "pci", { coherent });
  const sizes = [64, 700, 3000, 200];
  // Buffers 0 and 1 below 4 GiB (reachable), 2 and 3 above (bounced).
  const bufs = sizes.map((size, i) => {
    const pfn = vmm.phys.alloc_pages(i < 2 ? 0x4 : 0, 0);
    return { phys: pfn * 4096, size, map: undefined as undefined | { addr: bigint; dir: DmaDirection } };
  });
  // The reference: what the buffer holds for a correct driver.
  const model = bufs.map((b) => new Uint8Array(b.size));
  for (const c of cmds) {
    const b = bufs[c.buf]!;
    const m = model[c.buf]!;
    if (c.kind === "map") {
      if (b.map) continue;
      const addr = dma_map_single(dev, vmm.kmem.__va(b.phys), b.size, c.dir);
      expect(dma_mapping_error(dev, addr)).toBe(0);
      b.map = { addr, dir: c.dir };
    } else if (c.kind === "device-write") {
      if (!b.map || b.map.dir === DMA_TO_DEVICE) continue; // the device writes only what it may write
      dev.busWrite(b.map.addr + BigInt(c.at), Uint8Array.of(c.byte));
      m[c.at] = c.byte;
      dma_sync_single_for_cpu(dev, b.map.addr, b.size, b.map.dir); // a correct driver syncs before it reads
      expect(vmm.phys.view(b.phys + c.at, 1)[0]).toBe(c.byte);
      dma_sync_single_for_device(dev, b.map.addr, b.size, b.map.dir);
    } else if (c.kind === "cpu-write") {
      if (b.map && b.map.dir === DMA_FROM_DEVICE) continue; // the CPU does not write what the device fills
      if (b.map) dma_sync_single_for_cpu(dev, b.map.addr, b.size, b.map.dir);
      vmm.phys.view(b.phys + c.at, 1)[0] = c.byte;
      m[c.at] = c.byte;
      if (b.map) {
        dma_sync_single_for_device(dev, b.map.addr, b.size, b.map.dir);
        expect(dev.busRead(b.map.addr + BigInt(c.at), 1)[0]).toBe(c.byte);
      }
    } else if (b.map) {
      dma_unmap_single(dev, b.map.addr, b.size, b.map.dir);
      b.map = undefined;
    }
  }
  for (const b of bufs) if (b.map) dma_unmap_single(dev, b.map.addr, b.size, b.map.dir);
  bufs.forEach((b, i) => {
    expect(vmm.phys.view(b.phys, b.size)).toEqual(model[i]);
  });
  expect(swiotlb_stats(vmm).used).toBe(0);
  expect(dma_debug_stats(vmm)).toEqual({ errorCount: 0, entries: 0 });
  expect(vmm.dmesg()).toEqual([]);
}

describe("streaming DMA against a reference", () => {
  it("coherent and non-coherent devices, reachable and bounced buffers: no corruption, nothing left mapped", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(cmd, { minLength: 10, maxLength: 40, size: "max" }),
        (coherent, cmds) => run(coherent, cmds),
      ),
      { numRuns: 150, seed: 0x646d61 },
    );
  }, 30_000);
});
