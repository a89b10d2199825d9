// Coherent DMA memory (kernel/dma/mapping.c dma_alloc_attrs, kernel/dma/direct.c dma_direct_alloc and its zone
// ladder, dma_direct_mmap), spec §3.2-3.4.
import { KernelError } from "@kbridge/uapi";
import {
  __GFP_COMP,
  __GFP_DMA32,
  GFP_KERNEL,
  MAP_PRIVATE,
  MAP_SHARED,
  type MmapFile,
  PROT_READ,
  PROT_WRITE,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_IO,
  VM_PFNMAP,
  type Vma,
  Vmm,
} from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Device,
  DMA_BIT_MASK,
  dma_alloc_coherent,
  dma_free_coherent,
  dma_mmap_coherent,
  dma_set_coherent_mask,
} from "../src/index.js";

// 16 MiB below 16 MiB (ZONE_DMA), and 16 MiB at 4 GiB (ZONE_NORMAL): the allocator prefers the latter.
const machine = () =>
  new Vmm({
    ranges: [
      { start: 0, size: 16 << 20 },
      { start: 2 ** 32, size: 16 << 20 },
    ],
  });

describe("dma_alloc_coherent", () => {
  it("on a device without a coherent mask: one WARN and null (the source article's root device)", () => {
    const vmm = machine();
    const free0 = vmm.phys.freeFrames;
    const root = new Device(vmm, "article", "root");
    expect(dma_alloc_coherent(root, 4096, GFP_KERNEL)).toBeNull();
    expect(dma_alloc_coherent(root, 4096, GFP_KERNEL)).toBeNull();
    expect(vmm.dmesg()).toEqual([
      "WARNING: kernel/dma/mapping.c dma_alloc_attrs: article: WARN_ON_ONCE(!dev->coherent_dma_mask)",
    ]);
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("gives memory below the coherent mask, zeroed, aligned to its order, although RAM above 4 GiB is free", () => {
    const vmm = machine();
    const dev = new Device(vmm, "0000:00:04.0");
    // Dirty some low memory first, so that zeroing is visible.
    const p = vmm.phys.alloc_pages(__GFP_DMA32, 4);
    vmm.phys.view(p * 4096, 16 * 4096).fill(0xee);
    vmm.phys.__free_pages(p, 4);
    const a = dma_alloc_coherent(dev, 5 * 4096 + 1, GFP_KERNEL)!;
    expect(a.dma_handle < 2n ** 32n).toBe(true);
    expect(a.dma_handle % (8n * 4096n)).toBe(0n); // get_order(24577) = 3
    expect(a.cpu_addr).toBe(vmm.kmem.__va(Number(a.dma_handle)));
    // dma_direct_alloc zeroes PAGE_ALIGN(size), 6 pages; the rest of the order-3 block keeps what was there.
    expect(a.dma_handle >= BigInt(p * 4096) && a.dma_handle < BigInt((p + 16) * 4096)).toBe(true);
    expect(vmm.kmem.view(a.cpu_addr, 6 * 4096).every((b) => b === 0)).toBe(true);
    expect(vmm.kmem.view(a.cpu_addr + 6n * 4096n, 2 * 4096).every((b) => b === 0xee)).toBe(true);
    // A 64-bit device is served from ZONE_NORMAL, above 4 GiB.
    const wide = new Device(vmm, "0000:00:05.0");
    expect(dma_set_coherent_mask(wide, DMA_BIT_MASK(64))).toBe(0);
    const b = dma_alloc_coherent(wide, 4096, GFP_KERNEL)!;
    expect(b.dma_handle >= 2n ** 32n).toBe(true);
    // A 24-bit device gets ZONE_DMA.
    const isa = new Device(vmm, "isa");
    expect(dma_set_coherent_mask(isa, DMA_BIT_MASK(24))).toBe(0);
    expect(dma_alloc_coherent(isa, 4096, GFP_KERNEL)!.dma_handle < 1n << 24n).toBe(true);
  });

  it("ignores the caller's zone bits and refuses __GFP_COMP with a WARN", () => {
    const vmm = machine();
    const wide = new Device(vmm, "w");
    dma_set_coherent_mask(wide, DMA_BIT_MASK(64));
    expect(dma_alloc_coherent(wide, 4096, GFP_KERNEL | __GFP_DMA32)!.dma_handle >= 2n ** 32n).toBe(true);
    expect(dma_alloc_coherent(wide, 4096, GFP_KERNEL | __GFP_COMP)).toBeNull();
    expect(vmm.dmesg().at(-1)).toContain("WARN_ON_ONCE(flag & __GFP_COMP)");
  });

  it("returns null when no page below the mask is left, and gives everything back on free", () => {
    const vmm = new Vmm({ ram: 4 << 20 });
    const free0 = vmm.phys.freeFrames;
    const dev = new Device(vmm, "d");
    const bufs = [];
    for (;;) {
      const b = dma_alloc_coherent(dev, 64 * 4096, GFP_KERNEL);
      if (b === null) break;
      bufs.push(b);
    }
    expect(bufs.length).toBeGreaterThan(8);
    for (const b of bufs) dma_free_coherent(dev, 64 * 4096, b.cpu_addr, b.dma_handle);
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("dma_free_coherent ignores NULL and refuses a size that names another block", () => {
    const vmm = machine();
    const dev = new Device(vmm, "d");
    dma_free_coherent(dev, 4096, 0n, 0n);
    const a = dma_alloc_coherent(dev, 8192, GFP_KERNEL)!;
    expect(() => dma_free_coherent(dev, 4096 * 4, a.cpu_addr, a.dma_handle)).toThrow(KernelError);
    dma_free_coherent(dev, 8192, a.cpu_addr, a.dma_handle);
    expect(() => dma_alloc_coherent(dev, 0, GFP_KERNEL)).toThrow(KernelError);
  });
});

describe("dma_mmap_coherent (dma_direct_mmap)", () => {
  function setup(size: number) {
    const vmm = machine();
    const dev = new Device(vmm, "0000:00:04.0");
    const buf = dma_alloc_coherent(dev, size, GFP_KERNEL)!;
    const mm = vmm.mm_alloc();
    vmm.switch_mm(mm);
    const file: MmapFile = {
      readable: true,
      writable: true,
      mmap: (vma: Vma) => {
        const rc = dma_mmap_coherent(dev, vma, buf.cpu_addr, buf.dma_handle, size);
        if (rc !== 0) throw KernelError.fromReturn(rc, "dma_mmap_coherent");
      },
    };
    return { vmm, mm, buf, file };
  }

  it("maps the buffer: the process sees what the kernel writes, and the VMA is a PFN map", () => {
    const { vmm, mm, buf, file } = setup(3 * 4096);
    const user = mm.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, file);
    vmm.kmem.view(buf.cpu_addr + 8192n, 3).set([1, 2, 3]);
    expect([...vmm.userRead(user + 8192, 3)]).toEqual([1, 2, 3]);
    vmm.userWrite(user, Uint8Array.of(9));
    expect(vmm.kmem.view(buf.cpu_addr, 1)[0]).toBe(9);
    const vma = mm.vma_lookup(user)!;
    const want = VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
    expect(vma.vm_flags & want).toBe(want);
  });

  it("vm_pgoff is a page offset into the buffer; past the end or beyond it is ENXIO", () => {
    const { vmm, mm, buf, file } = setup(2 * 4096 + 10); // 3 pages
    vmm.kmem.view(buf.cpu_addr + 4096n, 1)[0] = 0x42;
    const at1 = mm.mmap(0, 4096, PROT_READ, MAP_SHARED, file, 4096);
    expect(vmm.userRead(at1, 1)[0]).toBe(0x42);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as KernelError).code;
      }
      return "ok";
    };
    expect(code(() => mm.mmap(0, 4 * 4096, PROT_READ, MAP_SHARED, file))).toBe("ENXIO");
    expect(code(() => mm.mmap(0, 4096, PROT_READ, MAP_SHARED, file, 3 * 4096))).toBe("ENXIO");
    expect(code(() => mm.mmap(0, 2 * 4096, PROT_READ, MAP_SHARED, file, 2 * 4096))).toBe("ENXIO");
    expect(code(() => mm.mmap(0, 2 * 4096, PROT_READ, MAP_SHARED, file, 1 * 4096))).toBe("ok");
    // A private mapping is copy-on-write: remap_pfn_range needs the whole VMA, which it is here.
    expect(code(() => mm.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, file))).toBe("ok");
  });
});
