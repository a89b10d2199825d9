// One simulated machine's memory: RAM and its allocator, one CPU's MMU, kernel memory, the current address space,
// and the uaccess functions of include/linux/uaccess.h, lib/usercopy.c, lib/strncpy_from_user.c,
// lib/strnlen_user.c and arch/x86/include/asm/uaccess*.h with their return conventions.

import { type Addr, KernelError } from "@kbridge/uapi";
import { SI_KERNEL, SIGSEGV, SignalError } from "./fault.js";
import { type MmOptions, MmStruct } from "./mmap.js";
import { Mmu, type MmuOptions, X86_PF_PROT, X86_PF_RSVD, X86_PF_USER, X86_PF_WRITE } from "./mmu.js";
import { __GFP_ZERO, GFP_KERNEL, type MemoryRange, PhysicalMemory } from "./page-alloc.js";
import { hexPtr, KernelMemory, KernelOops } from "./slab.js";
import { access_ok, type KernelBuf, type UaccessStats, u64 } from "./uaccess.js";

/** Options of a {@link Vmm}: the RAM and the CPU's paging features. */
export interface VmmOptions extends MmuOptions {
  /** RAM from physical address 0, in bytes (64 MiB by default). */
  readonly ram?: number;
  /** RAM as e820-like ranges instead (e.g. to have memory above 4 GiB for DMA32 tests). */
  readonly ranges?: readonly MemoryRange[];
}

const INT_MAX = 0x7fffffff;
const TWO32 = 4294967296;
const EFAULT = -14;

/**
 * The memory side of one simulated machine: {@link PhysicalMemory}, one CPU's {@link Mmu}, {@link KernelMemory}
 * (kmalloc and the direct map), the shared zero page, address spaces ({@link mm_alloc}, {@link switch_mm}), user-mode
 * accesses that take page faults as a CPU would ({@link userRead}, {@link userWrite}), and uaccess:
 * `copy_to_user`/`copy_from_user` return the number of bytes **not** copied, resolve the faults that can be resolved
 * (demand-zero, copy-on-write, file pages) and stop at the first byte that cannot be reached; `copy_from_user` zeroes
 * the kernel bytes it could not fill.
 *
 * @example
 * ```ts
 * const vmm = new Vmm({ ram: 16 << 20 });
 * const mm = vmm.mm_alloc();
 * vmm.switch_mm(mm);
 * const buf = mm.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
 * mm.munmap(buf + 4096, 4096);
 * const k = vmm.kmem.kmalloc(8192);
 * vmm.copy_to_user(buf + 4000, k, 200); // 104: 96 bytes fit before the hole
 * ```
 */
export class Vmm {
  /** The RAM and the page allocator. */
  readonly phys: PhysicalMemory;
  /** The CPU's MMU. */
  readonly mmu: Mmu;
  /** Kernel memory: kmalloc, the direct map, hardened usercopy. */
  readonly kmem: KernelMemory;
  /** 4- or 5-level paging. */
  readonly levels: 4 | 5;
  /** The frame of the shared zero page (`ZERO_PAGE(0)`): mapped read-only by every read fault on anonymous memory. */
  readonly zeroPfn: number;
  #current: MmStruct | undefined;
  #calls = 0;
  #copied = 0;
  #notCopied = 0;
  #pages = 0;
  #resolved = 0;
  #failed = 0;
  #accessOk = 0;
  readonly #log: string[] = [];
  // TASK_SIZE_MAX as a number (page-aligned: exact as a double).
  readonly #limit: number;

  /**
   * @param options - RAM size or ranges, and MMU options (levels, SMAP, SMEP, NX, WP, MAXPHYADDR, TLB size)
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for bad options
   */
  constructor(options: VmmOptions = {}) {
    this.phys = new PhysicalMemory(
      options.ranges !== undefined ? { ranges: options.ranges } : { size: options.ram ?? 64 * 1024 * 1024 },
    );
    this.mmu = new Mmu(this.phys, options);
    this.levels = this.mmu.levels;
    this.kmem = new KernelMemory(this.phys, this.levels);
    this.zeroPfn = this.phys.alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
    this.#limit = (this.levels === 5 ? 2 ** 56 : 2 ** 47) - 4096;
  }

  /**
   * `mm_alloc()`: a new, empty address space on this machine.
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM when no frame is left for its page-table root
   */
  mm_alloc(options?: MmOptions): MmStruct {
    return new MmStruct(this, options);
  }

  /** The address space loaded on the CPU (`current->mm`), if any. */
  get current(): MmStruct | undefined {
    return this.#current;
  }

  /**
   * `switch_mm()`: load `mm`'s page tables into CR3 (the TLB loses its non-global entries).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for an address space of another machine or one torn down
   */
  switch_mm(mm: MmStruct): void {
    if (!(mm instanceof MmStruct) || mm.host !== this)
      throw new KernelError("EINVAL", "not an address space of this machine", { op: "switch_mm" });
    if (mm.dead) throw new KernelError("EINVAL", "the address space was torn down", { op: "switch_mm" });
    this.mmu.load_cr3(mm.pgd.root);
    this.#current = mm;
  }

  #mm(op: string): MmStruct {
    const mm = this.#current;
    if (mm === undefined || mm.dead)
      throw new KernelError("EINVAL", "no address space is loaded (switch_mm first)", { op });
    return mm;
  }

  /**
   * The kernel log of this machine: the lines its kernel code printed ({@link printk}), e.g. check_copy_size's
   * `WARNING: Buffer overflow detected (16 < 17)!`, oldest first.
   */
  dmesg(): readonly string[] {
    return [...this.#log];
  }

  // WARN(): the kernel logs a line (and a backtrace, which the model leaves out) and goes on.
  #warn(line: string): void {
    this.printk(`WARNING: ${line}`);
  }

  /**
   * `printk()`: appends a line to this machine's kernel log ({@link dmesg}); for the kernel code of other packages
   * (dma-device's WARNs, a driver's messages).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a non-string
   */
  printk(line: string): void {
    if (typeof line !== "string")
      throw new KernelError("EINVAL", `${String(line)} is not a log line`, { op: "printk" });
    this.#log.push(line);
  }

  // check_copy_size(): a kernel buffer whose size the compiler knows (a Uint8Array: an array on the stack or in a
  // struct) and a larger count: WARN "Buffer overflow detected" (mm/maccess.c __copy_overflow) and the copy does not
  // happen, the kernel buffer is not zeroed, and the caller gets n back.
  #overflows(buf: KernelBuf, n: number): boolean {
    if (!(buf instanceof Uint8Array) || n <= buf.length) return false;
    this.#warn(`Buffer overflow detected (${buf.length} < ${n})!`);
    return true;
  }

  /** The uaccess counters. */
  uaccessStats(): UaccessStats {
    return {
      calls: this.#calls,
      bytesCopied: this.#copied,
      bytesNotCopied: this.#notCopied,
      pagesTouched: this.#pages,
      faultsResolved: this.#resolved,
      faultsFailed: this.#failed,
      accessOkFailures: this.#accessOk,
    };
  }

  /** `access_ok(ptr, size)` for this machine's paging mode. See {@link access_ok}. */
  access_ok(ptr: Addr, size: Addr): boolean {
    return access_ok(ptr, size, this.levels);
  }

  // ---- the page walk of one access, with the fault path --------------------------------------------------------

  // The RAM offset of the user page [hi, lo] for a kernel uaccess (AC set), resolving faults; -1 when it cannot be.
  #uaccessPage(mm: MmStruct, hi: number, lo: number, write: boolean, noFault: boolean): number {
    const mmu = this.mmu;
    for (let tries = 0; tries < 4; tries++) {
      this.#pages++;
      const off = mmu.pageOffset(hi, lo, write, false);
      if (off >= 0) return off;
      const { code, reason } = mmu.lastFault;
      if (reason === "non-canonical") return -1;
      if (code & X86_PF_RSVD)
        throw new KernelOops(
          `corrupted page table at ${hexPtr((BigInt(hi) << 32n) | BigInt(lo))}`,
          "pgtable_bad",
        );
      // SMAP is off limits inside a uaccess (AC is set); a fault with faults disabled goes to the fixup at once.
      if (noFault) return -1;
      const r = mm.handle_fault(hi * TWO32 + (lo >>> 12) * 4096, code);
      if (r !== 0) {
        this.#failed++;
        return -1;
      }
      this.#resolved++;
    }
    return -1;
  }

  // raw_copy_{to,from}_user(): copy in address order, page by page; returns the bytes NOT copied.
  // `k` is the RAM offset of the kernel side (or -1 with `arr` the kernel buffer).
  #rawCopy(
    op: string,
    user: bigint,
    n: number,
    toUser: boolean,
    k: number,
    arr: Uint8Array | undefined,
    noFault: boolean,
  ): number {
    return this.#rawCopyHL(op, Number(user >> 32n), Number(user & 0xffffffffn), n, toUser, k, arr, noFault);
  }

  #rawCopyHL(
    op: string,
    hi: number,
    lo: number,
    n: number,
    toUser: boolean,
    k: number,
    arr: Uint8Array | undefined,
    noFault: boolean,
  ): number {
    if (n === 0) return 0;
    const mm = this.#mm(op);
    const mmu = this.mmu;
    const ram = this.phys.ram;
    // A copy inside one present page (most ioctl arguments): one translation, one copy.
    if ((lo & 4095) + n <= 4096 && arr !== undefined) {
      mmu.stac();
      const page = mmu.pageOffset(hi, lo, toUser, false);
      mmu.clac();
      if (page >= 0) {
        const u = page + (lo & 4095);
        if (n <= 16) {
          if (toUser) for (let i = 0; i < n; i++) ram[u + i] = arr[i]!;
          else for (let i = 0; i < n; i++) arr[i] = ram[u + i]!;
        } else if (toUser) ram.set(n === arr.length ? arr : arr.subarray(0, n), u);
        else arr.set(ram.subarray(u, u + n));
        this.#pages++;
        this.#copied += n;
        return 0;
      }
    }
    let done = 0;
    // Pages translated one by one; user pages that sit back to back in RAM are copied with one call (a run), which
    // is flushed before any fault is handled, so the bytes before a fault are always copied.
    let runUser = -1;
    let runFrom = 0;
    let runLen = 0;
    const flush = () => {
      if (runLen === 0) return;
      if (toUser) {
        if (arr === undefined) ram.copyWithin(runUser, k + runFrom, k + runFrom + runLen);
        else ram.set(arr.subarray(runFrom, runFrom + runLen), runUser);
      } else if (arr === undefined) ram.copyWithin(k + runFrom, runUser, runUser + runLen);
      else arr.set(ram.subarray(runUser, runUser + runLen), runFrom);
      runLen = 0;
    };
    mmu.stac();
    try {
      while (done < n) {
        const chunk = Math.min(4096 - (lo & 4095), n - done);
        this.#pages++;
        let page = mmu.pageOffset(hi, lo, toUser, false);
        if (page < 0) {
          flush();
          this.#pages--;
          page = this.#uaccessPage(mm, hi, lo, toUser, noFault);
          if (page < 0) break;
        }
        const u = page + (lo & 4095);
        if (runLen > 0 && u === runUser + runLen) runLen += chunk;
        else {
          flush();
          runUser = u;
          runFrom = done;
          runLen = chunk;
        }
        done += chunk;
        lo += chunk;
        if (lo >= TWO32) {
          lo -= TWO32;
          hi++;
        }
      }
      flush();
    } finally {
      mmu.clac();
    }
    this.#copied += done;
    this.#notCopied += n - done;
    return n - done;
  }

  // The kernel side of a copy: its RAM offset (kernel pointer) or the array, after check_object_size().
  #kernelSide(
    op: string,
    buf: KernelBuf,
    n: number,
    toUser: boolean,
    deref = true,
  ): { k: number; arr: Uint8Array | undefined } {
    if (buf instanceof Uint8Array) {
      if (n > buf.length) {
        const what = toUser ? "exposure" : "overwrite";
        throw new KernelOops(
          `usercopy: Kernel memory ${what} attempt detected ${toUser ? "from" : "to"} process stack (offset 0, size ${n})!`,
          op,
        );
      }
      return { k: -1, arr: buf };
    }
    if (typeof buf !== "bigint")
      throw new KernelError("EINVAL", `kernel buffer ${String(buf)} is not a kernel pointer or Uint8Array`, {
        op,
      });
    this.kmem.check_object_size(buf, n, toUser);
    const k = this.kmem.ramOffset(buf, n);
    // `deref` false: the caller touches the buffer only later (copy_to_user reads it after access_ok passed).
    if (k < 0 && n > 0 && deref)
      throw new KernelOops(`BUG: unable to handle page fault for address: ${hexPtr(buf)}`, op);
    return { k, arr: undefined };
  }

  #count(op: string, n: unknown): number {
    this.#calls++;
    if (typeof n === "bigint") {
      if (n < 0n || n >= 2n ** 64n) throw new KernelError("EINVAL", `n ${n} is not an unsigned long`, { op });
      return n > BigInt(INT_MAX) ? INT_MAX + 1 : Number(n);
    }
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
      throw new KernelError("EINVAL", `n ${String(n)} is not a byte count`, { op });
    return n;
  }

  /**
   * `copy_to_user(to, from, n)`: copies `n` kernel bytes to user memory and returns the number of bytes NOT copied
   * (0 on success, never negative). check_copy_size() comes first: a `Uint8Array` source shorter than `n` (a buffer
   * whose size the compiler knows) logs `Buffer overflow detected` in {@link dmesg} and returns `n`, as does
   * `n > INT_MAX`; a range that fails access_ok returns `n`; a fault that cannot be resolved stops the copy at that
   * byte. User bytes past it are left as they were.
   * @throws {@link KernelOops} for a hardened-usercopy violation on the kernel side; EINVAL without a loaded mm
   */
  copy_to_user(to: Addr, from: KernelBuf, n: number | bigint): number {
    // The common case without BigInt: a number address, a kernel array that holds n bytes, a range access_ok passes.
    if (
      typeof to === "number" &&
      typeof n === "number" &&
      from instanceof Uint8Array &&
      n >= 0 &&
      n <= from.length &&
      to >= 0 &&
      to + n <= this.#limit &&
      to + n <= Number.MAX_SAFE_INTEGER &&
      Number.isInteger(n) &&
      Number.isInteger(to)
    ) {
      this.#calls++;
      return this.#rawCopyHL("copy_to_user", Math.floor(to / TWO32), to >>> 0, n, true, -1, from, false);
    }
    return this.#copyTo("copy_to_user", to, from, n, true, false);
  }

  /** `__copy_to_user()`: copy_to_user without access_ok (the caller checked it). */
  __copy_to_user(to: Addr, from: KernelBuf, n: number | bigint): number {
    return this.#copyTo("__copy_to_user", to, from, n, false, false);
  }

  /** `copy_to_user_nofault()` (mm/maccess.c): 0 or -EFAULT; page faults are disabled, so a page not yet present fails. */
  copy_to_user_nofault(to: Addr, from: KernelBuf, n: number | bigint): 0 | -14 {
    return this.#copyTo("copy_to_user_nofault", to, from, n, true, true) === 0 ? 0 : EFAULT;
  }

  #copyTo(
    op: string,
    to: Addr,
    from: KernelBuf,
    n0: number | bigint,
    check: boolean,
    noFault: boolean,
  ): number {
    const n = this.#count(op, n0);
    const user = u64(op, "to", to);
    if (check && !noFault && this.#overflows(from, n)) return typeof n0 === "bigint" ? Number(n0) : n;
    if (n > INT_MAX) return typeof n0 === "bigint" ? Number(n0) : n;
    // check_copy_size() → check_object_size() first; the source is read only once access_ok passed, so a source
    // that is no kernel memory (usercopy_kunit.c's "illegal reversed copy_to_user") just returns n when the
    // destination fails access_ok.
    const { k, arr } = this.#kernelSide(op, from, n, true, false);
    if (check && !this.access_ok(user, n)) {
      this.#accessOk++;
      this.#notCopied += n;
      return n;
    }
    if (k < 0 && arr === undefined && n > 0)
      throw new KernelOops(`BUG: unable to handle page fault for address: ${hexPtr(from as bigint)}`, op);
    return this.#rawCopy(op, user, n, true, k, arr, noFault);
  }

  /**
   * `copy_from_user(to, from, n)`: copies `n` user bytes into kernel memory and returns the number of bytes NOT
   * copied. Whatever could not be copied is zero-filled in the kernel buffer (`memset(to + (n - res), 0, res)`), all
   * `n` bytes when access_ok fails. A `Uint8Array` destination shorter than `n` (check_copy_size: `Buffer overflow
   * detected` in {@link dmesg}) and `n > INT_MAX` return `n` without copying or zeroing.
   * @throws {@link KernelOops} for a hardened-usercopy violation on the kernel side; EINVAL without a loaded mm
   */
  copy_from_user(to: KernelBuf, from: Addr, n: number | bigint): number {
    if (
      typeof from === "number" &&
      typeof n === "number" &&
      to instanceof Uint8Array &&
      n >= 0 &&
      n <= to.length &&
      from >= 0 &&
      from + n <= this.#limit &&
      from + n <= Number.MAX_SAFE_INTEGER &&
      Number.isInteger(n) &&
      Number.isInteger(from)
    ) {
      this.#calls++;
      const res = this.#rawCopyHL(
        "copy_from_user",
        Math.floor(from / TWO32),
        from >>> 0,
        n,
        false,
        -1,
        to,
        false,
      );
      if (res !== 0) to.fill(0, n - res, n);
      return res;
    }
    return this.#copyFrom("copy_from_user", to, from, n, true, true, false);
  }

  /** `__copy_from_user()`: no access_ok and no zeroing of the uncopied tail. */
  __copy_from_user(to: KernelBuf, from: Addr, n: number | bigint): number {
    return this.#copyFrom("__copy_from_user", to, from, n, false, false, false);
  }

  /** `copy_from_user_nofault()` (mm/maccess.c): 0 or -EFAULT, with page faults disabled. */
  copy_from_user_nofault(to: KernelBuf, from: Addr, n: number | bigint): 0 | -14 {
    return this.#copyFrom("copy_from_user_nofault", to, from, n, true, false, true) === 0 ? 0 : EFAULT;
  }

  #copyFrom(
    op: string,
    to: KernelBuf,
    from: Addr,
    n0: number | bigint,
    check: boolean,
    zero: boolean,
    noFault: boolean,
  ): number {
    const n = this.#count(op, n0);
    const user = u64(op, "from", from);
    if (check && !noFault && this.#overflows(to, n)) return typeof n0 === "bigint" ? Number(n0) : n;
    if (n > INT_MAX) return typeof n0 === "bigint" ? Number(n0) : n;
    const { k, arr } = this.#kernelSide(op, to, n, false);
    const zeroTail = (res: number) => {
      if (!zero || res === 0) return;
      if (arr !== undefined) arr.fill(0, n - res, n);
      else this.phys.ram.fill(0, k + n - res, k + n);
    };
    if (check && !this.access_ok(user, n)) {
      this.#accessOk++;
      this.#notCopied += n;
      zeroTail(n);
      return n;
    }
    const res = this.#rawCopy(op, user, n, false, k, arr, noFault);
    zeroTail(res);
    return res;
  }

  /**
   * `get_user(x, ptr)` for a `size`-byte value (1, 2, 4, 8; little-endian, unaligned allowed): `{ ret: 0, val }`
   * or `{ ret: -EFAULT, val: 0 }` (get_user zeroes x on failure). The range check is included. 8-byte values are
   * bigints.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for another size (a build error in C)
   */
  get_user(ptr: Addr, size: 1 | 2 | 4 | 8): { ret: 0 | -14; val: number | bigint } {
    const op = "get_user";
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
      throw new KernelError("EINVAL", `size ${String(size)} is not 1, 2, 4 or 8 (__get_user_bad)`, { op });
    const b = new Uint8Array(8);
    const res = this.#copyFrom(op, b.subarray(0, size), ptr, size, true, true, false);
    if (res !== 0) return { ret: EFAULT, val: size === 8 ? 0n : 0 };
    const dv = new DataView(b.buffer);
    const val =
      size === 1
        ? b[0]!
        : size === 2
          ? dv.getUint16(0, true)
          : size === 4
            ? dv.getUint32(0, true)
            : dv.getBigUint64(0, true);
    return { ret: 0, val };
  }

  /**
   * `put_user(x, ptr)`: stores a `size`-byte value; 0 or -EFAULT (a failed store writes nothing: the value is one
   * access, it does not cross a fault).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for another size or a value that does not fit
   */
  put_user(ptr: Addr, val: number | bigint, size: 1 | 2 | 4 | 8): 0 | -14 {
    const op = "put_user";
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
      throw new KernelError("EINVAL", `size ${String(size)} is not 1, 2, 4 or 8 (__put_user_bad)`, { op });
    let v: bigint;
    if (typeof val === "bigint") v = val;
    else if (typeof val === "number" && Number.isSafeInteger(val)) v = BigInt(val);
    else throw new KernelError("EINVAL", `value ${String(val)} is not an integer`, { op });
    if (v < -(2n ** BigInt(size * 8 - 1)) || v >= 2n ** BigInt(size * 8))
      throw new KernelError("EINVAL", `value ${v} does not fit ${size} bytes`, { op });
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    // One store: probe the whole range first so that a store across a fault writes nothing.
    const user = u64(op, "ptr", ptr);
    this.#calls++;
    if (!this.access_ok(user, size)) {
      this.#accessOk++;
      return EFAULT;
    }
    // arch/x86/lib/putuser.S: the store is one `mov`, and a faulting instruction has no effect. When the value
    // straddles two pages, the second is faulted in for writing first: if it cannot be, nothing is stored.
    const last = user + BigInt(size - 1);
    if (last >> 12n !== user >> 12n) {
      const mm = this.#mm(op);
      this.mmu.stac();
      let page: number;
      try {
        page = this.#uaccessPage(mm, Number(last >> 32n), Number(last & 0xffffffffn), true, false);
      } finally {
        this.mmu.clac();
      }
      if (page < 0) return EFAULT;
    }
    const res = this.#rawCopy(op, user, size, true, -1, b.subarray(0, size), false);
    return res === 0 ? 0 : EFAULT;
  }

  /**
   * `clear_user(to, n)`: zeroes `n` user bytes; returns the number NOT cleared (n when access_ok fails), stopping at
   * the first page that cannot be written, like copy_to_user.
   */
  clear_user(to: Addr, n: number | bigint): number {
    const op = "clear_user";
    const len = this.#count(op, n);
    const user = u64(op, "to", to);
    if (!this.access_ok(user, len)) {
      this.#accessOk++;
      return len;
    }
    return this.#rawCopy(op, user, len, true, -1, new Uint8Array(len), false);
  }

  // The user string functions' walk: up to `count` bytes from `src`, never past TASK_SIZE_MAX, page by page with
  // faults resolved inside stac/clac; each piece goes to `visit(u, chunk, done)` (u: its RAM offset), which returns
  // true to stop. The result: "fault" (an invalid start or a fault before the end), "stopped", or "end" (`max` bytes
  // read; `max` < `count` when the top of the address space came first).
  #scanUser(
    op: string,
    src: Addr,
    count: number,
    visit: (u: number, chunk: number, done: number) => boolean,
  ): { result: "fault" | "stopped" | "end"; max: number } {
    const user = u64(op, "src", src);
    const limit = this.levels === 5 ? 2n ** 56n - 4096n : 2n ** 47n - 4096n;
    if (user >= limit) return { result: "fault", max: 0 };
    const max = Number(limit - user < BigInt(count) ? limit - user : BigInt(count));
    const mm = this.#mm(op);
    let hi = Number(user >> 32n);
    let lo = Number(user & 0xffffffffn);
    this.mmu.stac();
    try {
      for (let done = 0; done < max; ) {
        const page = this.#uaccessPage(mm, hi, lo, false, false);
        if (page < 0) return { result: "fault", max };
        const chunk = Math.min(4096 - (lo & 4095), max - done);
        if (visit(page + (lo & 4095), chunk, done)) return { result: "stopped", max };
        done += chunk;
        lo += chunk;
        if (lo >= TWO32) {
          lo -= TWO32;
          hi++;
        }
      }
    } finally {
      this.mmu.clac();
    }
    return { result: "end", max };
  }

  #checkCount(op: string, count: number): void {
    this.#calls++;
    if (!Number.isSafeInteger(count))
      throw new KernelError("EINVAL", `count ${String(count)} is not an integer`, { op });
  }

  /**
   * `strncpy_from_user(dst, src, count)`: copies a NUL-terminated string of at most `count` bytes. Returns its length
   * without the NUL (the NUL copied too), `count` when no NUL came within `count` bytes (dst not terminated), 0 for
   * count <= 0, or -EFAULT for an invalid address or a fault before the NUL (dst may hold part of the string). The
   * copy stops at the top of the user address space: reaching it before `count` bytes is -EFAULT.
   */
  strncpy_from_user(dst: KernelBuf, src: Addr, count: number): number {
    const op = "strncpy_from_user";
    this.#checkCount(op, count);
    if (count <= 0) return 0;
    u64(op, "src", src);
    const { k, arr } = this.#kernelSide(op, dst, count, false);
    const out = arr ?? this.phys.ram.subarray(k, k + count);
    const ram = this.phys.ram;
    let len = -1;
    let copied = 0;
    const { result, max } = this.#scanUser(op, src, count, (u, chunk, done) => {
      for (let i = 0; i < chunk; i++) {
        const c = ram[u + i]!;
        out[done + i] = c;
        if (c === 0) {
          len = done + i;
          copied = len + 1;
          return true;
        }
      }
      copied = done + chunk;
      return false;
    });
    this.#copied += copied;
    if (result === "stopped") return len;
    return result === "end" && max === count ? count : EFAULT;
  }

  /**
   * `strnlen_user(src, count)`: the length of a user string INCLUDING its NUL ("" is 1); a value greater than `count`
   * when no NUL is in the first `count` bytes (the model returns count + 1); 0 for a fault, an invalid address or
   * count <= 0.
   */
  strnlen_user(src: Addr, count: number): number {
    const op = "strnlen_user";
    this.#checkCount(op, count);
    if (count <= 0) return 0;
    const ram = this.phys.ram;
    let len = 0;
    const { result, max } = this.#scanUser(op, src, count, (u, chunk, done) => {
      const nul = ram.subarray(u, u + chunk).indexOf(0);
      if (nul < 0) return false;
      len = done + nul + 1;
      return true;
    });
    if (result === "stopped") return len;
    return result === "end" && max === count ? count + 1 : 0;
  }

  /**
   * `check_zeroed_user(from, size)`: 1 when the `size` user bytes are all zero (also for size 0), 0 when one is not,
   * -EFAULT when they cannot be read. The scan goes in address order and stops at the first non-zero byte
   * (lib/usercopy.c reads aligned words and leaves on the first non-zero one), so a non-zero byte before a page
   * that cannot be read answers 0, not -EFAULT.
   */
  check_zeroed_user(from: Addr, size: number): 1 | 0 | -14 {
    const op = "check_zeroed_user";
    if (!Number.isSafeInteger(size) || size < 0)
      throw new KernelError("EINVAL", `size ${String(size)} is not a byte count`, { op });
    if (size === 0) return 1;
    const user = u64(op, "from", from);
    if (!this.access_ok(user, size)) return EFAULT;
    const b = new Uint8Array(size);
    this.#calls++;
    // Aligned words never cross a page, so page by page is word by word as far as faults are concerned.
    for (let done = 0; done < size; ) {
      const chunk = Math.min(4096 - Number((user + BigInt(done)) & 4095n), size - done);
      const part = b.subarray(done, done + chunk);
      if (this.#rawCopy(op, user + BigInt(done), chunk, false, -1, part, false) !== 0) return EFAULT;
      if (part.some((x) => x !== 0)) return 0;
      done += chunk;
    }
    return 1;
  }

  /**
   * `copy_struct_from_user(dst, ksize, src, usize)`: the extensible-struct copy of openat2/clone3. usize < ksize:
   * copy usize bytes, zero the rest; usize > ksize: the extra user bytes must be zero (-E2BIG otherwise, -EFAULT if
   * unreadable), then ksize bytes are copied; a failed copy is -EFAULT. A `dst` smaller than ksize is -E2BIG (the
   * kernel's WARN_ON_ONCE).
   */
  copy_struct_from_user(dst: KernelBuf, ksize: number, src: Addr, usize: number): 0 | -7 | -14 {
    const op = "copy_struct_from_user";
    if (!Number.isSafeInteger(ksize) || ksize < 0 || !Number.isSafeInteger(usize) || usize < 0)
      throw new KernelError("EINVAL", `ksize ${String(ksize)} / usize ${String(usize)} are not byte counts`, {
        op,
      });
    const user = u64(op, "src", src);
    const size = Math.min(ksize, usize);
    const rest = Math.max(ksize, usize) - size;
    if (dst instanceof Uint8Array && ksize > dst.length) return -7;
    if (usize < ksize) {
      const view = dst instanceof Uint8Array ? dst : this.kmem.view(dst, ksize);
      view.fill(0, size, ksize);
    } else if (usize > ksize) {
      const r = this.check_zeroed_user(user + BigInt(size), rest);
      if (r <= 0) return r === 0 ? -7 : EFAULT;
    }
    if (this.copy_from_user(dst, user, size) !== 0) return EFAULT;
    return 0;
  }

  // ---- user mode ---------------------------------------------------------------------------------------------------

  // A user-mode access of one page, faults resolved as the kernel would; a signal or an oops ends it.
  #userPage(op: string, hi: number, lo: number, write: boolean, exec: boolean): number {
    const mm = this.#mm(op);
    for (let tries = 0; tries < 4; tries++) {
      const off = this.mmu.pageOffset(hi, lo, write, true, exec);
      if (off >= 0) return off;
      const { code, reason } = this.mmu.lastFault;
      const addr = (BigInt(hi) << 32n) | BigInt(lo);
      if (reason === "non-canonical") throw new SignalError(SIGSEGV, SI_KERNEL, 0n);
      if (code & X86_PF_RSVD) throw new KernelOops(`corrupted page table at ${hexPtr(addr)}`, "pgtable_bad");
      const r = mm.handle_fault(hi * TWO32 + (lo >>> 12) * 4096, code);
      if (r === 0) continue;
      if (r.signo === 0)
        throw new KernelError("ENOMEM", `out of memory at ${hexPtr(addr)}: the OOM killer runs`, { op });
      throw new SignalError(r.signo, r.code, addr);
    }
    throw new KernelError("EFAULT", "the fault did not resolve", { op });
  }

  #userLoop(
    op: string,
    va: Addr,
    n: number,
    write: boolean,
    body: (off: number, done: number, chunk: number) => void,
  ): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new KernelError("EINVAL", `length ${String(n)} is not a byte count`, { op });
    const user = u64(op, "address", va);
    let hi = Number(user >> 32n);
    let lo = Number(user & 0xffffffffn);
    for (let done = 0; done < n; ) {
      const chunk = Math.min(4096 - (lo & 4095), n - done);
      body(this.#userPage(op, hi, lo, write, false) + (lo & 4095), done, chunk);
      done += chunk;
      lo += chunk;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi++;
      }
    }
  }

  /**
   * A load by user code of `n` bytes at `va` in the current address space (CPL 3), taking page faults as the CPU
   * and the kernel do: a resolvable fault is resolved; otherwise the task gets a signal.
   * @throws {@link SignalError} SIGSEGV (SEGV_MAPERR, SEGV_ACCERR) or SIGBUS (BUS_ADRERR) at the faulting address
   */
  userRead(va: Addr, n: number): Uint8Array {
    const out = new Uint8Array(n >= 0 && Number.isSafeInteger(n) ? n : 0);
    const ram = this.phys.ram;
    this.#userLoop("userRead", va, n, false, (off, done, chunk) =>
      out.set(ram.subarray(off, off + chunk), done),
    );
    return out;
  }

  /**
   * A store by user code of `data` at `va` (CPL 3), faults handled as in {@link userRead}. Bytes before a faulting
   * page are stored (the instruction stream stops there).
   * @throws {@link SignalError} as {@link userRead}
   */
  userWrite(va: Addr, data: Uint8Array): void {
    if (!(data instanceof Uint8Array))
      throw new KernelError("EINVAL", "data is not a Uint8Array", { op: "userWrite" });
    const ram = this.phys.ram;
    this.#userLoop("userWrite", va, data.length, true, (off, done, chunk) =>
      ram.set(data.subarray(done, done + chunk), off),
    );
  }

  /**
   * An instruction fetch by user code at `va` (one byte), checking NX.
   * @throws {@link SignalError} SIGSEGV/SEGV_ACCERR on a non-executable page, as {@link userRead} otherwise
   */
  userFetch(va: Addr): number {
    const user = u64("userFetch", "address", va);
    const hi = Number(user >> 32n);
    const lo = Number(user & 0xffffffffn);
    return this.phys.ram[this.#userPage("userFetch", hi, lo, false, true) + (lo & 4095)]!;
  }

  /**
   * Kernel code dereferencing `ptr` directly, without copy_from_user (the bug the source article's drivers make):
   * a user page under SMAP, or any page that is not present, is an oops, not -EFAULT.
   * @throws {@link KernelOops} with the kernel's text ("BUG: unable to handle page fault for address: …")
   */
  kernelRead(ptr: Addr, n: number): Uint8Array {
    const op = "kernel access";
    if (!Number.isSafeInteger(n) || n < 0)
      throw new KernelError("EINVAL", `length ${String(n)} is not a byte count`, { op });
    const p = u64(op, "ptr", ptr);
    if (p >= this.kmem.pageOffset) return this.kmem.view(p, n).slice();
    const out = new Uint8Array(n);
    let hi = Number(p >> 32n);
    let lo = Number(p & 0xffffffffn);
    for (let done = 0; done < n; ) {
      const chunk = Math.min(4096 - (lo & 4095), n - done);
      const off = this.mmu.pageOffset(hi, lo, false, false);
      if (off < 0) {
        const { code, reason } = this.mmu.lastFault;
        const addr = (BigInt(hi) << 32n) | BigInt(lo);
        const head =
          addr < 4096n
            ? `BUG: kernel NULL pointer dereference, address: ${hexPtr(addr)}`
            : `BUG: unable to handle page fault for address: ${hexPtr(addr)}`;
        const kind = code & X86_PF_PROT ? "permissions violation" : "not-present page";
        throw new KernelOops(
          reason === "non-canonical"
            ? `general protection fault, probably for non-canonical address ${hexPtr(addr)}`
            : `${head}\n#PF: supervisor ${code & X86_PF_WRITE ? "write" : "read"} access in ${code & X86_PF_USER ? "user" : "kernel"} mode\n#PF: error_code(0x${code.toString(16).padStart(4, "0")}) - ${kind}`,
          op,
        );
      }
      out.set(this.phys.ram.subarray(off + (lo & 4095), off + (lo & 4095) + chunk), done);
      done += chunk;
      lo += chunk;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi++;
      }
    }
    return out;
  }
}
