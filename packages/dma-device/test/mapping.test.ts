// Streaming DMA with dma-direct and swiotlb (kernel/dma/mapping.c, kernel/dma/direct.h, kernel/dma/swiotlb.c).
import { GFP_DMA32, GFP_KERNEL, KernelOops, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_BIDIRECTIONAL,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_NONE,
  DMA_TO_DEVICE,
  type DmaDirection,
  dma_map_page,
  dma_map_single,
  dma_mapping_error,
  dma_set_mask,
  dma_sync_single_for_cpu,
  dma_sync_single_for_device,
  dma_unmap_single,
  IO_TLB_SEGSIZE,
  IO_TLB_SIZE,
  swiotlb_init,
  swiotlb_stats,
} from "../src/index.js";

// RAM below 16 MiB and at 4 GiB: a 32-bit device cannot reach kmalloc memory, which comes from above 4 GiB.
const highMachine = () =>
  new Vmm({
    ranges: [
      { start: 0, size: 16 << 20 },
      { start: 2 ** 32, size: 16 << 20 },
    ],
  });

// What the device does with a bus address: read or write RAM there (dma-direct: bus address = physical).
const deviceRead = (vmm: Vmm, addr: bigint, n: number) => [...vmm.phys.view(Number(addr), n)];
const deviceWrite = (vmm: Vmm, addr: bigint, bytes: number[]) =>
  vmm.phys.view(Number(addr), bytes.length).set(bytes);

describe("a buffer the device reaches: no bounce", () => {
  it("maps to its physical address in every direction; the device sees the CPU's bytes and vice versa", () => {
    const vmm = new Vmm({ ram: 32 << 20 });
    const dev = new Device(vmm, "0000:00:04.0");
    for (const dir of [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL] as DmaDirection[]) {
      const k = vmm.kmem.kmalloc(256);
      vmm.kmem.view(k, 3).set([1, 2, 3]);
      const a = dma_map_single(dev, k, 256, dir);
      expect(dma_mapping_error(dev, a)).toBe(0);
      expect(a).toBe(BigInt(vmm.kmem.__pa(k)));
      expect(deviceRead(vmm, a, 3)).toEqual([1, 2, 3]);
      deviceWrite(vmm, a, [9]);
      dma_unmap_single(dev, a, 256, dir);
      expect(vmm.kmem.view(k, 1)[0]).toBe(9);
    }
    expect(swiotlb_stats(vmm).nslabs).toBe(0); // no RAM above 4 GiB: no pool
  });
});

describe("swiotlb: a buffer above the mask is bounced", () => {
  it("copies to a slot at map for every direction, back at sync_for_cpu and unmap for FROM_DEVICE/BIDIRECTIONAL", () => {
    const vmm = highMachine();
    const dev = new Device(vmm, "0000:00:04.0");
    const k = vmm.kmem.kmalloc(3000);
    expect(vmm.kmem.__pa(k)).toBeGreaterThanOrEqual(2 ** 32);
    vmm.kmem.view(k, 3000).fill(7);
    const a = dma_map_single(dev, k, 3000, DMA_FROM_DEVICE);
    expect(a < 2n ** 32n).toBe(true);
    expect(deviceRead(vmm, a, 2)).toEqual([7, 7]); // bounced even for FROM_DEVICE
    expect(swiotlb_stats(vmm).used).toBe(2); // 3000 bytes = 2 slots of 2 KiB
    deviceWrite(vmm, a, [1, 2]);
    expect([...vmm.kmem.view(k, 2)]).toEqual([7, 7]); // not before the sync
    dma_sync_single_for_cpu(dev, a, 3000, DMA_FROM_DEVICE);
    expect([...vmm.kmem.view(k, 2)]).toEqual([1, 2]);
    // for_device does not copy for FROM_DEVICE; the CPU's writes stay in the buffer
    vmm.kmem.view(k, 1)[0] = 5;
    dma_sync_single_for_device(dev, a, 3000, DMA_FROM_DEVICE);
    expect(deviceRead(vmm, a, 1)).toEqual([1]);
    deviceWrite(vmm, a, [8]);
    dma_unmap_single(dev, a, 3000, DMA_FROM_DEVICE);
    expect(vmm.kmem.view(k, 1)[0]).toBe(8);
    expect(swiotlb_stats(vmm).used).toBe(0);
  });

  it("TO_DEVICE: sync_for_device copies the CPU's new bytes out, unmap copies nothing back", () => {
    const vmm = highMachine();
    const dev = new Device(vmm, "d");
    const k = vmm.kmem.kmalloc(64);
    vmm.kmem.view(k, 1)[0] = 1;
    const a = dma_map_single(dev, k, 64, DMA_TO_DEVICE);
    vmm.kmem.view(k, 1)[0] = 2;
    expect(deviceRead(vmm, a, 1)).toEqual([1]);
    dma_sync_single_for_device(dev, a, 64, DMA_TO_DEVICE);
    expect(deviceRead(vmm, a, 1)).toEqual([2]);
    deviceWrite(vmm, a, [3]);
    dma_unmap_single(dev, a, 64, DMA_TO_DEVICE);
    expect(vmm.kmem.view(k, 1)[0]).toBe(2);
  });

  it("DMA_ATTR_SKIP_CPU_SYNC on unmap leaves the buffer as it was", () => {
    const vmm = highMachine();
    const dev = new Device(vmm, "d");
    const k = vmm.kmem.kmalloc(64);
    const a = dma_map_single(dev, k, 64, DMA_BIDIRECTIONAL);
    deviceWrite(vmm, a, [4]);
    dma_unmap_single(dev, a, 64, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
    expect(vmm.kmem.view(k, 1)[0]).toBe(0);
  });

  it("slots of a page or more are page-aligned; a mapping never crosses a 128-slot segment", () => {
    const vmm = highMachine();
    swiotlb_init(vmm, { size: 1 << 20 }); // 512 slots, 4 segments
    const dev = new Device(vmm, "d");
    const small = dma_map_single(dev, vmm.kmem.kmalloc(100), 100, DMA_TO_DEVICE); // slot 0
    const page = dma_map_single(dev, vmm.kmem.kmalloc(4096), 4096, DMA_TO_DEVICE);
    expect(page % 4096n).toBe(0n);
    expect(page - small).toBe(4096n); // slot 1 is not page-aligned: slot 2
    // 128 slots fit in a segment only if it is empty: the next empty segment is used.
    const seg = IO_TLB_SEGSIZE * IO_TLB_SIZE;
    const p = vmm.phys.alloc_pages(GFP_KERNEL, 6); // 256 KiB above 4 GiB
    const whole = dma_map_page(dev, p, 0, seg, DMA_TO_DEVICE);
    expect((whole - BigInt(swiotlb_stats(vmm).start)) % BigInt(seg)).toBe(0n);
    expect(dma_map_page(dev, p, 0, seg + 1, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
  });

  it("a full pool: 'swiotlb buffer is full' in dmesg and DMA_MAPPING_ERROR; freeing makes room again", () => {
    const vmm = highMachine();
    swiotlb_init(vmm, { size: 1 << 20 });
    const dev = new Device(vmm, "0000:00:04.0");
    const p = vmm.phys.alloc_pages(GFP_KERNEL, 6);
    const maps = [0, 1, 2, 3].map(() => dma_map_page(dev, p, 0, 256 << 10, DMA_TO_DEVICE));
    expect(maps.every((m) => m !== DMA_MAPPING_ERROR)).toBe(true);
    const full = dma_map_page(dev, p, 0, 4096, DMA_TO_DEVICE);
    expect(dma_mapping_error(dev, full)).toBe(-12);
    expect(vmm.dmesg().at(-1)).toBe(
      "0000:00:04.0: swiotlb buffer is full (sz: 4096 bytes), total 512 (slots), used 512 (slots)",
    );
    dma_unmap_single(dev, maps[1]!, 256 << 10, DMA_TO_DEVICE);
    expect(dma_map_page(dev, p, 0, 4096, DMA_TO_DEVICE)).toBe(maps[1]);
  });

  it("swiotlb=force bounces even a reachable buffer", () => {
    const vmm = new Vmm({ ram: 32 << 20 });
    swiotlb_init(vmm, { size: 1 << 20, force: true });
    const dev = new Device(vmm, "d");
    const pfn = vmm.phys.alloc_pages(GFP_DMA32, 0);
    const a = dma_map_page(dev, pfn, 0, 512, DMA_TO_DEVICE);
    expect(a).not.toBe(BigInt(pfn * 4096));
    expect(swiotlb_stats(vmm).used).toBe(1);
  });
});

describe("without a pool", () => {
  it("a buffer beyond the mask is the kernel's 'DMA addr … overflow' WARN and DMA_MAPPING_ERROR", () => {
    const vmm = new Vmm({ ram: 64 << 20 });
    const isa = new Device(vmm, "isa");
    expect(dma_set_mask(isa, DMA_BIT_MASK(24))).toBe(0);
    const pfn = vmm.phys.alloc_pages(GFP_KERNEL, 0);
    expect(pfn * 4096).toBeGreaterThanOrEqual(16 << 20);
    expect(dma_map_page(isa, pfn, 0, 100, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(vmm.dmesg()).toEqual([
      `WARNING: kernel/dma/direct.h dma_direct_map_page: isa: DMA addr 0x${(pfn * 4096).toString(16).padStart(16, "0")}+100 overflow (mask ffffff, bus limit 0).`,
    ]);
  });

  it("a device without a dma_mask: WARN_ON_ONCE and DMA_MAPPING_ERROR", () => {
    const vmm = new Vmm({ ram: 16 << 20 });
    const root = new Device(vmm, "article", "root");
    expect(dma_map_single(root, vmm.kmem.kmalloc(8), 8, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(vmm.dmesg()[0]).toContain("WARN_ON_ONCE(!dev->dma_mask)");
  });
});

describe("directions", () => {
  it("DMA_NONE or a made-up direction is BUG_ON (a KernelOops)", () => {
    const vmm = new Vmm({ ram: 16 << 20 });
    const dev = new Device(vmm, "d");
    const k = vmm.kmem.kmalloc(8);
    expect(() => dma_map_single(dev, k, 8, DMA_NONE)).toThrow(KernelOops);
    expect(() => dma_map_single(dev, k, 8, 7 as DmaDirection)).toThrow(KernelOops);
    const a = dma_map_single(dev, k, 8, DMA_TO_DEVICE);
    expect(() => dma_sync_single_for_cpu(dev, a, 8, DMA_NONE)).toThrow(KernelOops);
    expect(() => dma_unmap_single(dev, a, 8, DMA_NONE)).toThrow(KernelOops);
  });
});
