// Errno lookups and the one error type of kbridge, KernelError.
// Models include/uapi/asm-generic/errno*.h, include/linux/errno.h and include/linux/err.h (MAX_ERRNO, IS_ERR_VALUE).

import { ERRNO_TABLE, Errno, type ErrnoCode, type ErrnoEntry } from "./errno-table.js";

const byNumber = new Map<number, ErrnoEntry>();
const byName = new Map<string, ErrnoEntry>();
for (const entry of ERRNO_TABLE) {
  byNumber.set(entry.errno, entry);
  byName.set(entry.name, entry);
  for (const alias of entry.aliases) byName.set(alias, entry);
}

/**
 * The largest errno a kernel function may encode in a negative return value or an error pointer.
 * Models include/linux/err.h `MAX_ERRNO` (4095).
 */
export const MAX_ERRNO = 4095;

/**
 * True when `value` is a negative errno as the kernel returns it (`-MAX_ERRNO <= value <= -1`).
 * Models include/linux/err.h `IS_ERR_VALUE()`.
 */
export function isErrValue(value: number): boolean {
  return Number.isInteger(value) && value < 0 && value >= -MAX_ERRNO;
}

/** True when `name` is an errno name kbridge knows, aliases and kernel-internal codes included. */
export function isErrnoCode(name: string): name is ErrnoCode {
  return byName.has(name);
}

/**
 * The table row for an errno given by number (`14`) or by name (`'EFAULT'`, `'EWOULDBLOCK'`), or
 * `undefined` when there is none. An alias resolves to its primary row.
 */
export function errnoEntry(errno: number | string): ErrnoEntry | undefined {
  return typeof errno === "number" ? byNumber.get(errno) : byName.get(errno);
}

/**
 * The number of an errno name: `errnoNumber('EFAULT') === 14`.
 * @throws {@link KernelError} EINVAL when the name is unknown.
 */
export function errnoNumber(code: string): number {
  const entry = byName.get(code);
  if (entry === undefined) throw new KernelError("EINVAL", `unknown errno name ${JSON.stringify(code)}`);
  return entry.errno;
}

/**
 * The primary name of an errno number (`errnoName(11) === 'EAGAIN'`, not `'EWOULDBLOCK'`), or
 * `undefined` for a number Linux does not define.
 */
export function errnoName(errno: number): ErrnoCode | undefined {
  return byNumber.get(errno)?.name as ErrnoCode | undefined;
}

/**
 * What glibc's `strerror(errno)` prints: `strerror(14) === 'Bad address'`, `strerror(0) === 'Success'`.
 * Numbers without a message, the kernel-internal ones included, print as glibc prints them:
 * `'Unknown error 512'`.
 * @throws {@link KernelError} EINVAL when `errno` is not an integer
 */
export function strerror(errno: number): string {
  if (!Number.isInteger(errno))
    throw new KernelError("EINVAL", `errno ${String(errno)} is not an integer`, { op: "strerror" });
  if (errno === 0) return "Success";
  const entry = byNumber.get(errno);
  if (entry === undefined || entry.internal) return `Unknown error ${errno}`;
  return entry.message;
}

/** Where a {@link KernelError} happened: the system call and the kernel operation, when known. */
export interface KernelErrorOptions {
  /** The system call that failed, e.g. `'ioctl'`. */
  readonly syscall?: string;
  /** The kernel function or operation that failed, e.g. `'copy_to_user'` or `'_IOC'`. */
  readonly op?: string;
  /** The error that caused this one. */
  readonly cause?: unknown;
}

function resolve(errno: ErrnoCode | number): ErrnoEntry {
  const entry = typeof errno === "number" ? byNumber.get(errno) : byName.get(errno);
  if (entry === undefined) {
    // A bad errno is a bug of the caller: report it as EINVAL naming the value, never invent a code.
    throw new KernelError("EINVAL", `${JSON.stringify(errno)} is not a Linux errno`, { op: "KernelError" });
  }
  return entry;
}

// Marks KernelError instances across copies of this package (ESM and CJS builds, two versions).
const BRAND = Symbol.for("@kbridge/uapi.KernelError");

/**
 * The one error type of kbridge: an errno with a message that names the bad value.
 *
 * `code` is the name the caller used, so `new KernelError('EWOULDBLOCK', …).code === 'EWOULDBLOCK'`
 * while `errno` is 11 either way. Kernel-internal codes (`ENOIOCTLCMD`) are allowed: a model of a
 * driver may return them, and the model of the syscall layer translates them as Linux does.
 *
 * @example
 * ```ts
 * try {
 *   _IOC(_IOC_READ, 0x56, 0, 20000);
 * } catch (err) {
 *   if (KernelError.is(err, "EINVAL")) console.log(err.message, err.toReturn()); // …, -22
 * }
 * ```
 */
export class KernelError extends Error {
  // The bundle names a class that refers to itself `_KernelError` inside; what users see (inspect, constructor.name) stays KernelError.
  static {
    Object.defineProperty(this, "name", { value: "KernelError" });
  }

  /** The positive errno number, e.g. 14. */
  readonly errno: number;
  /** The errno name, e.g. `'EFAULT'`. */
  readonly code: ErrnoCode;
  /** The system call that failed, when known. */
  readonly syscall: string | undefined;
  /** The kernel operation that failed, when known. */
  readonly op: string | undefined;
  /** What was wrong, without the errno prefix. */
  readonly detail: string;

  /**
   * @param errno - an errno name or a positive errno number
   * @param detail - what was wrong and with which value
   * @param options - the syscall and operation where it happened, and a cause
   * @throws {@link KernelError} EINVAL when `errno` is not a Linux errno
   */
  constructor(errno: ErrnoCode | number, detail: string, options: KernelErrorOptions = {}) {
    const entry = resolve(errno);
    const code = (typeof errno === "string" ? errno : entry.name) as ErrnoCode;
    const where = [options.syscall, options.op].filter((s) => s !== undefined).join(": ");
    super(`${code}: ${where === "" ? "" : `${where}: `}${detail}`, { cause: options.cause });
    this.name = "KernelError";
    Object.defineProperty(this, BRAND, { value: true });
    this.errno = entry.errno;
    this.code = code;
    this.syscall = options.syscall;
    this.op = options.op;
    this.detail = detail;
  }

  /** The negative return value a kernel function would give for this error (`-14` for EFAULT). */
  toReturn(): number {
    return -this.errno;
  }

  /** What glibc's `strerror()` prints for this error (`'Bad address'`). */
  get description(): string {
    return strerror(this.errno);
  }

  /**
   * True when `err` is a KernelError, and, if `code` is given, one with that errno. Aliases match:
   * `KernelError.is(e, 'EWOULDBLOCK')` is true for an EAGAIN error.
   */
  static is(err: unknown, code?: ErrnoCode | number): err is KernelError {
    if (!isBranded(err)) return false;
    if (code === undefined) return true;
    const entry = typeof code === "number" ? byNumber.get(code) : byName.get(code);
    return entry !== undefined && entry.errno === err.errno;
  }

  /**
   * `err instanceof KernelError` holds for a KernelError of any copy of this package: the ESM and the CJS
   * build, or two installed versions, so that "one error type" survives a dual-package setup.
   */
  static override [Symbol.hasInstance](err: unknown): boolean {
    // A subclass keeps the ordinary prototype-chain test, so `this` (the class tested against) matters here.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass when one is tested
    return this === KernelError ? isBranded(err) : Function.prototype[Symbol.hasInstance].call(this, err);
  }

  /**
   * The error for a negative kernel return value: `KernelError.fromReturn(-14, 'copy failed')`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when `ret` is not a negative errno (see {@link @kbridge/uapi!isErrValue}) or no Linux errno.
   */
  static fromReturn(ret: number, detail?: string, options?: KernelErrorOptions): KernelError {
    if (!isErrValue(ret)) {
      throw new KernelError("EINVAL", `${ret} is not a negative errno`, { op: "KernelError.fromReturn" });
    }
    return new KernelError(-ret, detail ?? strerror(-ret), options);
  }
}

function isBranded(err: unknown): err is KernelError {
  return typeof err === "object" && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true;
}

export type { ErrnoCode, ErrnoEntry };
export { ERRNO_TABLE, Errno };
