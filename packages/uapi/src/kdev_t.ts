// Device numbers: the kernel's internal dev_t (include/linux/kdev_t.h: MINORBITS, MKDEV, MAJOR, MINOR) and
// the encoding user space sees in stat.st_rdev and passes to mknod (new_encode_dev / new_decode_dev).

import { KernelError } from "./errno.js";

// MINORBITS
/** Bits of the minor number in the kernel's 32-bit `dev_t` (20). */
export const MINORBITS = 20;
// MINORMASK = (1U << MINORBITS) - 1
/** The largest minor number, `(1 << MINORBITS) - 1` = 0xfffff. */
export const MINORMASK = 0xfffff;
/** The largest major number of the kernel's `dev_t` (12 bits: 4095). */
export const MAJORMAX = 0xfff;

function check(op: string, what: string, v: unknown, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new KernelError("EINVAL", `${what} ${String(v)} is out of range 0..${max}`, { op });
  }
  return v;
}

/**
 * `MKDEV(ma, mi)`: the kernel's `dev_t`, `ma << 20 | mi`.
 * @throws {@link KernelError} EINVAL when the major exceeds 4095 or the minor 0xfffff
 */
export function MKDEV(major: number, minor: number): number {
  return (
    check("MKDEV", "major", major, MAJORMAX) * 2 ** MINORBITS + check("MKDEV", "minor", minor, MINORMASK)
  );
}

/** `MAJOR(dev)`: `dev >> 20`. */
export function MAJOR(dev: number): number {
  return Math.floor(check("MAJOR", "dev_t", dev, 0xffffffff) / 2 ** MINORBITS);
}

/** `MINOR(dev)`: `dev & MINORMASK`. */
export function MINOR(dev: number): number {
  return check("MINOR", "dev_t", dev, 0xffffffff) % 2 ** MINORBITS;
}

/**
 * `new_encode_dev(dev)`: the user-visible device number (stat.st_rdev, mknod) of a kernel `dev_t`:
 * `(minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)`. So MKDEV(1, 3) (/dev/null) is 0x103.
 */
export function new_encode_dev(dev: number): number {
  const major = MAJOR(dev);
  const minor = MINOR(dev);
  return (minor & 0xff) + major * 0x100 + (minor >>> 8) * 0x100000;
}

/** `new_decode_dev(dev)`: the kernel `dev_t` of a user-visible 32-bit device number. */
export function new_decode_dev(dev: number): number {
  const d = check("new_decode_dev", "device number", dev, 0xffffffff);
  const major = Math.floor(d / 0x100) % 0x1000;
  const minor = (d & 0xff) + Math.floor(d / 0x100000) * 0x100;
  return MKDEV(major, minor);
}
