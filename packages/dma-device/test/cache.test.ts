// A non-coherent device (arch_sync_dma_for_device / arch_sync_dma_for_cpu around the streaming calls): a driver that
// forgets a sync reads stale data; the right sequence fixes it. And the device's bus accesses.
import { GFP_KERNEL, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dma_alloc_coherent,
  dma_map_single,
  dma_mapping_error,
  dma_set_mask,
  dma_sync_single_for_cpu,
  dma_sync_single_for_device,
  dma_unmap_single,
} from "../src/index.js";

function setup(coherent: boolean) {
  const vmm = new Vmm({ ram: 32 << 20 });
  const dev = new Device(vmm, "0000:00:04.0", "pci", { coherent });
  const k = vmm.kmem.kmalloc(256);
  return { vmm, dev, k, cpu: vmm.kmem.view(k, 256) };
}

describe("device to CPU (DMA_FROM_DEVICE)", () => {
  it("without dma_sync_single_for_cpu the CPU reads its stale cache; with it, the device's bytes", () => {
    const { dev, k, cpu } = setup(false);
    cpu.fill(0xaa); // stale contents in the CPU's cache
    const a = dma_map_single(dev, k, 256, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, a)).toBe(0);
    dev.busWrite(a, Uint8Array.of(1, 2, 3, 4));
    expect([...cpu.subarray(0, 4)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]); // the bug: no sync yet
    dma_sync_single_for_cpu(dev, a, 256, DMA_FROM_DEVICE);
    expect([...cpu.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
    // Back to the device for the next transfer; unmap syncs for the CPU again.
    dma_sync_single_for_device(dev, a, 256, DMA_FROM_DEVICE);
    dev.busWrite(a, Uint8Array.of(5));
    dma_unmap_single(dev, a, 256, DMA_FROM_DEVICE);
    expect(cpu[0]).toBe(5);
  });

  it("a coherent device needs no sync to be seen", () => {
    const { dev, k, cpu } = setup(true);
    const a = dma_map_single(dev, k, 256, DMA_FROM_DEVICE);
    dma_mapping_error(dev, a);
    dev.busWrite(a, Uint8Array.of(7));
    expect(cpu[0]).toBe(7);
    dma_unmap_single(dev, a, 256, DMA_FROM_DEVICE);
  });
});

describe("CPU to device (DMA_TO_DEVICE)", () => {
  it("CPU writes after the map reach the device only after dma_sync_single_for_device", () => {
    const { dev, k, cpu } = setup(false);
    cpu.fill(1);
    const a = dma_map_single(dev, k, 256, DMA_TO_DEVICE); // map writes the cache back
    expect([...dev.busRead(a, 2)]).toEqual([1, 1]);
    cpu.fill(2); // the driver refills the buffer for the next transfer...
    expect([...dev.busRead(a, 2)]).toEqual([1, 1]); // ...and the device still reads the old bytes
    dma_sync_single_for_device(dev, a, 256, DMA_TO_DEVICE);
    expect([...dev.busRead(a, 2)]).toEqual([2, 2]);
    dma_unmap_single(dev, a, 256, DMA_TO_DEVICE);
  });
});

describe("coherent allocations", () => {
  it("are coherent even on a non-coherent device (uncached memory)", () => {
    const { vmm, dev } = setup(false);
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL)!;
    vmm.kmem.view(c.cpu_addr, 1)[0] = 9;
    expect(dev.busRead(c.dma_handle, 1)[0]).toBe(9);
    dev.busWrite(c.dma_handle + 1n, Uint8Array.of(8));
    expect(vmm.kmem.view(c.cpu_addr, 2)[1]).toBe(8);
  });
});

describe("bus accesses", () => {
  it("an address beyond the DMA mask is a target abort (EIO); bad arguments EINVAL", () => {
    const vmm = new Vmm({ ram: 64 << 20 });
    const isa = new Device(vmm, "isa");
    expect(dma_set_mask(isa, DMA_BIT_MASK(24))).toBe(0);
    expect(() => isa.busRead(0x1000000n, 4)).toThrow(/target abort/);
    expect(() => isa.busRead(0xfffffen, 4)).toThrow(/EIO/);
    expect([...isa.busRead(0xfffffcn, 4)]).toEqual([0, 0, 0, 0]);
    expect(() => isa.busWrite(0n, [1] as never)).toThrow(/EINVAL/);
    expect(() => isa.busRead(-1n, 1)).toThrow(/EINVAL/);
  });
});
