// dma-debug (kernel/dma/debug.c): each error class on purpose, with the kernel's message; a correct driver: none.
import { GFP_KERNEL, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
  device_release_driver,
  dma_alloc_coherent,
  dma_debug_config,
  dma_debug_entries,
  dma_debug_stats,
  dma_free_coherent,
  dma_map_single,
  dma_mapping_error,
  dma_sync_single_for_cpu,
  dma_sync_single_for_device,
  dma_unmap_single,
} from "../src/index.js";

function setup() {
  const vmm = new Vmm({ ram: 32 << 20 });
  dma_debug_config(vmm, { allErrors: true });
  const dev = new Device(vmm, "0000:00:04.0", "pci", { driver: "edu" });
  const k = vmm.kmem.kmalloc(4096);
  const pa = vmm.kmem.__pa(k);
  const hex = (n: number | bigint) => `0x${n.toString(16).padStart(16, "0")}`;
  return { vmm, dev, k, pa, hex };
}

describe("a correct driver", () => {
  it("maps, checks, syncs, unmaps, allocates and frees without a single report", () => {
    const { vmm, dev, k } = setup();
    const a = dma_map_single(dev, k, 4096, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, a)).toBe(0);
    dma_sync_single_for_cpu(dev, a, 4096, DMA_FROM_DEVICE);
    dma_sync_single_for_device(dev, a + 16n, 64, DMA_FROM_DEVICE);
    dma_unmap_single(dev, a, 4096, DMA_FROM_DEVICE);
    const c = dma_alloc_coherent(dev, 10000, GFP_KERNEL)!;
    dma_free_coherent(dev, 10000, c.cpu_addr, c.dma_handle);
    expect(device_release_driver(dev)).toBe(0);
    expect(vmm.dmesg()).toEqual([]);
    expect(dma_debug_stats(vmm)).toEqual({ errorCount: 0, entries: 0 });
  });
});

describe("each error class", () => {
  it("unmap of an address never mapped, and of DMA_MAPPING_ERROR", () => {
    const { vmm, dev } = setup();
    dma_unmap_single(dev, 0x123000n, 64, DMA_TO_DEVICE);
    dma_unmap_single(dev, DMA_MAPPING_ERROR, 64, DMA_TO_DEVICE);
    expect(vmm.dmesg()).toEqual([
      "DMA-API: edu 0000:00:04.0: device driver tries to free DMA memory it has not allocated [device address=0x0000000000123000] [size=64 bytes]",
      "DMA-API: edu 0000:00:04.0: device driver tries to free an invalid DMA memory address",
    ]);
  });

  it("a double unmap is memory it has not allocated", () => {
    const { vmm, dev, k, hex } = setup();
    const a = dma_map_single(dev, k, 64, DMA_TO_DEVICE);
    dma_mapping_error(dev, a);
    dma_unmap_single(dev, a, 64, DMA_TO_DEVICE);
    dma_unmap_single(dev, a, 64, DMA_TO_DEVICE);
    expect(vmm.dmesg()).toEqual([
      `DMA-API: edu 0000:00:04.0: device driver tries to free DMA memory it has not allocated [device address=${hex(a)}] [size=64 bytes]`,
    ]);
  });

  it("unmap with another size and direction, without a dma_mapping_error check: three reports in kernel order", () => {
    const { vmm, dev, k, hex } = setup();
    const a = dma_map_single(dev, k, 128, DMA_TO_DEVICE);
    dma_unmap_single(dev, a, 64, DMA_FROM_DEVICE);
    expect(vmm.dmesg()).toEqual([
      `DMA-API: edu 0000:00:04.0: device driver frees DMA memory with different size [device address=${hex(a)}] [map size=128 bytes] [unmap size=64 bytes]`,
      `DMA-API: edu 0000:00:04.0: device driver frees DMA memory with different direction [device address=${hex(a)}] [size=64 bytes] [mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]`,
      `DMA-API: edu 0000:00:04.0: device driver failed to check map error[device address=${hex(a)}] [size=64 bytes] [mapped as single]`,
    ]);
  });

  it("coherent memory given back with dma_unmap_single is the wrong function", () => {
    const { vmm, dev, hex } = setup();
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    dma_unmap_single(dev, c.dma_handle, 4096, DMA_BIDIRECTIONAL);
    expect(vmm.dmesg()).toEqual([
      `DMA-API: edu 0000:00:04.0: device driver frees DMA memory with wrong function [device address=${hex(c.dma_handle)}] [size=4096 bytes] [mapped as coherent] [unmapped as single]`,
    ]);
  });

  it("dma_free_coherent with another CPU address", () => {
    const { vmm, dev, hex } = setup();
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    dma_free_coherent(dev, 4096, c.cpu_addr + 4096n, c.dma_handle);
    const pa = vmm.kmem.__pa(c.cpu_addr);
    expect(vmm.dmesg()).toEqual([
      `DMA-API: edu 0000:00:04.0: device driver frees DMA memory with different CPU address [device address=${hex(c.dma_handle)}] [size=4096 bytes] [cpu alloc address=0x${hex(pa)}] [cpu free address=0x${hex(pa + 4096)}]`,
    ]);
  });

  it("syncs: outside any mapping, with another direction, read-only for cpu, write-only to device", () => {
    const { vmm, dev, k, hex } = setup();
    const to = dma_map_single(dev, k, 256, DMA_TO_DEVICE);
    dma_mapping_error(dev, to);
    dma_sync_single_for_cpu(dev, to + 200n, 100, DMA_TO_DEVICE); // past the end
    dma_sync_single_for_cpu(dev, to, 256, DMA_FROM_DEVICE);
    const from = dma_map_single(dev, k + 1024n, 256, DMA_FROM_DEVICE);
    dma_mapping_error(dev, from);
    dma_sync_single_for_device(dev, from, 256, DMA_TO_DEVICE);
    expect(vmm.dmesg()).toEqual([
      `DMA-API: edu 0000:00:04.0: device driver tries to sync DMA memory it has not allocated [device address=${hex(to + 200n)}] [size=100 bytes]`,
      `DMA-API: edu 0000:00:04.0: device driver syncs DMA memory with different direction [device address=${hex(to)}] [size=256 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]`,
      `DMA-API: edu 0000:00:04.0: device driver syncs device read-only DMA memory for cpu [device address=${hex(to)}] [size=256 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]`,
      `DMA-API: edu 0000:00:04.0: device driver syncs DMA memory with different direction [device address=${hex(from)}] [size=256 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]`,
      `DMA-API: edu 0000:00:04.0: device driver syncs device write-only DMA memory to device [device address=${hex(from)}] [size=256 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]`,
    ]);
  });

  it("leaks at driver unbind", () => {
    const { vmm, dev, k, hex } = setup();
    const a = dma_map_single(dev, k, 64, DMA_TO_DEVICE);
    dma_alloc_coherent(dev, 4096, GFP_KERNEL);
    expect(device_release_driver(dev)).toBe(2);
    expect(dma_debug_entries(dev)).toHaveLength(2);
    expect(vmm.dmesg()).toEqual([
      `DMA-API: edu 0000:00:04.0: device driver has pending DMA allocations while released from device [count=2]\nOne of leaked entries details: [device address=${hex(a)}] [size=64 bytes] [mapped with DMA_TO_DEVICE] [mapped as single]`,
    ]);
  });
});

describe("reporting", () => {
  it("prints only the first error by default (show_num_errors = 1) but counts them all", () => {
    const vmm = new Vmm({ ram: 16 << 20 });
    const dev = new Device(vmm, "0000:00:04.0"); // no driver bound: the bus name
    dma_unmap_single(dev, 0x1000n, 8, DMA_TO_DEVICE);
    dma_unmap_single(dev, 0x2000n, 8, DMA_TO_DEVICE);
    expect(vmm.dmesg()).toEqual([
      "DMA-API: pci 0000:00:04.0: device driver tries to free DMA memory it has not allocated [device address=0x0000000000001000] [size=8 bytes]",
    ]);
    expect(dma_debug_stats(vmm).errorCount).toBe(2);
    dma_debug_config(vmm, { numErrors: 1 });
    dma_unmap_single(dev, 0x3000n, 8, DMA_TO_DEVICE);
    expect(vmm.dmesg()).toHaveLength(2);
    expect(() => dma_debug_config(vmm, { numErrors: -1 })).toThrow();
  });
});

describe("cacheline tracking (add_dma_entry → active_cacheline_insert)", () => {
  it("two mappings the device may write starting in one cacheline: EEXIST; TO_DEVICE or SKIP_CPU_SYNC: none", () => {
    const { vmm, dev, k } = setup();
    const a = dma_map_single(dev, k, 32, DMA_FROM_DEVICE);
    const b = dma_map_single(dev, k + 16n, 16, DMA_TO_DEVICE); // the device only reads: not tracked
    const c = dma_map_single(dev, k + 64n, 16, DMA_FROM_DEVICE); // the next cacheline
    expect(vmm.dmesg()).toEqual([]);
    const d = dma_map_single(dev, k + 32n, 16, DMA_BIDIRECTIONAL); // same first cacheline as `a`
    expect(vmm.dmesg()).toEqual([
      "DMA-API: edu 0000:00:04.0: cacheline tracking EEXIST, overlapping mappings aren't supported",
    ]);
    const e = dma_map_single(dev, k + 48n, 16, DMA_FROM_DEVICE, 1 << 5); // DMA_ATTR_SKIP_CPU_SYNC
    expect(vmm.dmesg()).toHaveLength(1);
    for (const [x, n, dir] of [
      [a, 32, DMA_FROM_DEVICE],
      [b, 16, DMA_TO_DEVICE],
      [c, 16, DMA_FROM_DEVICE],
      [d, 16, DMA_BIDIRECTIONAL],
      [e, 16, DMA_FROM_DEVICE],
    ] as const) {
      dma_mapping_error(dev, x);
      dma_unmap_single(dev, x, n, dir);
    }
    expect(dma_debug_stats(vmm).entries).toBe(0);
  });
});
