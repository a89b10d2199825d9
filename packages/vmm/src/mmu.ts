// The MMU of one x86-64 CPU: the hardware page walk (Intel SDM vol. 3 §4.5, "4-level and 5-level paging"), the
// access checks and the page-fault error code (arch/x86/include/asm/trap_pf.h), A/D bits, a TLB with invlpg and
// CR3 reloads, SMAP/SMEP with EFLAGS.AC (arch/x86/include/asm/smap.h: stac/clac).
// Hot path: the virtual address is split into two 32-bit halves and the TLB is a set of typed arrays (the
// representation measured fastest in ../spec/vmm-dma-chrdev-peers.md §2.3); BigInt appears only in error paths.

import { type Addr, KernelError, type PagingLevels } from "@kbridge/uapi";
import { hex, type PhysicalMemory } from "./page-alloc.js";
import { isCanonical, splitVa } from "./pgtable.js";

/** `X86_PF_PROT`: 0 = the page was not present, 1 = a protection violation on a present page. */
export const X86_PF_PROT = 1 << 0;
/** `X86_PF_WRITE`: the access was a write. */
export const X86_PF_WRITE = 1 << 1;
/** `X86_PF_USER`: the access came from user mode (CPL 3). */
export const X86_PF_USER = 1 << 2;
/** `X86_PF_RSVD`: a reserved bit was set in a paging entry. */
export const X86_PF_RSVD = 1 << 3;
/** `X86_PF_INSTR`: an instruction fetch (reported when NX or SMEP is on). */
export const X86_PF_INSTR = 1 << 4;
/** `X86_PF_PK`: a protection-key violation (the model has no keys; the bit is defined for decoding). */
export const X86_PF_PK = 1 << 5;
/** `X86_PF_SHSTK`: a shadow-stack access (defined for decoding). */
export const X86_PF_SHSTK = 1 << 6;

/** What an access does. */
export type Access = "read" | "write" | "exec";
/** Who makes the access: user mode (CPL 3) or the kernel (CPL 0). */
export type Mode = "user" | "kernel";

/** Why the CPU faulted. */
export type FaultReason = "not-present" | "protection" | "reserved-bit" | "smap" | "smep" | "non-canonical";

/**
 * A CPU exception raised by an access: a page fault (#PF, vector 14) with its error code and CR2, or a general
 * protection fault (#GP, vector 13) for a non-canonical address. It is a {@link @kbridge/uapi!KernelError} with
 * errno EFAULT so that code which only wants "bad address" can treat it as one.
 */
export class CpuFault extends KernelError {
  /** `#PF` or `#GP`. */
  readonly vector: "#PF" | "#GP";
  /** The faulting linear address (CR2 for a #PF). */
  readonly address: bigint;
  /** The page-fault error code (`X86_PF_*` bits); 0 for #GP. */
  readonly errorCode: number;
  /** Why: not present, protection (R/W, U/S, NX), a reserved bit, SMAP, SMEP, or a non-canonical address. */
  readonly reason: FaultReason;

  /** @internal */
  constructor(vector: "#PF" | "#GP", address: bigint, errorCode: number, reason: FaultReason) {
    super(
      "EFAULT",
      vector === "#GP"
        ? `general protection fault, non-canonical address ${hex(address)}`
        : `page fault at ${hex(address)}: #PF: error_code(0x${errorCode.toString(16).padStart(4, "0")}) - ${pfText(errorCode, reason)}`,
      { op: "mmu" },
    );
    this.name = "CpuFault";
    this.vector = vector;
    this.address = address;
    this.errorCode = errorCode;
    this.reason = reason;
  }
}

// arch/x86/mm/fault.c show_fault_oops(): the last words of "#PF: error_code(0x%04lx) - …".
function pfText(code: number, reason: FaultReason): string {
  if (code & X86_PF_RSVD) return "reserved bit violation";
  if (reason === "smep") return "permissions violation (SMEP)";
  return code & X86_PF_PROT ? "permissions violation" : "not-present page";
}

/** Options of an {@link Mmu}. */
export interface MmuOptions {
  /** 4- or 5-level paging (CR4.LA57); 4 by default. */
  readonly levels?: PagingLevels;
  /** CR4.SMAP: kernel data accesses to user pages fault unless EFLAGS.AC is set (true by default). */
  readonly smap?: boolean;
  /** CR4.SMEP: kernel instruction fetches from user pages fault (true by default). */
  readonly smep?: boolean;
  /** EFER.NXE: bit 63 means execute-disable; when false it is a reserved bit (true by default). */
  readonly nx?: boolean;
  /** CR0.WP: the kernel cannot write read-only pages (true by default, as Linux runs). */
  readonly wp?: boolean;
  /** MAXPHYADDR: entry bits from here to 51 are reserved (46 by default, a common server value). */
  readonly physBits?: number;
  /** TLB entries (a power of two, 2048 by default): direct-mapped by virtual page number. */
  readonly tlbEntries?: number;
}

/** The MMU's counters. */
export interface MmuStats {
  /** Translations served by the TLB. */
  readonly tlbHits: number;
  /** Translations that walked the page tables. */
  readonly walks: number;
  /** Faults raised. */
  readonly faults: number;
  /** Non-global flushes (CR3 loads) and full flushes. */
  readonly flushes: number;
  /** `invlpg` calls. */
  readonly invlpgs: number;
}

// TLB info bits: the permissions of the cached translation (v86 keeps them as negative bits; here positive ones
// plus a need/forbid mask per access).
const T_VALID = 1;
const T_WRITE = 2; // effective R/W of all levels
const T_USER = 4; // effective U/S of all levels
const T_NX = 8; // some level has NX (and EFER.NXE is on)
const T_GLOBAL = 16;
const T_DIRTY = 32; // the leaf's D bit is set: a write needs no walk
const T_HUGE2M = 64;
const T_HUGE1G = 128;

/** The outcome of the last failed internal translation. @internal */
interface FaultInfo {
  code: number;
  reason: FaultReason;
}

/**
 * One CPU's MMU: CR3, the TLB, SMAP/SMEP and EFLAGS.AC. `translate()` does what the hardware does on every
 * access: a TLB lookup, else a walk of the tables in RAM that checks P, R/W, U/S, NX and reserved bits at every
 * level, sets the Accessed bits (and Dirty on a write), and fills the TLB. A TLB entry survives a change of the
 * table in RAM until `invlpg` or a CR3 load drops it, so an OS that forgets to flush sees the old translation.
 */
export class Mmu {
  /** The RAM. */
  readonly phys: PhysicalMemory;
  /** 4 or 5. */
  readonly levels: PagingLevels;
  /** CR4.SMAP. */
  readonly smap: boolean;
  /** CR4.SMEP. */
  readonly smep: boolean;
  /** EFER.NXE. */
  readonly nx: boolean;
  /** CR0.WP. */
  readonly wp: boolean;
  /** MAXPHYADDR. */
  readonly physBits: number;

  #cr3 = -1;
  #ac = false;
  readonly #mask: number;
  // The high 32 bits of the tagged address, stored as int32: compare with `hi | 0` (a kernel address has hi >= 2^31).
  // The TLB, four words per entry so that a lookup touches one cache line: the tag (high 32 bits of the address
  // as int32, and the virtual page number's low 20 bits), the RAM frame index (byte offset / 4096), the info bits.
  readonly #tlb: Int32Array;
  // The sets filled since the last full flush (each once): a flush visits these, not the whole TLB, so a context
  // switch costs what the TLB holds rather than its size.
  readonly #live: Int32Array;
  readonly #isLive: Uint8Array;
  #liveN = 0;
  #huge = 0;
  readonly #rsvdHi: number;
  readonly #ram32s: Int32Array;
  readonly #ls: number; // the RAM's first pfn with a single range, else -1
  readonly #le: number; // reserved bits of an entry's high word (physBits..51), NX added when NXE is off
  #hits = 0;
  #walks = 0;
  #faults = 0;
  #flushes = 0;
  #invlpgs = 0;
  /** @internal the last internal fault (see pageOffset) */
  readonly lastFault: FaultInfo = { code: 0, reason: "not-present" };

  /**
   * @param phys - the RAM the page tables and pages live in
   * @param options - paging levels, SMAP/SMEP/NX/WP, MAXPHYADDR, TLB size
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for bad options
   */
  constructor(phys: PhysicalMemory, options: MmuOptions = {}) {
    const op = "Mmu";
    this.phys = phys;
    this.levels = options.levels ?? 4;
    if (this.levels !== 4 && this.levels !== 5)
      throw new KernelError("EINVAL", `paging levels ${String(this.levels)} is not 4 or 5`, { op });
    this.smap = options.smap ?? true;
    this.smep = options.smep ?? true;
    this.nx = options.nx ?? true;
    this.wp = options.wp ?? true;
    this.physBits = options.physBits ?? 46;
    if (!Number.isInteger(this.physBits) || this.physBits < 36 || this.physBits > 52)
      throw new KernelError("EINVAL", `MAXPHYADDR ${String(this.physBits)} is outside 36..52`, { op });
    const n = options.tlbEntries ?? 2048;
    if (!Number.isInteger(n) || n < 1 || n > 1 << 20 || (n & (n - 1)) !== 0)
      throw new KernelError("EINVAL", `tlbEntries ${String(n)} is not a power of two up to 2^20`, { op });
    this.#mask = n - 1;
    this.#tlb = new Int32Array(n * 4);
    this.#live = new Int32Array(n);
    this.#isLive = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.#tlb[i * 4] = -1;
      this.#tlb[i * 4 + 1] = -1;
    }
    // Bits physBits..51 of an entry are reserved: in the high word, bits (physBits-32)..19.
    let rsvd = 0;
    for (let b = this.physBits - 32; b < 20; b++) rsvd |= 1 << b;
    this.#rsvdHi = rsvd | (this.nx ? 0 : 0x80000000);
    this.#ls = phys.linearStart;
    this.#le = phys.linearEnd;
    this.#ram32s = new Int32Array(phys.ram.buffer, phys.ram.byteOffset, phys.ram.byteLength >>> 2);
  }

  /** The frame of the root table CR3 points to, or undefined before the first {@link load_cr3}. */
  get cr3(): number | undefined {
    return this.#cr3 < 0 ? undefined : this.#cr3;
  }

  /**
   * `load_cr3()` / a `mov` to CR3: switch to the tables rooted at frame `pfn`; every non-global TLB entry is dropped
   * (no PCID in the model).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when no RAM backs `pfn`
   */
  load_cr3(pfn: number): void {
    if (!this.phys.pfn_valid(pfn))
      throw new KernelError("EINVAL", `CR3 frame ${String(pfn)} is not RAM`, { op: "load_cr3" });
    this.#cr3 = pfn;
    this.flush_tlb_local();
  }

  /** `flush_tlb_local()`: drops every non-global TLB entry (what a CR3 reload does). */
  flush_tlb_local(): void {
    this.#flushes++;
    const tlb = this.#tlb;
    const live = this.#live;
    let kept = 0;
    for (let k = 0; k < this.#liveN; k++) {
      const i = live[k]!;
      if ((tlb[i * 4 + 3]! & (T_VALID | T_GLOBAL)) === (T_VALID | T_GLOBAL)) live[kept++] = i;
      else {
        this.#drop(i);
        this.#isLive[i] = 0;
      }
    }
    this.#liveN = kept;
  }

  /** `__flush_tlb_all()`: drops every TLB entry, global ones included (a CR4.PGE toggle). */
  __flush_tlb_all(): void {
    this.#flushes++;
    for (let k = 0; k < this.#liveN; k++) {
      const i = this.#live[k]!;
      this.#drop(i);
      this.#isLive[i] = 0;
    }
    this.#liveN = 0;
  }

  // Remembers that `set` holds an entry (called on every fill).
  #fill(set: number): void {
    if (this.#isLive[set] === 0) {
      this.#isLive[set] = 1;
      this.#live[this.#liveN++] = set;
    }
  }

  #drop(i: number): void {
    const info = this.#tlb[i * 4 + 3]!;
    if (info & (T_HUGE2M | T_HUGE1G)) this.#huge--;
    this.#tlb[i * 4 + 3] = 0;
    this.#tlb[i * 4] = -1;
    this.#tlb[i * 4 + 1] = -1;
  }

  /**
   * `invlpg`: drops the TLB entry of the page holding `va` (all of a huge page's entries when a huge page maps it).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a non-address
   */
  invlpg(va: Addr): void {
    const [hi, lo] = splitVa("invlpg", va, this.levels);
    this.#invlpgs++;
    const set = this.#set(hi, lo);
    if (this.#tlb[set * 4] === (hi | 0) && this.#tlb[set * 4 + 1] === lo >>> 12) this.#drop(set);
    if (this.#huge > 0) {
      // A 4 KiB piece of a huge page may sit in another set: drop every piece of the same huge page.
      for (let i = 0; i <= this.#mask; i++) {
        const info = this.#tlb[i * 4 + 3]!;
        if ((info & (T_HUGE2M | T_HUGE1G)) === 0 || this.#tlb[i * 4] !== (hi | 0)) continue;
        const shift = info & T_HUGE1G ? 18 : 9; // pages per huge page, as a shift of the vpn
        if (this.#tlb[i * 4 + 1]! >>> shift === (lo >>> 12) >>> shift) this.#drop(i);
      }
    }
  }

  /** `stac()`: sets EFLAGS.AC, opening a window in which the kernel may touch user pages under SMAP. */
  stac(): void {
    this.#ac = true;
  }

  /** `clac()`: clears EFLAGS.AC. */
  clac(): void {
    this.#ac = false;
  }

  /** EFLAGS.AC. */
  get ac(): boolean {
    return this.#ac;
  }

  /** The counters. */
  stats(): MmuStats {
    return {
      tlbHits: this.#hits,
      walks: this.#walks,
      faults: this.#faults,
      flushes: this.#flushes,
      invlpgs: this.#invlpgs,
    };
  }

  #set(hi: number, lo: number): number {
    return ((lo >>> 12) ^ (hi << 4)) & this.#mask;
  }

  /**
   * Translates `va` for an access as the CPU would: the physical address, after setting A/D bits and filling
   * the TLB; or a {@link CpuFault} (#PF with its error code, or #GP for a non-canonical address).
   * @throws {@link CpuFault} when the access faults; {@link @kbridge/uapi!KernelError} EINVAL for bad arguments or
   * before the first CR3 load
   */
  translate(va: Addr, access: Access = "read", mode: Mode = "user"): number {
    const op = "translate";
    if (access !== "read" && access !== "write" && access !== "exec")
      throw new KernelError("EINVAL", `access ${String(access)} is not read, write or exec`, { op });
    if (mode !== "user" && mode !== "kernel")
      throw new KernelError("EINVAL", `mode ${String(mode)} is not user or kernel`, { op });
    let hi: number;
    let lo: number;
    if (typeof va === "number" && Number.isSafeInteger(va) && va >= 0) {
      hi = Math.floor(va / 4294967296);
      lo = va >>> 0;
    } else if (typeof va === "bigint" && va >= 0n && va < 1n << 64n) {
      hi = Number(va >> 32n);
      lo = Number(va & 0xffffffffn);
    } else throw new KernelError("EINVAL", `address ${String(va)} is not an unsigned 64-bit integer`, { op });
    if (this.#cr3 < 0) throw new KernelError("EINVAL", "no page tables are loaded (load_cr3 first)", { op });
    const off = this.pageOffset(hi, lo, access === "write", mode === "user", access === "exec");
    if (off < 0) {
      const address = (BigInt(hi) << 32n) | BigInt(lo);
      throw this.lastFault.reason === "non-canonical"
        ? new CpuFault("#GP", address, 0, "non-canonical")
        : new CpuFault("#PF", address, this.lastFault.code, this.lastFault.reason);
    }
    return this.#physOfOffset(off) + (lo & 4095);
  }

  // The physical address of a RAM byte offset (the TLB keeps RAM offsets, not physical addresses).
  #physOfOffset(off: number): number {
    let base = 0;
    for (const r of this.phys.ranges) {
      if (off < base + r.size) return r.start + off - base;
      base += r.size;
    }
    return -1;
  }

  /**
   * The hot path: the RAM byte offset of the 4 KiB page holding `[hi, lo]`, or -1 with {@link lastFault} set.
   * @internal
   */
  pageOffset(hi: number, lo: number, write: boolean, user: boolean, exec = false): number {
    const set = ((lo >>> 12) ^ (hi << 4)) & this.#mask;
    if (this.#tlb[set * 4] === (hi | 0) && this.#tlb[set * 4 + 1] === lo >>> 12) {
      const need = T_VALID | (write ? T_DIRTY | (user || this.wp ? T_WRITE : 0) : 0) | (user ? T_USER : 0);
      const forbid = user
        ? exec
          ? T_NX
          : 0
        : exec
          ? T_NX | (this.smep ? T_USER : 0)
          : this.smap && !this.#ac
            ? T_USER
            : 0;
      if ((this.#tlb[set * 4 + 3]! & (need | forbid)) === need) {
        this.#hits++;
        return this.#tlb[set * 4 + 2]! * 4096;
      }
    }
    return this.#miss(hi, lo, write, user, exec, set);
  }

  // A TLB miss (or an entry that does not allow the access): walk, and on a #PF drop what the TLB held.
  #miss(hi: number, lo: number, write: boolean, user: boolean, exec: boolean, set: number): number {
    let off = this.levels === 4 ? this.#walk4(hi, lo, write, user, exec, set) : -2;
    if (off === -2) off = this.#walk(hi, lo, write, user, exec, set);
    // A #PF invalidates the TLB entries of the faulting page (SDM vol. 3 §4.10.4.1): a stale one goes with it.
    if (off < 0 && this.#tlb[set * 4] === (hi | 0) && this.#tlb[set * 4 + 1] === lo >>> 12) this.#drop(set);
    return off;
  }

  #fault(code: number, reason: FaultReason): number {
    this.#faults++;
    this.lastFault.code = code;
    this.lastFault.reason = reason;
    return -1;
  }

  // The common walk, straight-line: 4-level paging, RAM in one range, a present 4 KiB leaf, no reserved bit, the
  // access allowed. It returns -2, having changed nothing, for anything else; #walk then does it and reports faults.
  #walk4(hi: number, lo: number, write: boolean, user: boolean, exec: boolean, set: number): number {
    const ls = this.#ls;
    const le = this.#le;
    const ram32 = this.#ram32s;
    const rsvd = this.#rsvdHi;
    const t3 = this.#cr3;
    if (t3 < ls || t3 >= le) return -2;
    const w3 = (t3 - ls) * 1024 + ((hi >>> 7) & 511) * 2;
    const e3 = ram32[w3]!;
    const h3 = ram32[w3 + 1]!;
    if ((e3 & 0x81) !== 1 || (h3 & (rsvd | 0xff800)) !== 0) return -2;
    const t2 = ((h3 & 0x7ff) << 20) | (e3 >>> 12);
    if (t2 < ls || t2 >= le) return -2;
    const w2 = (t2 - ls) * 1024 + (((lo >>> 30) | (hi << 2)) & 511) * 2;
    const e2 = ram32[w2]!;
    const h2 = ram32[w2 + 1]!;
    if ((e2 & 0x81) !== 1 || (h2 & (rsvd | 0xff800)) !== 0) return -2;
    const t1 = ((h2 & 0x7ff) << 20) | (e2 >>> 12);
    if (t1 < ls || t1 >= le) return -2;
    const w1 = (t1 - ls) * 1024 + ((lo >>> 21) & 511) * 2;
    const e1 = ram32[w1]!;
    const h1 = ram32[w1 + 1]!;
    if ((e1 & 0x81) !== 1 || (h1 & (rsvd | 0xff800)) !== 0) return -2;
    const t0 = ((h1 & 0x7ff) << 20) | (e1 >>> 12);
    if (t0 < ls || t0 >= le) return -2;
    const w0 = (t0 - ls) * 1024 + ((lo >>> 12) & 511) * 2;
    const e0 = ram32[w0]!;
    const h0 = ram32[w0 + 1]!;
    if ((e0 & 1) === 0 || (h0 & (rsvd | 0xff800)) !== 0) return -2;
    const pfn = ((h0 & 0x7ff) << 20) | (e0 >>> 12);
    if (pfn < ls || pfn >= le) return -2;
    const all = e3 & e2 & e1 & e0;
    const rw = (all & 2) !== 0;
    const us = (all & 4) !== 0;
    const nxOn = this.nx && (h3 | h2 | h1 | h0) < 0;
    // The checks of #walk, without the error codes: any refusal goes the long way.
    if (
      user
        ? !us || (write && !rw) || (exec && nxOn)
        : exec
          ? nxOn || (us && this.smep)
          : (us && this.smap && !this.#ac) || (write && !rw && this.wp)
    )
      return -2;
    this.#walks++;
    if ((e3 & 0x20) === 0) ram32[w3] = e3 | 0x20;
    if ((e2 & 0x20) === 0) ram32[w2] = e2 | 0x20;
    if ((e1 & 0x20) === 0) ram32[w1] = e1 | 0x20;
    const dirty = (e0 & 0x40) !== 0 || write;
    if ((e0 & 0x20) === 0 || (write && (e0 & 0x40) === 0)) ram32[w0] = e0 | 0x20 | (write ? 0x40 : 0);
    if (this.#tlb[set * 4 + 3]! & (T_HUGE2M | T_HUGE1G)) this.#huge--;
    this.#fill(set);
    this.#tlb[set * 4] = hi;
    this.#tlb[set * 4 + 1] = lo >>> 12;
    this.#tlb[set * 4 + 2] = pfn - ls;
    this.#tlb[set * 4 + 3] =
      T_VALID |
      (rw ? T_WRITE : 0) |
      (us ? T_USER : 0) |
      (nxOn ? T_NX : 0) |
      ((e0 & 0x100) !== 0 ? T_GLOBAL : 0) |
      (dirty ? T_DIRTY : 0);
    return (pfn - ls) * 4096;
  }

  // The hardware walk (Intel SDM §4.5.4): entries root first, effective permissions, checks, A/D bits, TLB fill.
  #walk(hi: number, lo: number, write: boolean, user: boolean, exec: boolean, set: number): number {
    this.#walks++;
    if (!isCanonical(hi, this.levels)) return this.#fault(0, "non-canonical");
    const base =
      (write ? X86_PF_WRITE : 0) |
      (user ? X86_PF_USER : 0) |
      (exec && (this.nx || this.smep) ? X86_PF_INSTR : 0);
    if (this.#cr3 < 0) return this.#fault(base, "not-present");
    const phys = this.phys;
    // Signed words: an entry with NX or a high frame bit stays a small integer for V8 (a Uint32Array load above
    // 2^31 becomes a double).
    const ram32 = this.#ram32s;
    const top = this.levels === 5 ? 4 : 3;
    let table = this.#cr3;
    const ls = phys.linearStart;
    const le = phys.linearEnd;
    let rw = 1;
    let us = 1;
    let nxAny = 0;
    for (let level = top; level >= 0; level--) {
      // The table's first word in RAM (one subtraction with a single RAM range), then the entry's.
      const wb = table >= ls && table < le ? (table - ls) * 1024 : phys.pfnOffset(table) / 4;
      if (wb < 0) return this.#fault(base | X86_PF_PROT | X86_PF_RSVD, "reserved-bit"); // a table outside RAM
      const idx =
        level === 0
          ? (lo >>> 12) & 511
          : level === 1
            ? (lo >>> 21) & 511
            : level === 2
              ? ((lo >>> 30) | (hi << 2)) & 511
              : level === 3
                ? (hi >>> 7) & 511
                : (hi >>> 16) & 511;
      const w = wb + idx * 2;
      const e = ram32[w]!;
      const eh = ram32[w + 1]!;
      if ((e & 1) === 0) return this.#fault(base, "not-present");
      // Reserved bits: above MAXPHYADDR, NX without NXE, PS in a PML5E/PML4E.
      if ((eh & this.#rsvdHi) !== 0 || (level >= 3 && (e & 0x80) !== 0))
        return this.#fault(base | X86_PF_PROT | X86_PF_RSVD, "reserved-bit");
      rw &= (e >>> 1) & 1;
      us &= (e >>> 2) & 1;
      nxAny |= eh >>> 31;
      const huge = level > 0 && (e & 0x80) !== 0;
      if (level === 0 || huge) {
        // A huge page's frame address must be aligned: bits 13..20 (2 MiB) or 13..29 (1 GiB) are reserved.
        if (huge && (level === 1 ? (e & 0x1fe000) !== 0 : (e & 0x3fffe000) !== 0))
          return this.#fault(base | X86_PF_PROT | X86_PF_RSVD, "reserved-bit");
        const nxOn = this.nx && nxAny === 1;
        if (user) {
          if (!us || (write && !rw) || (exec && nxOn)) return this.#fault(base | X86_PF_PROT, "protection");
        } else if (exec) {
          if (nxOn) return this.#fault(base | X86_PF_PROT, "protection");
          if (us && this.smep) return this.#fault(base | X86_PF_PROT, "smep");
        } else {
          if (us && this.smap && !this.#ac) return this.#fault(base | X86_PF_PROT, "smap");
          if (write && !rw && this.wp) return this.#fault(base | X86_PF_PROT, "protection");
        }
        // The access is allowed: Accessed on the leaf, and Dirty for a write.
        let dirty = (e & 0x40) !== 0;
        if ((e & 0x20) === 0 || (write && !dirty)) {
          ram32[w] = e | 0x20 | (write ? 0x40 : 0);
          dirty ||= write;
        }
        // The frame of this 4 KiB piece.
        const leafPfn = (eh & 0xfffff) * 0x100000 + (e >>> 12);
        const pfn =
          level === 0
            ? leafPfn
            : level === 1
              ? leafPfn - (leafPfn % 0x200) + ((lo >>> 12) & 0x1ff) // not & ~0x1ff: pfns reach 2^40
              : leafPfn - (leafPfn % 0x40000) + ((lo >>> 12) & 0x3ffff);
        const frameOff = pfn >= ls && pfn < le ? (pfn - ls) * 4096 : phys.pfnOffset(pfn);
        if (frameOff < 0) return this.#fault(base | X86_PF_PROT | X86_PF_RSVD, "reserved-bit"); // no RAM behind it
        if (this.#tlb[set * 4 + 3]! & (T_HUGE2M | T_HUGE1G)) this.#huge--;
        this.#fill(set);
        this.#tlb[set * 4] = hi;
        this.#tlb[set * 4 + 1] = lo >>> 12;
        this.#tlb[set * 4 + 2] = frameOff / 4096;
        const hugeBit = level === 1 ? T_HUGE2M : level === 2 ? T_HUGE1G : 0;
        if (hugeBit) this.#huge++;
        this.#tlb[set * 4 + 3] =
          T_VALID |
          (rw ? T_WRITE : 0) |
          (us ? T_USER : 0) |
          (nxOn ? T_NX : 0) |
          ((e & 0x100) !== 0 ? T_GLOBAL : 0) |
          (dirty ? T_DIRTY : 0) |
          hugeBit;
        return frameOff;
      }
      // An entry that leads to a table was used by the walk: its Accessed bit is set (SDM §4.8), whatever the
      // walk finds further down.
      if ((e & 0x20) === 0) ram32[w] = e | 0x20;
      // The next table's frame: a small integer while the frame number fits 31 bits (V8 keeps it out of doubles).
      table =
        (eh & 0xff800) === 0 ? ((eh & 0x7ff) << 20) | (e >>> 12) : (eh & 0xfffff) * 0x100000 + (e >>> 12);
    }
    return this.#fault(base, "not-present");
  }

  /**
   * What the TLB holds for `va`, if anything: the physical address it would give and the cached permissions
   * (for tests and teaching: it shows a stale entry after a table change without `invlpg`).
   */
  tlbLookup(
    va: Addr,
  ):
    | { phys: number; writable: boolean; user: boolean; nx: boolean; global: boolean; dirty: boolean }
    | undefined {
    const [hi, lo] = splitVa("tlbLookup", va, this.levels);
    const set = this.#set(hi, lo);
    if (this.#tlb[set * 4] !== (hi | 0) || this.#tlb[set * 4 + 1] !== lo >>> 12) return undefined;
    const info = this.#tlb[set * 4 + 3]!;
    return {
      phys: this.#physOfOffset(this.#tlb[set * 4 + 2]! * 4096) + (lo & 4095),
      writable: (info & T_WRITE) !== 0,
      user: (info & T_USER) !== 0,
      nx: (info & T_NX) !== 0,
      global: (info & T_GLOBAL) !== 0,
      dirty: (info & T_DIRTY) !== 0,
    };
  }
}
