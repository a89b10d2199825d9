// Scatter-gather with dma-direct (kernel/dma/direct.c dma_direct_map_sg): one segment per entry, bounced where
// needed; dma-debug's entry-count check on unmap.
import { GFP_KERNEL, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dma_alloc_coherent,
  dma_debug_config,
  dma_debug_stats,
  dma_get_sgtable,
  dma_map_sg,
  dma_unmap_sg,
  type ScatterList,
  swiotlb_init,
  swiotlb_stats,
} from "../src/index.js";

describe("dma_map_sg", () => {
  it("maps each entry (no merging without an IOMMU) and returns nents; contiguous entries stay separate", () => {
    const vmm = new Vmm({ ram: 32 << 20 });
    const dev = new Device(vmm, "0000:00:04.0");
    const p = vmm.phys.alloc_pages(GFP_KERNEL, 1);
    const sg: ScatterList[] = [
      { pfn: p, offset: 0, length: 4096 },
      { pfn: p + 1, offset: 0, length: 100 },
    ];
    expect(dma_map_sg(dev, sg, 2, DMA_TO_DEVICE)).toBe(2);
    expect(sg.map((s) => [s.dma_address, s.dma_length])).toEqual([
      [BigInt(p * 4096), 4096],
      [BigInt((p + 1) * 4096), 100],
    ]);
    dma_unmap_sg(dev, sg, 2, DMA_TO_DEVICE);
    expect(dma_debug_stats(vmm)).toEqual({ errorCount: 0, entries: 0 });
  });

  it("bounces entries above the mask and copies FROM_DEVICE data back on unmap", () => {
    const vmm = new Vmm({
      ranges: [
        { start: 0, size: 16 << 20 },
        { start: 2 ** 32, size: 16 << 20 },
      ],
    });
    swiotlb_init(vmm, { size: 1 << 20 });
    const dev = new Device(vmm, "d");
    const p = vmm.phys.alloc_pages(GFP_KERNEL, 0); // above 4 GiB
    const sg: ScatterList[] = [{ pfn: p, offset: 16, length: 64 }];
    expect(dma_map_sg(dev, sg, 1, DMA_FROM_DEVICE)).toBe(1);
    expect(sg[0]!.dma_address! < 2n ** 32n).toBe(true);
    dev.busWrite(sg[0]!.dma_address!, Uint8Array.of(3, 4));
    dma_unmap_sg(dev, sg, 1, DMA_FROM_DEVICE);
    expect([...vmm.phys.view(p * 4096 + 16, 2)]).toEqual([3, 4]);
    expect(swiotlb_stats(vmm).used).toBe(0);
  });

  it("returns 0 when an entry cannot be mapped, and unmaps the ones before it", () => {
    const vmm = new Vmm({
      ranges: [
        { start: 0, size: 16 << 20 },
        { start: 2 ** 32, size: 16 << 20 },
      ],
    });
    swiotlb_init(vmm, { size: 1 << 20 });
    const dev = new Device(vmm, "d");
    const p = vmm.phys.alloc_pages(GFP_KERNEL, 7); // 512 KiB: more than a segment
    const sg: ScatterList[] = [
      { pfn: p, offset: 0, length: 4096 },
      { pfn: p + 1, offset: 0, length: 300 << 10 },
    ];
    expect(dma_map_sg(dev, sg, 2, DMA_TO_DEVICE)).toBe(0);
    expect(swiotlb_stats(vmm).used).toBe(0);
    expect(dma_debug_stats(vmm).entries).toBe(0);
  });

  it("dma-debug: unmapping with another nents than the map call is reported", () => {
    const vmm = new Vmm({ ram: 32 << 20 });
    dma_debug_config(vmm, { allErrors: true });
    const dev = new Device(vmm, "0000:00:04.0", "pci", { driver: "edu" });
    const p = vmm.phys.alloc_pages(GFP_KERNEL, 1);
    const sg: ScatterList[] = [
      { pfn: p, offset: 0, length: 512 },
      { pfn: p + 1, offset: 0, length: 512 },
    ];
    dma_map_sg(dev, sg, 2, DMA_TO_DEVICE);
    dma_unmap_sg(dev, sg, 1, DMA_TO_DEVICE);
    expect(vmm.dmesg()).toEqual([
      "DMA-API: edu 0000:00:04.0: device driver frees DMA sg list with different entry count [map count=2] [unmap count=1]",
    ]);
  });
});

describe("dma_get_sgtable", () => {
  it("describes a coherent buffer as one entry of PAGE_ALIGN(size) at its frame", () => {
    const vmm = new Vmm({ ram: 32 << 20 });
    const dev = new Device(vmm, "d");
    const c = dma_alloc_coherent(dev, 5000, GFP_KERNEL)!;
    const sgt: ScatterList[] = [];
    expect(dma_get_sgtable(dev, sgt, c.cpu_addr, c.dma_handle, 5000)).toBe(0);
    expect(sgt).toEqual([{ pfn: Number(c.dma_handle / 4096n), offset: 0, length: 8192 }]);
    expect(() => dma_get_sgtable(dev, sgt, c.cpu_addr, c.dma_handle + 1n, 5000)).toThrow(/EINVAL/);
  });
});
