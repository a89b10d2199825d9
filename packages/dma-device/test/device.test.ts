// DMA masks: kernel/dma/mapping.c dma_set_mask / dma_set_coherent_mask, include/linux/dma-mapping.h
// dma_set_mask_and_coherent / dma_coerce_mask_and_coherent, kernel/dma/direct.c dma_direct_supported and
// dma_direct_get_required_mask, and the defaults of PCI, platform and root devices (spec §3.1).
import { KernelError } from "@kbridge/uapi";
import { Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_BIT_MASK,
  dma_coerce_mask_and_coherent,
  dma_get_mask,
  dma_get_required_mask,
  dma_set_coherent_mask,
  dma_set_mask,
  dma_set_mask_and_coherent,
  dma_supported,
} from "../src/index.js";

const vmm = new Vmm({ ram: 64 << 20 });

describe("DMA_BIT_MASK", () => {
  it("is (1 << n) - 1, and all ones for 64", () => {
    expect(DMA_BIT_MASK(24)).toBe(0xff_ffffn);
    expect(DMA_BIT_MASK(32)).toBe(0xffff_ffffn);
    expect(DMA_BIT_MASK(64)).toBe(0xffff_ffff_ffff_ffffn);
    expect(DMA_BIT_MASK(0)).toBe(0n);
    expect(() => DMA_BIT_MASK(65)).toThrow(KernelError);
    expect(() => DMA_BIT_MASK(1.5)).toThrow(KernelError);
  });
});

describe("default masks by how the device was made", () => {
  it("PCI: both masks 32-bit; platform: both 32-bit but separate; root: NULL dma_mask and coherent mask 0", () => {
    const pci = new Device(vmm, "0000:00:04.0", "pci");
    expect([pci.dma_mask, pci.coherent_dma_mask]).toEqual([DMA_BIT_MASK(32), DMA_BIT_MASK(32)]);
    const plat = new Device(vmm, "edu.0", "platform");
    expect(dma_set_mask(plat, DMA_BIT_MASK(64))).toBe(0);
    expect([plat.dma_mask, plat.coherent_dma_mask]).toEqual([DMA_BIT_MASK(64), DMA_BIT_MASK(32)]);
    const root = new Device(vmm, "article", "root");
    expect([root.dma_mask, root.coherent_dma_mask]).toEqual([undefined, 0n]);
    expect(dma_get_mask(root)).toBe(DMA_BIT_MASK(32)); // dma_get_mask() of a NULL pointer
  });
});

describe("setting masks", () => {
  it("dma_set_mask_and_coherent on a root device is -EIO and sets neither mask", () => {
    const root = new Device(vmm, "article", "root");
    expect(dma_set_mask_and_coherent(root, DMA_BIT_MASK(32))).toBe(-5);
    expect([root.dma_mask, root.coherent_dma_mask]).toEqual([undefined, 0n]);
    // dma_set_coherent_mask works without a dma_mask pointer.
    expect(dma_set_coherent_mask(root, DMA_BIT_MASK(32))).toBe(0);
    expect(root.coherent_dma_mask).toBe(DMA_BIT_MASK(32));
    expect(root.dma_mask).toBeUndefined();
  });

  it("dma_coerce_mask_and_coherent gives a bare device one mask for both", () => {
    const root = new Device(vmm, "article", "root");
    expect(dma_coerce_mask_and_coherent(root, DMA_BIT_MASK(40))).toBe(0);
    expect([root.dma_mask, root.coherent_dma_mask]).toEqual([DMA_BIT_MASK(40), DMA_BIT_MASK(40)]);
    expect(dma_set_mask(root, DMA_BIT_MASK(36))).toBe(0);
    expect(root.coherent_dma_mask).toBe(DMA_BIT_MASK(36)); // the same field now
  });

  it("dma_supported: 32 bits and more always; 24..31 bits on x86 (ZONE_DMA); fewer -EIO, masks unchanged", () => {
    const dev = new Device(vmm, "0000:00:05.0");
    for (const n of [24, 28, 31, 32, 40, 64]) expect(dma_supported(dev, DMA_BIT_MASK(n))).toBe(true);
    for (const n of [0, 16, 23]) expect(dma_supported(dev, DMA_BIT_MASK(n))).toBe(false);
    expect(dma_set_mask(dev, DMA_BIT_MASK(23))).toBe(-5);
    expect(dma_set_coherent_mask(dev, DMA_BIT_MASK(20))).toBe(-5);
    expect([dev.dma_mask, dev.coherent_dma_mask]).toEqual([DMA_BIT_MASK(32), DMA_BIT_MASK(32)]);
    expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(24))).toBe(0);
    expect([dev.dma_mask, dev.coherent_dma_mask]).toEqual([DMA_BIT_MASK(24), DMA_BIT_MASK(24)]);
    // A machine with less RAM than 16 MiB accepts a mask that covers its RAM (min(max RAM, zone_dma_limit)).
    const tiny = new Device(new Vmm({ ram: 4 << 20 }), "tiny");
    expect(dma_supported(tiny, DMA_BIT_MASK(22))).toBe(true);
    expect(dma_supported(tiny, DMA_BIT_MASK(21))).toBe(false);
  });

  it("masks wider than 64 bits are cut to dma_addr_t", () => {
    const dev = new Device(vmm, "0000:00:06.0");
    expect(dma_set_mask(dev, (1n << 70n) - 1n)).toBe(0);
    expect(dev.dma_mask).toBe(DMA_BIT_MASK(64));
  });

  it("dma_get_required_mask covers the highest RAM address", () => {
    expect(dma_get_required_mask(new Device(vmm, "a"))).toBe(DMA_BIT_MASK(26)); // 64 MiB
    const high = new Vmm({
      ranges: [
        { start: 0, size: 16 << 20 },
        { start: 2 ** 32, size: 16 << 20 },
      ],
    });
    expect(dma_get_required_mask(new Device(high, "b"))).toBe(DMA_BIT_MASK(33));
  });

  it("bad arguments are EINVAL", () => {
    const dev = new Device(vmm, "x");
    for (const f of [
      () => new Device(vmm, ""),
      () => new Device(vmm, "y", "usb" as never),
      () => new Device({} as never, "z"),
      () => dma_set_mask(dev, -1n),
      () => dma_set_mask({} as never, 1n),
      () => dma_set_coherent_mask(dev, "32" as never),
    ]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(KernelError.is(err, "EINVAL")).toBe(true);
    }
    expect([dev.dma_mask, dev.coherent_dma_mask]).toEqual([DMA_BIT_MASK(32), DMA_BIT_MASK(32)]);
  });
});
