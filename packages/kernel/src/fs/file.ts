// In-kernel files (struct file with its file_operations) for the kernel's own objects — pipes, unix sockets,
// shared memory, procfs and sysfs files — and the two things their methods need from the system-call layer: the
// user buffer as an iterator (struct iov_iter: copy_to_iter / copy_from_iter) and an interruptible sleep of the
// calling task (wait_event_interruptible + signal_pending(current)).

import { type PollTable, WaitQueueHead } from "@kbridge/chrdev";
import { KernelError } from "@kbridge/uapi";
import type { MmStruct } from "@kbridge/vmm";
import type { Cred } from "../cred.js";

/** `FMODE_READ` (1): the file was opened for reading. */
export const FMODE_READ = 0x1;
/** `FMODE_WRITE` (2): the file was opened for writing. */
export const FMODE_WRITE = 0x2;

/**
 * The caller of a file operation: `current` as the method sees it — who it is, and where it sleeps so that a signal
 * to it (and only to it) interrupts the sleep.
 */
export interface FileCaller {
  /** `task_tgid_vnr(current)`. */
  readonly tgid: number;
  /** `current->pid`. */
  readonly pid: number;
  /** `current_cred()`. */
  readonly cred: Cred;
  /** The queues the task sleeps on (signals wake them with -ERESTARTSYS). */
  readonly sleepingOn: Set<WaitQueueHead>;
  /** Delivers a signal to the caller (`send_sig(SIGPIPE, current, 0)` of a pipe write with no reader). */
  readonly signal: (sig: number) => void;
}

/**
 * The user buffer of a read or write (`struct iov_iter`): `count` bytes left; a read gives bytes with `copyOut`
 * (copy_to_iter), a write takes them with `copyIn` (copy_from_iter). Both advance the iterator by what was copied
 * and return how many bytes were copied — fewer than asked when the user's memory faults.
 */
export interface IovIter {
  /** `iov_iter_count()`: bytes left. */
  readonly count: number;
  /** `copy_to_iter(src)`: copies `src` (or what fits) to the user; returns the bytes copied. */
  copyOut(src: Uint8Array): number;
  /** `copy_from_iter(dst)`: fills `dst` (or what is left) from the user; returns the bytes copied. */
  copyIn(dst: Uint8Array): number;
}

/**
 * `struct file_operations` of an in-kernel file. Missing methods give the VFS's answers: no `read` → EINVAL, no
 * `write` → EINVAL, no `llseek` → ESPIPE, no `poll` → DEFAULT_POLLMASK, no `ioctl` → ENOTTY, no `mmap` → ENODEV.
 * Methods return a count, 0 or a negative errno, or a Promise when they sleep.
 */
export interface KFileOps {
  /** `->read_iter`. `nonblock` is O_NONBLOCK (or MSG_DONTWAIT). */
  read?(file: KFile, to: IovIter, nonblock: boolean, caller: FileCaller): number | Promise<number>;
  /** `->write_iter`. */
  write?(file: KFile, from: IovIter, nonblock: boolean, caller: FileCaller): number | Promise<number>;
  /** `->poll`: the ready mask; registers `pt` on the queues that can wake it (`poll_wait`). */
  poll?(file: KFile, pt?: PollTable): number;
  /** `->unlocked_ioctl`: `arg` is the raw argument (a user pointer for most commands). */
  ioctl?(file: KFile, cmd: number, arg: number, caller: FileCaller): number;
  /**
   * `->mmap` through `do_mmap`: maps `length` bytes at `offset` of the file into `mm` and returns the address, or
   * a negative errno (the mmap family's own checks come first).
   */
  mmap?(
    file: KFile,
    mm: MmStruct,
    addr: number,
    length: number,
    prot: number,
    flags: number,
    offset: number,
  ): number;
  /** `->llseek`. */
  llseek?(file: KFile, offset: number, whence: number): number;
  /** `fcntl` commands the file type handles itself (F_SETPIPE_SZ, F_GETPIPE_SZ); undefined → the generic EINVAL. */
  fcntl?(file: KFile, cmd: number, arg: number, caller: FileCaller): number | undefined;
  /** `->release`: the last reference went. */
  release?(file: KFile): void;
  /** A name for traces and `/proc/<pid>/fd` (`pipe:[4321]`, `socket:[4322]`, `/dev/shm/x`). */
  name(file: KFile): string;
}

/** An open in-kernel file (`struct file`): its operations, mode, flags, position and private data. */
export class KFile {
  /** `f_op`. */
  readonly ops: KFileOps;
  /** `f_mode`: FMODE_READ | FMODE_WRITE. */
  readonly mode: number;
  /** `f_flags` (O_NONBLOCK, O_APPEND …), changed by fcntl(F_SETFL) and FIONBIO. */
  flags: number;
  /** `f_pos`. */
  pos = 0;
  /** `private_data`: the object the operations work on. */
  readonly private: unknown;
  /** True once released. */
  released = false;

  /**
   * @param ops - the operations
   * @param mode - FMODE_READ | FMODE_WRITE
   * @param flags - the open flags
   * @param priv - the object behind the file
   */
  constructor(ops: KFileOps, mode: number, flags: number, priv: unknown) {
    if (typeof ops?.name !== "function")
      throw new KernelError("EINVAL", "file operations need a name()", { op: "alloc_file" });
    this.ops = ops;
    this.mode = mode;
    this.flags = flags;
    this.private = priv;
  }
}

/**
 * `wait_event_interruptible(wq, cond)` for the calling task: 0 at once when `cond()` holds, else a Promise that
 * settles with 0 once a wake-up of `wq` finds it true, or with -ERESTARTSYS when a signal to `caller` interrupts
 * the sleep. The task sleeps on a queue of its own chained to `wq`, so a signal to it wakes no other sleeper.
 */
export function sleepOn(
  wq: WaitQueueHead,
  cond: () => boolean,
  caller: Pick<FileCaller, "sleepingOn">,
): 0 | Promise<number> {
  if (cond()) return 0;
  const own = new WaitQueueHead();
  const r = own.wait_event_interruptible(cond);
  if (r === 0) return 0;
  const off = wq.addPoller(() => own.wake_up_interruptible());
  caller.sleepingOn.add(own);
  return r.then((v) => {
    off();
    caller.sleepingOn.delete(own);
    return v;
  });
}
