// The vmm's hot paths against the plain JavaScript operations they are built on, measured in the same run:
// copy_to_user of 4 MiB into present, writable user pages against Buffer.copy of 4 MiB; an address translation
// on a TLB hit and with a 4-level walk against one typed-array load; the first touch of a page (fault, frame
// allocation, zeroing, PTE) against a store to a page already mapped.

import { Buffer } from "node:buffer";
import { MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE, Vmm } from "../src/index.js";

const MiB = 1 << 20;
const vmm = new Vmm({ ram: 96 * MiB });
const mm = vmm.mm_alloc();
vmm.switch_mm(mm);

// 4 MiB of user memory, faulted in (MAP_POPULATE writes every page: present and writable), and a 4 MiB kmalloc
// source: a compound page of order 10, contiguous in the direct map.
const user = mm.mmap(0, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);
const kbuf = vmm.kmem.kmalloc(4 * MiB);
vmm.kmem.view(kbuf, 4 * MiB).fill(0x5a);
const src = Buffer.alloc(4 * MiB, 0x5a);
const dst = Buffer.alloc(4 * MiB);

// Translation: 512 present pages; `hit` cycles through them (they all stay in the 2048-entry TLB); `walk`
// alternates two pages that share a TLB set, so every translation walks the four levels.
const mmu = vmm.mmu;
const hi = Math.floor(user / 2 ** 32);
const lo = user >>> 0;
const conflict = user + 2048 * 4096; // same set: vpn differs by the TLB size
mm.mmap(conflict, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | 0x10);
const loA = lo;
const loB = conflict >>> 0;
const words = new Int32Array(512 * 1024);

// First touch: a region mapped but never touched; every call writes one byte to the next fresh page. When the
// region is used up it is unmapped and mapped again (once every 8192 calls).
const FRESH = 8192;
let fresh = mm.mmap(0, FRESH * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
let next = 0;
const one = Uint8Array.of(1);
const touched = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);

export default [
  {
    group: "copy_to_user 4 MiB into present, writable pages",
    work: { bytes: 4 * MiB },
    tasks: {
      "Vmm.copy_to_user": () => vmm.copy_to_user(user, kbuf, 4 * MiB),
      "Buffer.copy (baseline)": () => src.copy(dst, 0, 0, 4 * MiB),
    },
    compare: [{ name: "Vmm.copy_to_user", baseline: "Buffer.copy (baseline)" }],
  },
  {
    group: "address translation",
    tasks: {
      "TLB hit (Mmu.pageOffset)": (i: number) =>
        mmu.pageOffset(hi, (loA + (i & 511) * 4096) >>> 0, true, true),
      "4-level walk (Mmu.pageOffset, TLB set conflict)": (i: number) =>
        mmu.pageOffset(hi, i & 1 ? loB : loA, false, true),
      "Int32Array load (baseline)": (i: number) => words[(i * 1024) & (512 * 1024 - 1)],
    },
    compare: [
      { name: "TLB hit (Mmu.pageOffset)", baseline: "Int32Array load (baseline)" },
      { name: "4-level walk (Mmu.pageOffset, TLB set conflict)", baseline: "Int32Array load (baseline)" },
    ],
  },
  {
    group: "first touch of an anonymous page",
    tasks: {
      "demand-zero fault (userWrite to a fresh page)": () => {
        if (next === FRESH) {
          mm.munmap(fresh, FRESH * 4096);
          fresh = mm.mmap(0, FRESH * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
          next = 0;
        }
        vmm.userWrite(fresh + next++ * 4096, one);
        return next;
      },
      "store to a present page (baseline)": () => {
        vmm.userWrite(touched, one);
        return one;
      },
    },
    compare: [
      {
        name: "demand-zero fault (userWrite to a fresh page)",
        baseline: "store to a present page (baseline)",
      },
    ],
  },
];
