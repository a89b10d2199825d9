// Wait queues for drivers that produce data asynchronously: include/linux/wait.h (wait_queue_head_t,
// wait_event_interruptible, wake_up_interruptible), include/linux/poll.h (poll_wait, EPOLL* masks). A sleeping task is
// a pending Promise: the read that would block returns one, settled by the wake-up that makes its condition true, or
// by a signal (-ERESTARTSYS, which the syscall layer turns into -EINTR when the signal's handler has no SA_RESTART).

import { KernelError } from "@kbridge/uapi";

/** `EPOLLIN` (0x001). */
export const EPOLLIN = 0x001;
/** `EPOLLPRI` (0x002). */
export const EPOLLPRI = 0x002;
/** `EPOLLOUT` (0x004). */
export const EPOLLOUT = 0x004;
/** `EPOLLERR` (0x008). */
export const EPOLLERR = 0x008;
/** `EPOLLHUP` (0x010). */
export const EPOLLHUP = 0x010;
/** `EPOLLRDNORM` (0x040). */
export const EPOLLRDNORM = 0x040;
/** `EPOLLWRNORM` (0x100). */
export const EPOLLWRNORM = 0x100;
/** `ERESTARTSYS` (512): a sleep interrupted by a signal (kernel-internal). */
export const ERESTARTSYS = 512;

interface Waiter {
  readonly cond: () => boolean;
  readonly settle: (ret: number) => void;
}

/**
 * `wait_queue_head_t`: tasks sleeping until a condition holds. `wait_event_interruptible` returns 0 at once when the
 * condition already holds, else a Promise that `wake_up_interruptible` settles (with 0) once the condition is true,
 * or `signal` (with -ERESTARTSYS). Poll tables registered by `poll_wait` are called on every wake-up.
 */
export class WaitQueueHead {
  readonly #waiters: Waiter[] = [];
  readonly #pollers = new Set<() => void>();

  /** Sleepers now. */
  get sleepers(): number {
    return this.#waiters.length;
  }

  /**
   * `wait_event_interruptible(wq, condition)`: 0 when `cond()` holds; otherwise the task sleeps (a Promise) until a
   * wake-up finds it true (0) or a signal interrupts it (-ERESTARTSYS).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when `cond` is not a function
   */
  wait_event_interruptible(cond: () => boolean): 0 | Promise<number> {
    if (typeof cond !== "function")
      throw new KernelError("EINVAL", "the condition is not a function", { op: "wait_event_interruptible" });
    if (cond()) return 0;
    return new Promise<number>((resolve) => {
      this.#waiters.push({ cond, settle: resolve });
    });
  }

  /**
   * `wake_up_interruptible(wq)`: every sleeper re-checks its condition; those for which it holds wake with 0. Poll
   * tables waiting on the queue are told too.
   */
  wake_up_interruptible(): void {
    for (let i = 0; i < this.#waiters.length; ) {
      const w = this.#waiters[i]!;
      if (w.cond()) {
        this.#waiters.splice(i, 1);
        w.settle(0);
      } else i++;
    }
    if (this.#pollers.size > 0) for (const p of [...this.#pollers]) p();
  }

  /** A signal for the sleepers: each wakes with -ERESTARTSYS (signal_pending in the wait loop). */
  signal(): void {
    for (const w of this.#waiters.splice(0)) w.settle(-ERESTARTSYS);
  }

  /** @internal poll_wait(): a poll table listens on this queue until it is freed */
  addPoller(fn: () => void): () => void {
    this.#pollers.add(fn);
    return () => this.#pollers.delete(fn);
  }
}

/**
 * A poll table (`poll_table`): what `->poll` hands to `poll_wait` for each queue it may be woken from. `onWake` runs on
 * every wake-up of those queues until {@link PollTable.free}.
 */
export class PollTable {
  readonly #unsubscribe: (() => void)[] = [];
  readonly #onWake: () => void;

  /** @param onWake - called when one of the queues is woken */
  constructor(onWake: () => void) {
    this.#onWake = onWake;
  }

  /** @internal */
  add(wq: WaitQueueHead): void {
    this.#unsubscribe.push(wq.addPoller(this.#onWake));
  }

  /** `poll_freewait()`: stop listening. */
  free(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }
}

/** `poll_wait(file, wq, pt)`: register the poll table on a queue (nothing when `pt` is undefined, as poll with NULL). */
export function poll_wait(wq: WaitQueueHead, pt: PollTable | undefined): void {
  if (!(wq instanceof WaitQueueHead))
    throw new KernelError("EINVAL", "not a WaitQueueHead", { op: "poll_wait" });
  pt?.add(wq);
}
