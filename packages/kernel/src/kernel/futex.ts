// Fast user-space mutexes (kernel/futex: syscalls.c sys_futex / do_futex, core.c get_futex_key, waitwake.c
// futex_wait / futex_wake): a task sleeps on a key derived from a user address until another wakes that key.
// The hash buckets become one FIFO list per kernel (every waiter has the same priority, so the kernel's plist is
// FIFO too).

import { get32, KernelError } from "@kbridge/uapi";
import {
  type MmStruct,
  pte_pfn,
  VM_IO,
  VM_MAYSHARE,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
  type Vma,
  X86_PF_PROT,
  X86_PF_USER,
  X86_PF_WRITE,
} from "@kbridge/vmm";
import type { Kernel, Task } from "../kernel.js";
import { ShmOpenFile } from "../mm/shmem.js";

const PAGE = 4096;
const EINTR = -4;
const EAGAIN = -11;
const EFAULT = -14;
const EINVAL = -22;
const ENOSYS = -38;
const ETIMEDOUT = -110;

/** `FUTEX_WAIT` (0). */
export const FUTEX_WAIT = 0;
/** `FUTEX_WAKE` (1). */
export const FUTEX_WAKE = 1;
/** `FUTEX_WAIT_BITSET` (9). */
export const FUTEX_WAIT_BITSET = 9;
/** `FUTEX_WAKE_BITSET` (10). */
export const FUTEX_WAKE_BITSET = 10;
/** `FUTEX_PRIVATE_FLAG` (128): the futex is private to the process (key: mm and address). */
export const FUTEX_PRIVATE_FLAG = 128;
/** `FUTEX_CLOCK_REALTIME` (256). */
export const FUTEX_CLOCK_REALTIME = 256;
/** `FUTEX_BITSET_MATCH_ANY` (0xffffffff). */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
const FUTEX_LOCK_PI = 6;
const FUTEX_WAIT_REQUEUE_PI = 11;
const FUTEX_LOCK_PI2 = 13;

interface Waiter {
  readonly key: string;
  readonly bitset: number;
  readonly task: Task;
  readonly wake: () => void;
}

// Object ids standing for `mm`, `mm->futex_unique_id` and `inode->i_sequence`.
const ids = new WeakMap<object, number>();
let nextId = 1;
function id(o: object): number {
  let v = ids.get(o);
  if (v === undefined) {
    v = nextId++;
    ids.set(o, v);
  }
  return v;
}

const QUEUES = new WeakMap<Kernel, Waiter[]>();
function queue(k: Kernel): Waiter[] {
  let q = QUEUES.get(k);
  if (q === undefined) {
    q = [];
    QUEUES.set(k, q);
  }
  return q;
}

/** Tasks sleeping in FUTEX_WAIT on `kernel` (0 when nothing is left waiting). */
export function futexWaiters(kernel: Kernel): number {
  return QUEUES.get(kernel)?.length ?? 0;
}

// get_user_pages_fast(address, 1, write ? FOLL_WRITE : 0): the frame mapped at `addr`, faulting it in (a write
// fault breaks copy-on-write), or -EFAULT. check_vma_flags(): the VMA must allow the access; VM_IO / VM_PFNMAP
// and special PTEs (the zero page, remap_pfn_range) have no page to pin.
function gup(mm: MmStruct, addr: number, write: boolean): { pfn: number; vma: Vma; rw: boolean } | number {
  const vma = mm.vma_lookup(addr);
  if (vma === undefined) return EFAULT;
  if (vma.vm_flags & (VM_IO | VM_PFNMAP)) return EFAULT;
  if (write ? (vma.vm_flags & VM_WRITE) === 0 : (vma.vm_flags & VM_READ) === 0) return EFAULT;
  for (let tries = 0; tries < 3; tries++) {
    const w = mm.pgd.walk(addr);
    const e = w.steps.length === 0 || w.phys === undefined ? 0n : w.steps[w.steps.length - 1]!.entry;
    const present = (e & 1n) !== 0n;
    const rw = (e & 2n) !== 0n;
    if (present && (!write || rw)) {
      if ((e & (1n << 9n)) !== 0n) return EFAULT; // vm_normal_page() is NULL
      return { pfn: pte_pfn(e), vma, rw };
    }
    const r = mm.handle_fault(addr, X86_PF_USER | (write ? X86_PF_WRITE : 0) | (present ? X86_PF_PROT : 0));
    if (r !== 0) return EFAULT;
  }
  return EFAULT;
}

/**
 * `get_futex_key(uaddr, flags, &key, FUTEX_READ)` as a string: an unaligned address is EINVAL, one failing
 * access_ok EFAULT. A private futex is (mm, address). A shared one pins the page (FOLL_WRITE first, read-only
 * after an EFAULT): an anonymous page gives (the mm's unique id, address) — so it never meets another process —,
 * a page of a file's page cache (a tmpfs object, or a shared anonymous mapping's shmem file) gives (inode, page
 * index, offset), so two processes mapping the same object meet whatever their addresses. A read-only anonymous
 * page is EFAULT. The page of a {@link ShmOpenFile} is told apart from a private copy by comparing frames; for
 * other files a MAP_SHARED VMA is taken as page cache and a MAP_PRIVATE one as anonymous.
 */
export function get_futex_key(k: Kernel, mm: MmStruct, uaddr: number, shared: boolean): string | number {
  const off = uaddr % PAGE;
  if (uaddr % 4 !== 0) return EINVAL;
  if (!k.vmm.access_ok(uaddr, 4)) return EFAULT;
  const address = uaddr - off;
  if (!shared) return `private:${id(mm)}:${address}:${off}`;
  let ro = false;
  let r = gup(mm, address, true);
  if (r === EFAULT) {
    r = gup(mm, address, false);
    ro = true;
  }
  if (typeof r === "number") return r;
  const { pfn, vma } = r;
  const file = vma.vm_file;
  const pgoff = vma.vm_pgoff + (address - vma.vm_start) / PAGE;
  if (file instanceof ShmOpenFile) {
    if (file.inode.pages.get(pgoff) === pfn) return `inode:${id(file.inode)}:${pgoff}:${off}`;
  } else if (file !== undefined && vma.vm_flags & VM_MAYSHARE) return `inode:${id(file)}:${pgoff}:${off}`;
  if (ro) return EFAULT;
  return `mmshared:${id(mm)}:${address}:${off}`;
}

function enter(k: Kernel, t: Task, op: string): void {
  if (t === null || typeof t !== "object" || typeof t.exited !== "boolean")
    throw new KernelError("EINVAL", "not a Task", { syscall: op });
  if (t.exited) throw new KernelError("ESRCH", `task ${t.pid} has exited`, { syscall: op });
  if (k.vmm.current !== t.mm) k.vmm.switch_mm(t.mm);
  k.current = t;
}

// futex_wait() → futex_wait_setup(): the key, then the value (get_user; EFAULT), EAGAIN when it changed, then
// queue and sleep until futex_wake (0) or a signal (-ERESTARTSYS, seen as EINTR).
function futexWait(
  k: Kernel,
  t: Task,
  uaddr: number,
  shared: boolean,
  val: number,
  timeout: boolean,
  bitset: number,
): number | Promise<number> {
  if (bitset === 0) return EINVAL;
  const key = get_futex_key(k, t.mm, uaddr, shared);
  if (typeof key === "number") return key;
  if (k.vmm.current !== t.mm) k.vmm.switch_mm(t.mm);
  const got = k.vmm.get_user(uaddr, 4);
  if (got.ret !== 0) return EFAULT;
  if (Number(got.val) >>> 0 !== val >>> 0) return EAGAIN;
  // The model's time does not pass while a task sleeps: a timer armed now has expired by the time it would run.
  if (timeout) return ETIMEDOUT;
  const q = queue(k);
  return new Promise<number>((resolve) => {
    const leave = (r: number) => {
      const i = q.indexOf(w);
      if (i >= 0) q.splice(i, 1);
      t.interrupts.delete(interrupted);
      resolve(r);
    };
    const interrupted = () => leave(EINTR);
    const w: Waiter = { key, bitset, task: t, wake: () => leave(0) };
    q.push(w);
    t.interrupts.add(interrupted);
  });
}

// futex_wake(): up to nr_wake waiters on the key whose bitset meets `bitset`, oldest first. nr_wake is an int and
// the count is compared after the increment, so 0 (or a negative value) still wakes one.
function futexWake(
  k: Kernel,
  t: Task,
  uaddr: number,
  shared: boolean,
  nrWake: number,
  bitset: number,
): number {
  if (bitset === 0) return EINVAL;
  const key = get_futex_key(k, t.mm, uaddr, shared);
  if (typeof key === "number") return key;
  let ret = 0;
  for (const w of [...queue(k)]) {
    if (w.key !== key || (w.bitset & bitset) === 0) continue;
    w.wake();
    if (++ret >= nrWake) break;
  }
  return ret;
}

/**
 * `futex(uaddr, op, val, timeout, uaddr2, val3)` (SYSCALL_DEFINE6(futex) → do_futex) for FUTEX_WAIT, FUTEX_WAKE,
 * FUTEX_WAIT_BITSET and FUTEX_WAKE_BITSET, with or without FUTEX_PRIVATE_FLAG. WAIT returns EAGAIN when
 * `*uaddr != val`, or a Promise that settles with 0 after a WAKE of the same key, or with
 * -EINTR when a signal reaches the task (or it exits). WAKE returns how many it woke (up to `val`, at least one
 * waiter even for 0). Errors: EINVAL for an unaligned address or a zero bitset, EFAULT for a bad address (or a bad
 * timeout pointer), EINVAL for a timeout with tv_nsec outside 0..999999999 or tv_sec < 0, ENOSYS for
 * FUTEX_CLOCK_REALTIME with FUTEX_WAIT or a wake. A valid timeout makes WAIT return ETIMEDOUT as soon as it would
 * sleep: the model's time does not pass while a task waits. The other commands (REQUEUE, CMP_REQUEUE, WAKE_OP, the
 * PI family) are not modelled: ENOSYS.
 */
export function sys_futex(
  k: Kernel,
  t: Task,
  uaddr: number,
  op: number,
  val: number,
  timeoutPtr = 0,
  uaddr2 = 0,
  val3 = 0,
): number | Promise<number> {
  enter(k, t, "futex");
  for (const [n, v] of Object.entries({ uaddr, op, val, timeoutPtr, uaddr2, val3 }))
    if (typeof v !== "number" || !Number.isSafeInteger(v))
      throw new KernelError("EINVAL", `${n} ${String(v)} is not an integer`, { syscall: "futex" });
  const cmd = op & FUTEX_CMD_MASK;
  const shared = (op & FUTEX_PRIVATE_FLAG) === 0;
  const ret = ((): number | Promise<number> => {
    let timeout = false;
    const hasTimeout =
      cmd === FUTEX_WAIT ||
      cmd === FUTEX_WAIT_BITSET ||
      cmd === FUTEX_LOCK_PI ||
      cmd === FUTEX_LOCK_PI2 ||
      cmd === FUTEX_WAIT_REQUEUE_PI;
    if (timeoutPtr !== 0 && hasTimeout) {
      // get_timespec64() of a struct __kernel_timespec, then futex_init_timeout() → timespec64_valid().
      const ts = new Uint8Array(16);
      if (k.vmm.copy_from_user(ts, timeoutPtr, 16) !== 0) return EFAULT;
      const secHi = get32(ts, 4, true) | 0;
      const nsecLo = get32(ts, 8, true);
      const nsecHi = get32(ts, 12, true);
      if (secHi < 0 || nsecHi !== 0 || nsecLo >= 1_000_000_000) return EINVAL;
      timeout = true;
    }
    if (
      op & FUTEX_CLOCK_REALTIME &&
      cmd !== FUTEX_WAIT_BITSET &&
      cmd !== FUTEX_WAIT_REQUEUE_PI &&
      cmd !== FUTEX_LOCK_PI2
    )
      return ENOSYS;
    switch (cmd) {
      case FUTEX_WAIT:
        return futexWait(k, t, uaddr, shared, val, timeout, FUTEX_BITSET_MATCH_ANY);
      case FUTEX_WAIT_BITSET:
        return futexWait(k, t, uaddr, shared, val, timeout, val3 >>> 0);
      case FUTEX_WAKE:
        return futexWake(k, t, uaddr, shared, val | 0, FUTEX_BITSET_MATCH_ANY);
      case FUTEX_WAKE_BITSET:
        return futexWake(k, t, uaddr, shared, val | 0, val3 >>> 0);
    }
    return ENOSYS;
  })();
  const names = ["FUTEX_WAIT", "FUTEX_WAKE"];
  const shown = () => {
    let o = cmd === 9 ? "FUTEX_WAIT_BITSET" : cmd === 10 ? "FUTEX_WAKE_BITSET" : (names[cmd] ?? String(cmd));
    if (op & FUTEX_PRIVATE_FLAG) o += "_PRIVATE";
    return [`0x${uaddr.toString(16)}`, o, String(val)];
  };
  if (ret instanceof Promise)
    return ret.then((r) => {
      k.record(t, "futex", shown, r);
      return r;
    });
  k.record(t, "futex", shown, ret);
  return ret;
}
