// PhysicalMemory against mm/page_alloc.c (6.12): __rmqueue_smallest + expand() (split, upper halves back on the free
// lists), __free_one_page() (buddy merging), __free_pages() (the tail halves of a non-compound block with other
// references), gfp_zone() + the zonelist fallback, GFP_ZONE_BAD (include/linux/gfp.h), and /proc/buddyinfo
// (mm/vmstat.c frag_show_print: "Node %d, zone %8s " then "%6lu " per order).
import { describe, expect, it } from "vitest";
import {
  __GFP_COMP,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER,
  GFP_KERNEL,
  GFP_USER,
  MAX_PAGE_ORDER,
  Page,
  PhysicalMemory,
} from "../src/index.js";
import { kerr } from "./kerr.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** `__GFP_ACCOUNT` (___GFP_ACCOUNT_BIT 22): GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT. */
const __GFP_ACCOUNT = 0x400000;

/** One /proc/buddyinfo line: counts for orders 0..10. */
function line(zone: string, counts: readonly number[]): string {
  expect(counts).toHaveLength(MAX_PAGE_ORDER + 1);
  return `Node 0, zone ${zone.padStart(8)} ${counts.map((c) => `${String(c).padStart(6)} `).join("")}\n`;
}

/** Runs `fn`, which must throw a KernelError with `code`; returns it. */

/** Everything observable about the allocator, to check that a failed call changed nothing. */
function snapshot(m: PhysicalMemory, pfns: readonly number[] = []): string {
  return JSON.stringify({ b: m.buddyinfo(), s: m.stats(), r: pfns.map((p) => m.page_ref_count(p)) });
}

/** 16 MiB in each zone: DMA [0, 16 MiB), DMA32 [16 MiB, 32 MiB), Normal [4 GiB, 4 GiB + 16 MiB). */
function threeZones(): PhysicalMemory {
  // Given out of order: the constructor sorts them.
  return new PhysicalMemory({
    ranges: [
      { start: 4 * GiB, size: 16 * MiB },
      { start: 0, size: 16 * MiB },
      { start: 16 * MiB, size: 16 * MiB },
    ],
  });
}

const DMA_END = 4096; // pfn of 16 MiB (MAX_DMA_PFN)
const DMA32_END = 0x100000; // pfn of 4 GiB (MAX_DMA32_PFN)

describe("gfp constants (include/linux/gfp_types.h)", () => {
  it("have the kernel's values", () => {
    expect(GFP_KERNEL).toBe(0xcc0);
    expect(GFP_ATOMIC).toBe(0x820);
    expect(GFP_USER).toBe(0x100cc0);
    expect(GFP_HIGHUSER).toBe(0x100cc2);
    expect(GFP_DMA).toBe(0x1);
    expect(GFP_DMA32).toBe(0x4);
    expect(__GFP_ZERO).toBe(0x100);
    expect(__GFP_COMP).toBe(0x40000);
    expect(__GFP_MOVABLE).toBe(0x8);
    expect(MAX_PAGE_ORDER).toBe(10);
  });
});

describe("boot: memblock_free_all() hands the RAM over in the largest aligned blocks", () => {
  it("16 MiB from 0 is four order-10 blocks in ZONE_DMA", () => {
    const m = new PhysicalMemory({ size: 16 * MiB });
    expect(m.buddyinfo()).toBe(
      "Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      4 \n",
    );
    const s = m.stats();
    expect(s.totalFrames).toBe(4096);
    expect(s.freeFrames).toBe(4096);
    expect(s.usedFrames).toBe(0);
    expect(s.allocations).toBe(0);
    expect(s.failures).toBe(0);
    expect(s.zones).toEqual({
      DMA: { frames: 4096, free: 4096 },
      DMA32: { frames: 0, free: 0 },
      Normal: { frames: 0, free: 0 },
    });
    expect(m.freeFrames).toBe(4096);
    expect(m.totalFrames).toBe(4096);
    expect(m.ram.byteLength).toBe(16 * MiB);
    expect(m.ram32.length).toBe(4 * MiB);
  });

  it("an unaligned range is cut at its alignment: 4 KiB..4 MiB is one block of each order 0..9", () => {
    const m = new PhysicalMemory({ ranges: [{ start: 0x1000, size: 4 * MiB - 0x1000 }] });
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
    expect(m.stats().totalFrames).toBe(1023);
    expect(m.pfn_valid(0)).toBe(false);
    expect(m.pfn_valid(1)).toBe(true);
    expect(m.pfn_valid(1023)).toBe(true);
    expect(m.pfn_valid(1024)).toBe(false);
    // pfn 512 heads the order-9 block, pfn 1 the order-0 one.
    expect(m.isBuddy(512)).toBe(true);
    expect(m.isBuddy(1)).toBe(true);
    expect(m.isBuddy(3)).toBe(false);
  });

  it("a range across 16 MiB is split at the zone boundary", () => {
    // 12 MiB .. 20 MiB: pfns 3072..4095 in DMA, 4096..5119 in DMA32.
    const m = new PhysicalMemory({ ranges: [{ start: 12 * MiB, size: 8 * MiB }] });
    expect(m.buddyinfo()).toBe(
      line("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) + line("DMA32", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    );
    expect(m.stats().zones.DMA).toEqual({ frames: 1024, free: 1024 });
    expect(m.stats().zones.DMA32).toEqual({ frames: 1024, free: 1024 });
  });

  it("three zones print three lines in zone order; an empty zone prints none", () => {
    expect(threeZones().buddyinfo()).toBe(
      line("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]) +
        line("DMA32", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]) +
        line("Normal", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]),
    );
    const m = new PhysicalMemory({
      ranges: [
        { start: 0, size: 16 * MiB },
        { start: 4 * GiB, size: 16 * MiB },
      ],
    });
    expect(m.buddyinfo()).toBe(
      "Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      4 \n" +
        "Node 0, zone   Normal      0      0      0      0      0      0      0      0      0      0      4 \n",
    );
    expect(m.ranges).toEqual([
      { start: 0, size: 16 * MiB },
      { start: 4 * GiB, size: 16 * MiB },
    ]);
  });

  it("rejects unaligned, empty, overlapping and oversized ranges with EINVAL", () => {
    kerr(() => new PhysicalMemory({ ranges: [{ start: 0x800, size: MiB }] }), "EINVAL");
    kerr(() => new PhysicalMemory({ ranges: [{ start: 0, size: MiB + 1 }] }), "EINVAL");
    kerr(() => new PhysicalMemory({ ranges: [{ start: 0, size: 0 }] }), "EINVAL");
    kerr(() => new PhysicalMemory({ ranges: [{ start: -4096, size: MiB }] }), "EINVAL");
    kerr(() => new PhysicalMemory({ ranges: [] }), "EINVAL");
    kerr(
      () =>
        new PhysicalMemory({
          ranges: [
            { start: 0, size: 2 * MiB },
            { start: MiB, size: 2 * MiB },
          ],
        }),
      "EINVAL",
    );
    kerr(() => new PhysicalMemory({ ranges: [{ start: 2 ** 52 - MiB, size: 2 * MiB }] }), "EINVAL");
    kerr(() => new PhysicalMemory({ size: 8 * GiB }), "EINVAL");
  });
});

describe("alloc_pages: __rmqueue_smallest + expand()", () => {
  it("splits the smallest free block that fits and puts the upper halves back, order by order", () => {
    const m = new PhysicalMemory({ size: 16 * MiB });
    // The free lists are LIFO: the block pushed last (pfn 3072, the highest order-10 block) is taken first.
    const a = m.alloc_pages(GFP_KERNEL, 0);
    expect(a).toBe(3072);
    // 3072's order-10 block was halved ten times: 3584 (9), 3328 (8), ..., 3074 (1), 3073 (0) went back.
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]));
    for (const [pfn, buddy] of [
      [3073, true],
      [3074, true],
      [3076, true],
      [3080, true],
      [3584, true],
      [3072, false],
      [3075, false],
    ] as const)
      expect(m.isBuddy(pfn), `pfn ${pfn}`).toBe(buddy);
    expect(m.page_ref_count(a)).toBe(1);

    // An exact fit: the order-3 block at 3080, nothing split.
    expect(m.alloc_pages(GFP_KERNEL, 3)).toBe(3080);
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 3]));
    expect(m.alloc_pages(GFP_KERNEL, 1)).toBe(3074);
    expect(m.buddyinfo()).toBe(line("DMA", [1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 3]));
    // No order-1 block is left: the order-2 block at 3076 is the smallest that fits; 3078 goes back.
    expect(m.alloc_pages(GFP_KERNEL, 1)).toBe(3076);
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 3]));
    // Order 2 now needs the order-4 block at 3088: 3088 is taken, 3096 (3) and 3092 (2) go back.
    expect(m.alloc_pages(GFP_KERNEL, 2)).toBe(3088);
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 3]));
    expect(m.isBuddy(3096)).toBe(true);
    expect(m.isBuddy(3092)).toBe(true);
    const s = m.stats();
    expect(s.allocations).toBe(5);
    expect(s.usedFrames).toBe(1 + 8 + 2 + 2 + 4);
    expect(s.freeFrames).toBe(4096 - 17);
    expect(s.zones.DMA.free).toBe(4096 - 17);
  });

  it("an order-10 request takes a whole block; alloc_page is order 0", () => {
    const m = new PhysicalMemory({ size: 8 * MiB });
    expect(m.alloc_pages(GFP_KERNEL, MAX_PAGE_ORDER)).toBe(1024);
    expect(m.buddyinfo()).toBe(line("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    expect(m.alloc_page(GFP_KERNEL)).toBe(0);
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
  });

  it("ENOMEM is a KernelError that leaves the free lists unchanged and counts a failure", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const p = m.alloc_pages(GFP_KERNEL, 9);
    expect(p).toBe(0);
    const before = m.stats();
    const info = m.buddyinfo();
    const e = kerr(() => m.alloc_pages(GFP_KERNEL, 10), "ENOMEM");
    expect(e.errno).toBe(12);
    expect(e.op).toBe("alloc_pages");
    expect(m.buddyinfo()).toBe(info);
    expect(m.stats()).toEqual({ ...before, failures: before.failures + 1 });
    // The order-9 block that is left still serves an order-9 request.
    expect(m.alloc_pages(GFP_KERNEL, 9)).toBe(512);
    kerr(() => m.alloc_page(GFP_KERNEL), "ENOMEM");
    expect(m.stats().failures).toBe(2);
    expect(m.stats().freeFrames).toBe(0);
    expect(m.buddyinfo()).toBe(line("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  });
});

describe("freeing: __free_one_page() merges buddies", () => {
  it("freeing everything, in any order, restores the boot buddyinfo", () => {
    const m = new PhysicalMemory({ size: 16 * MiB });
    const initial = m.buddyinfo();
    const blocks: [number, number][] = [];
    for (const order of [0, 3, 1, 1, 2, 0, 5, 10, 0, 4, 2])
      blocks.push([m.alloc_pages(GFP_KERNEL, order), order]);
    expect(m.stats().usedFrames).toBe(1 + 8 + 2 + 2 + 4 + 1 + 32 + 1024 + 1 + 16 + 4);
    expect(m.buddyinfo()).not.toBe(initial);
    // Free in an interleaved order: every other block first, then the rest backwards.
    const order = [
      ...blocks.filter((_, i) => i % 2 === 0),
      ...blocks.filter((_, i) => i % 2 === 1).reverse(),
    ];
    for (const [pfn, o] of order) m.__free_pages(pfn, o);
    expect(m.buddyinfo()).toBe(initial);
    const s = m.stats();
    expect(s.freeFrames).toBe(4096);
    expect(s.usedFrames).toBe(0);
    expect(s.allocations).toBe(11);
  });

  it("a freed block merges only with a free buddy of the same order", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const a = m.alloc_page(GFP_KERNEL); // 0
    const b = m.alloc_page(GFP_KERNEL); // 1
    const c = m.alloc_pages(GFP_KERNEL, 1); // 2..3
    expect([a, b, c]).toEqual([0, 1, 2]);
    expect(m.buddyinfo()).toBe(line("DMA", [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
    m.__free_page(b); // buddy 0 is allocated: stays an order-0 block
    expect(m.buddyinfo()).toBe(line("DMA", [1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
    expect(m.isBuddy(1)).toBe(true);
    m.__free_page(a); // 0+1 -> order 1 at 0; its buddy 2 (order 1) is allocated
    expect(m.buddyinfo()).toBe(line("DMA", [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
    expect(m.isBuddy(0)).toBe(true);
    expect(m.isBuddy(1)).toBe(false);
    m.__free_pages(c, 1); // 0..3 -> 0..7 -> ... -> the whole order-10 block
    expect(m.buddyinfo()).toBe(line("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    expect(m.isBuddy(0)).toBe(true);
    expect(m.isBuddy(2)).toBe(false);
  });

  it("buddies are not merged across a zone boundary", () => {
    // 15 MiB .. 17 MiB: pfn 3840..4095 (DMA) and 4096..4351 (DMA32) would be order-8 buddies of an order-9 block.
    const m = new PhysicalMemory({ ranges: [{ start: 15 * MiB, size: 2 * MiB }] });
    const initial =
      line("DMA", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]) + line("DMA32", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(m.buddyinfo()).toBe(initial);
    const p = m.alloc_page(GFP_DMA);
    expect(p).toBe(3840);
    m.__free_page(p);
    expect(m.buddyinfo()).toBe(initial);
  });

  it("merges blocks at physical addresses of 8 TiB and more (pfn >= 2^31)", () => {
    const base = 2 ** 43; // pfn 2^31
    const m = new PhysicalMemory({ ranges: [{ start: base, size: 4 * MiB }] });
    const initial = m.buddyinfo();
    expect(initial).toBe(line("Normal", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    const p = m.alloc_page(GFP_KERNEL);
    expect(p).toBe(2 ** 31);
    const q = m.alloc_pages(GFP_KERNEL, 3);
    expect(q).toBe(2 ** 31 + 8);
    m.__free_page(p);
    m.__free_pages(q, 3);
    expect(m.buddyinfo()).toBe(initial);
    expect(m.isBuddy(2 ** 31)).toBe(true);
  });
});

describe("zones: gfp_zone() and the zonelist fallback", () => {
  it("GFP_KERNEL prefers Normal, __GFP_DMA32 gets < 4 GiB, __GFP_DMA < 16 MiB", () => {
    const m = threeZones();
    const normal = m.alloc_page(GFP_KERNEL);
    expect(normal).toBeGreaterThanOrEqual(DMA32_END);
    expect(normal).toBe(DMA32_END + 3072);
    expect(m.pfn_to_page(normal).zone).toBe("Normal");
    const dma32 = m.alloc_page(GFP_DMA32);
    expect(dma32).toBeGreaterThanOrEqual(DMA_END);
    expect(dma32).toBeLessThan(DMA32_END);
    expect(dma32).toBe(DMA_END + 3072);
    expect(m.pfn_to_page(dma32).zone).toBe("DMA32");
    const dma = m.alloc_page(GFP_DMA);
    expect(dma).toBe(3072);
    expect(m.pfn_to_page(dma).zone).toBe("DMA");
    // GFP_HIGHUSER (__GFP_HIGHMEM) is ZONE_NORMAL on x86-64; __GFP_MOVABLE alone too (no ZONE_MOVABLE).
    expect(m.alloc_page(GFP_HIGHUSER)).toBe(DMA32_END + 3073);
    expect(m.alloc_page(GFP_KERNEL | __GFP_MOVABLE)).toBe(DMA32_END + 3074);
    // __GFP_MOVABLE with a zone modifier is allowed (GFP_ZONE_TABLE): the modifier picks the zone.
    expect(m.alloc_page(__GFP_DMA32 | __GFP_MOVABLE)).toBe(DMA_END + 3073);
    const z = m.stats().zones;
    expect(z.DMA.free).toBe(4095);
    expect(z.DMA32.free).toBe(4094);
    expect(z.Normal.free).toBe(4093);
    expect(m.stats().usedFrames).toBe(6);
  });

  it("falls back Normal -> DMA32 -> DMA, DMA32 -> DMA, and never upwards", () => {
    const m = threeZones();
    for (let i = 0; i < 4; i++) expect(m.alloc_pages(GFP_KERNEL, 10)).toBe(DMA32_END + 3072 - i * 1024);
    expect(m.stats().zones.Normal.free).toBe(0);
    // Normal is full: GFP_KERNEL gets DMA32.
    expect(m.alloc_pages(GFP_KERNEL, 10)).toBe(DMA_END + 3072);
    for (let i = 0; i < 3; i++) m.alloc_pages(GFP_KERNEL, 10);
    expect(m.stats().zones.DMA32.free).toBe(0);
    // DMA32 is full: both GFP_KERNEL and __GFP_DMA32 get DMA.
    expect(m.alloc_pages(GFP_KERNEL, 10)).toBe(3072);
    expect(m.alloc_pages(GFP_DMA32, 10)).toBe(2048);
    expect(m.alloc_pages(GFP_DMA, 10)).toBe(1024);
    expect(m.alloc_page(GFP_DMA)).toBe(0);
    expect(m.stats().zones.DMA.free).toBe(1023);
    // 1023 free frames, but no order-10 block in any zone.
    kerr(() => m.alloc_pages(GFP_KERNEL, 10), "ENOMEM");
    expect(m.alloc_pages(GFP_KERNEL, 9)).toBe(512);
  });

  it("__GFP_DMA does not fall back to DMA32 or Normal; __GFP_DMA32 does not use Normal", () => {
    const m = threeZones();
    for (let i = 0; i < 4; i++) m.alloc_pages(GFP_DMA, 10);
    const before = snapshot(m);
    const e = kerr(() => m.alloc_page(GFP_DMA), "ENOMEM");
    expect(e.message).toContain("zone DMA");
    expect(m.stats().zones.DMA32.free).toBe(4096);
    expect(m.stats().zones.Normal.free).toBe(4096);
    for (let i = 0; i < 4; i++) m.alloc_pages(GFP_DMA32, 10);
    kerr(() => m.alloc_page(GFP_DMA32), "ENOMEM");
    expect(m.stats().zones.Normal.free).toBe(4096);
    expect(JSON.parse(snapshot(m)).s.failures).toBe(JSON.parse(before).s.failures + 2);
    // GFP_KERNEL still finds Normal.
    expect(m.alloc_page(GFP_KERNEL)).toBe(DMA32_END + 3072);
  });

  it("16 MiB at 0 and 16 MiB at 4 GiB: no DMA32 zone, so __GFP_DMA32 is served from DMA", () => {
    const m = new PhysicalMemory({
      ranges: [
        { start: 0, size: 16 * MiB },
        { start: 4 * GiB, size: 16 * MiB },
      ],
    });
    expect(m.stats().zones.DMA32).toEqual({ frames: 0, free: 0 });
    expect(m.alloc_page(GFP_KERNEL)).toBe(DMA32_END + 3072);
    expect(m.alloc_page(GFP_DMA32)).toBe(3072);
    expect(m.alloc_page(GFP_DMA)).toBe(3073);
    expect(m.pfn_valid(DMA_END)).toBe(false);
    expect(m.pfn_valid(DMA32_END - 1)).toBe(false);
    expect(m.pfn_valid(DMA32_END)).toBe(true);
    expect(m.pfn_valid(DMA32_END + 4096)).toBe(false);
  });
});

describe("refcounts: get_page / put_page / page_ref_count", () => {
  it("the last put_page frees a compound block whole", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const initial = m.buddyinfo();
    const p = m.alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
    expect(m.page_ref_count(p)).toBe(1);
    m.get_page(p + 1); // a tail reference counts on the head
    expect(m.page_ref_count(p)).toBe(2);
    expect(m.pfn_to_page(p).refcount).toBe(2);
    m.put_page(p);
    expect(m.stats().usedFrames).toBe(4);
    m.put_page(p + 3);
    expect(m.page_ref_count(p)).toBe(0);
    expect(m.stats().usedFrames).toBe(0);
    expect(m.buddyinfo()).toBe(initial);
  });

  it("the last put_page of a non-compound block frees its first page only: the tails leak, as in the kernel", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const p = m.alloc_pages(GFP_KERNEL, 2);
    expect(m.page_ref_count(p + 1)).toBe(0); // tail of a non-compound block: refcount 0
    m.get_page(p);
    m.put_page(p);
    expect(m.stats().usedFrames).toBe(4);
    m.put_page(p);
    expect(m.page_ref_count(p)).toBe(0);
    expect(m.stats().usedFrames).toBe(3);
    expect(m.isBuddy(p + 1)).toBe(false);
  });

  it("__free_pages with other references on a non-compound block frees the tail halves at once", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const initial = m.buddyinfo();
    const p = m.alloc_pages(GFP_KERNEL, 3); // 0..7
    expect(p).toBe(0);
    m.get_page(p); // someone else holds the first page
    const frees = m.stats().frees;
    m.__free_pages(p, 3);
    // mm/page_alloc.c __free_pages: !PageHead -> free_unref_page(page + 4, 2), (page + 2, 1), (page + 1, 0).
    expect(m.page_ref_count(p)).toBe(1);
    expect(m.stats().usedFrames).toBe(1);
    expect(m.stats().frees).toBe(frees + 3);
    expect(m.buddyinfo()).toBe(line("DMA", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
    expect(m.isBuddy(4)).toBe(true);
    expect(m.isBuddy(2)).toBe(true);
    expect(m.isBuddy(1)).toBe(true);
    // The remaining holder's reference frees page 0, which merges back into the order-10 block.
    m.put_page(p);
    expect(m.buddyinfo()).toBe(initial);
    expect(m.stats().usedFrames).toBe(0);
  });

  it("after the tails went, the first page is an order-0 block: freeing it with the old order is EINVAL", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const p = m.alloc_pages(GFP_KERNEL, 1);
    m.get_page(p);
    m.__free_pages(p, 1);
    const before = snapshot(m, [p]);
    kerr(() => m.__free_pages(p, 1), "EINVAL");
    expect(snapshot(m, [p])).toBe(before);
    m.__free_pages(p, 0);
    expect(m.stats().usedFrames).toBe(0);
  });

  it("__GFP_COMP: one refcount on the head, tails resolve to it, the block goes as one", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const initial = m.buddyinfo();
    const p = m.alloc_pages(GFP_KERNEL | __GFP_COMP, 2);
    expect(p).toBe(0);
    m.get_page(p + 3); // a tail: the reference goes to the head
    expect(m.page_ref_count(p)).toBe(2);
    expect(m.page_ref_count(p + 3)).toBe(0);
    // __free_pages on a compound head with other references: PageHead, so nothing else is freed.
    m.__free_pages(p, 2);
    expect(m.page_ref_count(p)).toBe(1);
    expect(m.stats().usedFrames).toBe(4);
    expect(m.buddyinfo()).toBe(line("DMA", [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0]));
    // A tail is not the first page of a block.
    kerr(() => m.__free_pages(p + 1, 0), "EINVAL");
    // put_page on a tail drops the head's last reference: all four frames go.
    m.put_page(p + 2);
    expect(m.page_ref_count(p)).toBe(0);
    expect(m.stats().usedFrames).toBe(0);
    expect(m.buddyinfo()).toBe(initial);
    // The tails are plain free frames again: get_page on one is EINVAL.
    kerr(() => m.get_page(p + 1), "EINVAL");
  });

  it("get_page on a free frame or a tail of a non-compound block is EINVAL (VM_BUG_ON)", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    kerr(() => m.get_page(5), "EINVAL");
    const p = m.alloc_pages(GFP_KERNEL, 1);
    const before = snapshot(m, [p, p + 1]);
    kerr(() => m.get_page(p + 1), "EINVAL");
    kerr(() => m.put_page(p + 1), "EINVAL");
    expect(snapshot(m, [p, p + 1])).toBe(before);
  });
});

describe("__GFP_ZERO", () => {
  it("without it a page holds what its last owner left; with it the block is zeroed", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const p = m.alloc_pages(GFP_KERNEL, 1);
    const v = m.view(p * 4096, 8192);
    v.fill(0xab);
    v[8191] = 0x5a;
    m.__free_pages(p, 1);
    // LIFO: the same block comes back, stale.
    const q = m.alloc_pages(GFP_KERNEL, 1);
    expect(q).toBe(p);
    const w = m.view(q * 4096, 8192);
    expect(w[0]).toBe(0xab);
    expect(w[4096]).toBe(0xab);
    expect(w[8191]).toBe(0x5a);
    m.__free_pages(q, 1);
    const z = m.alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
    expect(z).toBe(p);
    expect(m.view(z * 4096, 8192).every((b) => b === 0)).toBe(true);
    // Only the block is zeroed: the neighbouring frame keeps its bytes.
    m.view((z + 2) * 4096, 1)[0] = 0x77;
    m.__free_pages(z, 1);
    const z2 = m.alloc_pages(GFP_KERNEL | __GFP_ZERO, 1);
    expect(z2).toBe(z);
    expect(m.view((z + 2) * 4096, 1)[0]).toBe(0x77);
  });
});

describe("bad input: EINVAL and nothing changes", () => {
  it("alloc_pages: bad order, unknown gfp bits, two zone modifiers", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const p = m.alloc_page(GFP_KERNEL);
    const before = snapshot(m, [p]);
    const cases: [number, number][] = [
      [GFP_KERNEL, -1],
      [GFP_KERNEL, 11],
      [GFP_KERNEL, 1.5],
      [GFP_KERNEL, Number.NaN],
      [-1, 0],
      [1.5, 0],
      [GFP_KERNEL | 0x1000000, 0], // bit 24: not a gfp_t bit of this config
      [GFP_KERNEL | 0x80000000, 0],
      [2 ** 32 + GFP_KERNEL, 0], // beyond 32 bits (a JS & would truncate it to GFP_KERNEL)
      [__GFP_DMA | __GFP_DMA32, 0],
      [__GFP_DMA | __GFP_HIGHMEM, 0], // GFP_ZONE_BAD
      [__GFP_DMA32 | __GFP_HIGHMEM, 0],
      [GFP_HIGHUSER | __GFP_DMA32, 0],
      [__GFP_MOVABLE | __GFP_DMA | __GFP_DMA32, 0],
    ];
    for (const [gfp, order] of cases) {
      const e = kerr(() => m.alloc_pages(gfp, order), "EINVAL");
      expect(e.errno).toBe(22);
      expect(snapshot(m, [p])).toBe(before);
    }
    // Known bits are accepted: GFP_KERNEL_ACCOUNT, __GFP_MOVABLE|__GFP_DMA.
    expect(m.alloc_page(GFP_KERNEL | __GFP_ACCOUNT)).toBe(p + 1);
    expect(m.alloc_page(__GFP_MOVABLE | __GFP_DMA)).toBe(p + 2);
    expect(m.stats().failures).toBe(0);
  });

  it("double free, wrong order, a tail, a frame that is not RAM", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const a = m.alloc_pages(GFP_KERNEL, 2); // 0..3
    const b = m.alloc_page(GFP_KERNEL); // 4
    m.__free_page(b);
    const before = snapshot(m, [a]);
    const bad: (() => void)[] = [
      () => m.__free_page(b), // double free
      () => m.put_page(b),
      () => m.__free_pages(a, 1), // wrong order
      () => m.__free_pages(a, 3),
      () => m.__free_pages(a + 1, 0), // inside the block
      () => m.__free_pages(1024, 0), // not RAM
      () => m.put_page(1024),
      () => m.get_page(1024),
      () => m.__free_pages(-1, 0),
      () => m.__free_pages(0.5, 0),
      () => m.page_ref_count(1024),
      () => m.pfn_to_page(1024),
      () => m.pfn_to_page(-1),
    ];
    for (const f of bad) {
      expect(kerr(f, "EINVAL").errno).toBe(22);
      expect(snapshot(m, [a])).toBe(before);
    }
    m.__free_pages(a, 2);
    expect(m.stats().usedFrames).toBe(0);
  });

  it("a double free after the block merged is still EINVAL", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const initial = m.buddyinfo();
    const p = m.alloc_page(GFP_KERNEL);
    m.__free_page(p);
    expect(m.buddyinfo()).toBe(initial);
    kerr(() => m.__free_page(p), "EINVAL");
    kerr(() => m.__free_pages(p, MAX_PAGE_ORDER), "EINVAL"); // the merged free block is not an allocation
    expect(m.buddyinfo()).toBe(initial);
  });
});

describe("pfn_to_page / page_to_pfn / view", () => {
  it("one Page per frame with live getters", () => {
    const m = threeZones();
    const page = m.pfn_to_page(DMA32_END + 5);
    expect(page).toBeInstanceOf(Page);
    expect(m.pfn_to_page(DMA32_END + 5)).toBe(page);
    expect(page.pfn).toBe(DMA32_END + 5);
    expect(page.phys).toBe(4 * GiB + 5 * 4096);
    expect(page.zone).toBe("Normal");
    expect(m.pfn_to_page(0).zone).toBe("DMA");
    expect(m.pfn_to_page(DMA_END).zone).toBe("DMA32");
    expect(m.page_to_pfn(page)).toBe(DMA32_END + 5);
    expect(page.refcount).toBe(0);
    expect(page.buddy).toBe(false); // inside the order-10 block at DMA32_END
    expect(m.pfn_to_page(DMA32_END).buddy).toBe(true);
    const other = new PhysicalMemory({ size: 4 * MiB });
    const foreign = other.pfn_to_page(5);
    kerr(() => m.page_to_pfn(foreign), "EINVAL");
    kerr(() => m.page_to_pfn({ pfn: 5 } as unknown as Page), "EINVAL");
  });

  it("view() is the RAM itself, located through the ranges", () => {
    const m = threeZones();
    // Normal's 16 MiB come after DMA's and DMA32's in the ArrayBuffer.
    const v = m.view(4 * GiB + 0x1234, 4);
    v.set([1, 2, 3, 4]);
    expect([...m.ram.subarray(32 * MiB + 0x1234, 32 * MiB + 0x1238)]).toEqual([1, 2, 3, 4]);
    expect(m.pfnOffset(DMA32_END + 1)).toBe(32 * MiB + 4096);
    expect(m.pfnOffset(DMA_END)).toBe(16 * MiB);
    expect(m.pfnOffset(DMA32_END - 1)).toBe(-1);
    // DMA and DMA32 touch: a view across 16 MiB is fine.
    expect(m.view(16 * MiB - 2, 4).byteLength).toBe(4);
    expect(m.view(0, 0).byteLength).toBe(0);
    expect(kerr(() => m.view(32 * MiB - 2, 4), "EFAULT").errno).toBe(14); // runs into the hole
    kerr(() => m.view(4 * GiB + 16 * MiB - 1, 2), "EFAULT");
    kerr(() => m.view(64 * MiB, 1), "EFAULT");
    kerr(() => m.view(-1, 1), "EINVAL");
    kerr(() => m.view(0, -1), "EINVAL");
    kerr(() => m.view(0.5, 1), "EINVAL");
  });
});
