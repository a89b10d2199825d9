// The C data models that decide struct layouts: LP64 x86-64 and ILP32 i386 (the compat ABI of 32-bit tasks).

import { IOC_GENERIC, type IoctlLayout } from "./ioctl.js";

/** Byte order of multi-byte integers in memory. */
export type ByteOrder = "little" | "big";

/**
 * A C ABI as far as the user-space interface of Linux cares: sizes of pointers and `long`, the
 * alignment of 64-bit integers inside structs, the native byte order and the ioctl number layout.
 * Define your own object for another architecture.
 */
export interface Abi {
  /** A readable name, e.g. `'x86-64 (LP64)'`. */
  readonly name: string;
  /** `sizeof(void *)`, also `sizeof(size_t)` and `compat_uptr_t` on ILP32. */
  readonly pointerSize: 4 | 8;
  /** `sizeof(long)`. */
  readonly longSize: 4 | 8;
  /** Alignment of `u64`/`s64` inside a struct: 8 on x86-64 and arm, 4 on i386 (`__alignof__` inside structs). */
  readonly int64Align: 4 | 8;
  /** Native byte order. */
  readonly byteOrder: ByteOrder;
  /** How ioctl numbers are packed. */
  readonly ioctl: IoctlLayout;
}

/** x86-64 Linux, LP64: pointers and `long` are 8 bytes, `u64` aligns to 8, little-endian. */
export const X86_64: Abi = Object.freeze({
  name: "x86-64 (LP64)",
  pointerSize: 8,
  longSize: 8,
  int64Align: 8,
  byteOrder: "little",
  ioctl: IOC_GENERIC,
});

/**
 * i386 Linux, ILP32: pointers and `long` are 4 bytes and `u64` aligns to only 4 inside structs, so
 * `struct { u32 a; u64 b; }` is 12 bytes here and 16 on x86-64. This is the layout a 32-bit task
 * passes to a 64-bit kernel, which is why compat ioctls exist.
 */
export const I386: Abi = Object.freeze({
  name: "i386 (ILP32)",
  pointerSize: 4,
  longSize: 4,
  int64Align: 4,
  byteOrder: "little",
  ioctl: IOC_GENERIC,
});
