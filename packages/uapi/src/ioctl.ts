// ioctl request numbers: the _IOC encoding of include/uapi/asm-generic/ioctl.h and the 3-bit-direction
// variant of arch/{powerpc,mips,sparc,alpha}/include/uapi/asm/ioctl.h, with checked encoders and decoders.

import { KernelError } from "./errno.js";

/**
 * How an architecture packs an ioctl number: field widths and direction values. The number is
 * `dir << (nr+type+size bits) | size << (nr+type bits) | type << nr bits | nr`. The direction values
 * must be distinct single bits or 0 for NONE.
 */
export interface IoctlLayout {
  /** Which architectures use it. */
  readonly name: string;
  /** `_IOC_NRBITS`: bits of the command number (8). */
  readonly nrBits: number;
  /** `_IOC_TYPEBITS`: bits of the type ("magic") byte (8). */
  readonly typeBits: number;
  /** `_IOC_SIZEBITS`: bits of the argument size (14 generic, 13 powerpc/mips/alpha). */
  readonly sizeBits: number;
  /** `_IOC_DIRBITS`: bits of the direction (2 generic, 3 powerpc/mips/alpha). */
  readonly dirBits: number;
  /** `_IOC_NONE`: no data transfer (0 generic, 1 powerpc/mips/alpha). */
  readonly none: number;
  /** `_IOC_READ`: the kernel writes the argument back to user space (2 everywhere). */
  readonly read: number;
  /** `_IOC_WRITE`: user space passes the argument to the kernel (1 generic, 4 powerpc/mips/alpha). */
  readonly write: number;
}

/**
 * The generic layout (include/uapi/asm-generic/ioctl.h), used by x86, arm, arm64, riscv, s390 and most
 * others: nr bits 0–7, type bits 8–15, size bits 16–29 (14 bits), dir bits 30–31; NONE 0, WRITE 1, READ 2.
 */
export const IOC_GENERIC: IoctlLayout = Object.freeze({
  name: "generic (x86, arm, arm64, riscv, s390, …)",
  nrBits: 8,
  typeBits: 8,
  sizeBits: 14,
  dirBits: 2,
  none: 0,
  read: 2,
  write: 1,
});

/**
 * The layout of powerpc, mips and alpha (arch/{powerpc,mips,alpha}/include/uapi/asm/ioctl.h): size bits
 * 16–28 (13 bits), dir bits 29–31; NONE 1, READ 2, WRITE 4. Here `_IO('T', 1)` is `0x20005401`.
 * sparc declares the same fields but decodes differently (its size field is really 14 bits and overlaps the
 * NONE bit), so it is not covered by this layout.
 */
export const IOC_POWERPC: IoctlLayout = Object.freeze({
  name: "powerpc, mips, alpha",
  nrBits: 8,
  typeBits: 8,
  sizeBits: 13,
  dirBits: 3,
  none: 1,
  read: 2,
  write: 4,
});

// _IOC_NRBITS
/** Bits of the command number in the generic layout (8). */
export const _IOC_NRBITS = 8;
// _IOC_TYPEBITS
/** Bits of the type byte in the generic layout (8). */
export const _IOC_TYPEBITS = 8;
// _IOC_SIZEBITS
/** Bits of the argument size in the generic layout (14). */
export const _IOC_SIZEBITS = 14;
// _IOC_DIRBITS
/** Bits of the direction in the generic layout (2). */
export const _IOC_DIRBITS = 2;
// _IOC_NRSHIFT
/** Position of the command number (0). */
export const _IOC_NRSHIFT = 0;
// _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS
/** Position of the type byte (8). */
export const _IOC_TYPESHIFT = 8;
// _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS
/** Position of the argument size (16). */
export const _IOC_SIZESHIFT = 16;
// _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS
/** Position of the direction in the generic layout (30). */
export const _IOC_DIRSHIFT = 30;
// _IOC_NONE
/** Generic direction: no data transfer (0). */
export const _IOC_NONE = 0;
// _IOC_WRITE
/** Generic direction: user space writes, the kernel reads the argument (1). */
export const _IOC_WRITE = 1;
// _IOC_READ
/** Generic direction: the kernel writes the argument, user space reads it (2). */
export const _IOC_READ = 2;
// IOC_IN = _IOC_WRITE << _IOC_DIRSHIFT
/** The direction bit of `_IOW` numbers (0x40000000). */
export const IOC_IN = 0x40000000;
// IOC_OUT = _IOC_READ << _IOC_DIRSHIFT
/** The direction bit of `_IOR` numbers (0x80000000). */
export const IOC_OUT = 0x80000000;
// IOC_INOUT = (_IOC_WRITE | _IOC_READ) << _IOC_DIRSHIFT
/** The direction bits of `_IOWR` numbers (0xc0000000). */
export const IOC_INOUT = 0xc0000000;
// IOCSIZE_MASK = _IOC_SIZEMASK << _IOC_SIZESHIFT
/** The size field of a generic number (0x3fff0000). */
export const IOCSIZE_MASK = 0x3fff0000;
// IOCSIZE_SHIFT = _IOC_SIZESHIFT
/** Position of the size field (16). */
export const IOCSIZE_SHIFT = 16;

/**
 * Anything with a C size: every type of the struct DSL (its `size` is the x86-64 one), a layout for
 * another ABI (`msghdr.layout(I386)`), or your own object.
 */
export interface Sized {
  /** `sizeof` of the type in bytes. */
  readonly size: number;
}

/** The four fields of an ioctl number, as `decodeIoctl` returns them. */
export interface IoctlFields {
  /** The direction bits (`_IOC_DIR`). */
  readonly dir: number;
  /** `'NONE'`, `'READ'`, `'WRITE'` or `'READ|WRITE'`, from the user's point of view as the kernel names it. */
  readonly dirName: string;
  /** The type ("magic") byte (`_IOC_TYPE`). */
  readonly type: number;
  /** The type byte as a character when it is printable ASCII (`'V'` for 0x56), else `null`. */
  readonly typeChar: string | null;
  /** The command number (`_IOC_NR`). */
  readonly nr: number;
  /** The encoded argument size (`_IOC_SIZE`); legacy numbers and some quirky ones encode 0 or a wrong size. */
  readonly size: number;
}

function bad(op: string, detail: string): KernelError {
  return new KernelError("EINVAL", detail, { op });
}

function checkField(op: string, what: string, value: unknown, bits: number): number {
  // Fields are at most 14 bits wide (checkLayout keeps the sum at 32), so the shift is exact.
  const max = bits >= 31 ? 2 ** bits - 1 : (1 << bits) - 1;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw bad(op, `${what} ${String(value)} does not fit in ${bits} bits (0..${max})`);
  }
  return value;
}

function checkType(op: string, type: unknown, layout: IoctlLayout): number {
  if (typeof type === "string") {
    if (type.length !== 1 || type.charCodeAt(0) > 0xff) {
      throw bad(op, `type ${JSON.stringify(type)} is not one 8-bit character`);
    }
    return type.charCodeAt(0);
  }
  return checkField(op, "type", type, layout.typeBits);
}

function checkLayout(op: string, layout: unknown): IoctlLayout {
  // The two layouts of this module are frozen and known good; only a caller's own object is checked.
  if (layout === IOC_GENERIC || layout === IOC_POWERPC) return layout as IoctlLayout;
  const l = layout as IoctlLayout | null;
  const width = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 16;
  const ok =
    l !== null &&
    typeof l === "object" &&
    width(l.nrBits) &&
    width(l.typeBits) &&
    width(l.sizeBits) &&
    width(l.dirBits) &&
    l.nrBits + l.typeBits + l.sizeBits + l.dirBits === 32 &&
    [l.none, l.read, l.write].every(
      (d) => typeof d === "number" && Number.isInteger(d) && d >= 0 && d < 2 ** l.dirBits,
    ) &&
    l.read !== l.write &&
    (l.read & l.write) === 0 &&
    l.none !== l.read &&
    l.none !== l.write;
  if (!ok) {
    throw bad(
      op,
      `layout ${JSON.stringify(layout)} is not an ioctl layout (field widths 1..16 adding up to 32, distinct directions)`,
    );
  }
  return l;
}

function sizeOf(op: string, arg: unknown): number {
  if (typeof arg === "number") return arg;
  if (arg !== null && typeof arg === "object" && typeof (arg as Sized).size === "number") {
    return (arg as Sized).size;
  }
  const name = arg !== null && typeof arg === "object" ? (arg as { name?: unknown }).name : undefined;
  throw bad(op, `argument type ${typeof name === "string" ? name : String(arg)} has no size`);
}

/**
 * Builds an ioctl number from its fields. Models include/uapi/asm-generic/ioctl.h `_IOC()`; with
 * {@link IOC_POWERPC} the powerpc/mips/sparc/alpha variant.
 *
 * @param dir - the direction bits (`_IOC_NONE`, `_IOC_READ`, `_IOC_WRITE` or `_IOC_READ | _IOC_WRITE` of the layout)
 * @param type - the type byte, as a number or a one-character string (`'V'`)
 * @param nr - the command number, 0..255
 * @param size - the argument size, 0..16383 (generic; `_IOC_TYPECHECK` refuses larger types at compile time)
 * @param layout - the architecture's layout, {@link IOC_GENERIC} by default
 * @returns the request number as an unsigned 32-bit integer
 * @throws {@link KernelError} EINVAL naming the field that does not fit
 */
export function _IOC(
  dir: number,
  type: number | string,
  nr: number,
  size: number,
  layout: IoctlLayout = IOC_GENERIC,
): number {
  const l = checkLayout("_IOC", layout);
  const d = checkField("_IOC", "dir", dir, l.dirBits);
  if (d !== l.none && d !== l.read && d !== l.write && d !== (l.read | l.write)) {
    throw bad(
      "_IOC",
      `dir ${d} is none of NONE ${l.none}, READ ${l.read}, WRITE ${l.write}, READ|WRITE ${l.read | l.write}`,
    );
  }
  const t = checkType("_IOC", type, l);
  const n = checkField("_IOC", "nr", nr, l.nrBits);
  const s = checkField("_IOC", "size", size, l.sizeBits);
  const typeShift = l.nrBits;
  const sizeShift = typeShift + l.typeBits;
  const dirShift = sizeShift + l.sizeBits;
  // `>>> 0` keeps the top bit from turning the number negative.
  return ((d << dirShift) | (s << sizeShift) | (t << typeShift) | n) >>> 0;
}

/** `_IO(type, nr)`: a command without an argument (`KVM_CREATE_VM = _IO(0xae, 1)`). */
export function _IO(type: number | string, nr: number, layout: IoctlLayout = IOC_GENERIC): number {
  return _IOC(checkLayout("_IO", layout).none, type, nr, 0, layout);
}

/**
 * `_IOR(type, nr, T)`: the kernel writes a `T` back to user space (`VIDIOC_QUERYCAP = _IOR('V', 0, struct v4l2_capability)`).
 * `arg` is the size in bytes or anything with a `size` (a struct type laid out for the ABI you target).
 */
export function _IOR(
  type: number | string,
  nr: number,
  arg: number | Sized,
  layout: IoctlLayout = IOC_GENERIC,
): number {
  return _IOC(checkLayout("_IOR", layout).read, type, nr, sizeOf("_IOR", arg), layout);
}

/** `_IOW(type, nr, T)`: user space passes a `T` to the kernel (`TUNSETIFF = _IOW('T', 202, s32)`, C's `int`). */
export function _IOW(
  type: number | string,
  nr: number,
  arg: number | Sized,
  layout: IoctlLayout = IOC_GENERIC,
): number {
  return _IOC(checkLayout("_IOW", layout).write, type, nr, sizeOf("_IOW", arg), layout);
}

/** `_IOWR(type, nr, T)`: a `T` goes in and comes back (`VIDIOC_S_FMT = _IOWR('V', 5, struct v4l2_format)`). */
export function _IOWR(
  type: number | string,
  nr: number,
  arg: number | Sized,
  layout: IoctlLayout = IOC_GENERIC,
): number {
  const l = checkLayout("_IOWR", layout);
  return _IOC(l.read | l.write, type, nr, sizeOf("_IOWR", arg), layout);
}

function checkCmd(op: string, cmd: unknown): number {
  // The syscall takes an unsigned int; accept its signed 32-bit spelling too (0x80685600 | 0).
  if (typeof cmd !== "number" || !Number.isInteger(cmd) || cmd < -(2 ** 31) || cmd > 2 ** 32 - 1) {
    throw bad(op, `request ${String(cmd)} is not a 32-bit ioctl number`);
  }
  return cmd >>> 0;
}

function field(cmd: number, shift: number, bits: number): number {
  // Every field lies inside 32 bits, so unsigned shifts and masks are exact.
  return (cmd >>> shift) & ((1 << bits) - 1);
}

/** `_IOC_DIR(nr)`: the direction bits of an ioctl number. */
export function _IOC_DIR(cmd: number, layout: IoctlLayout = IOC_GENERIC): number {
  const l = checkLayout("_IOC_DIR", layout);
  return field(checkCmd("_IOC_DIR", cmd), l.nrBits + l.typeBits + l.sizeBits, l.dirBits);
}

/** `_IOC_TYPE(nr)`: the type byte of an ioctl number. */
export function _IOC_TYPE(cmd: number, layout: IoctlLayout = IOC_GENERIC): number {
  const l = checkLayout("_IOC_TYPE", layout);
  return field(checkCmd("_IOC_TYPE", cmd), l.nrBits, l.typeBits);
}

/** `_IOC_NR(nr)`: the command number of an ioctl number. */
export function _IOC_NR(cmd: number, layout: IoctlLayout = IOC_GENERIC): number {
  const l = checkLayout("_IOC_NR", layout);
  return field(checkCmd("_IOC_NR", cmd), 0, l.nrBits);
}

/** `_IOC_SIZE(nr)`: the encoded argument size of an ioctl number. */
export function _IOC_SIZE(cmd: number, layout: IoctlLayout = IOC_GENERIC): number {
  const l = checkLayout("_IOC_SIZE", layout);
  return field(checkCmd("_IOC_SIZE", cmd), l.nrBits + l.typeBits, l.sizeBits);
}

/** The name of a direction value in a layout: `'NONE'`, `'READ'`, `'WRITE'`, `'READ|WRITE'`, or the number. */
export function ioctlDirName(dir: number, layout: IoctlLayout = IOC_GENERIC): string {
  const l = checkLayout("ioctlDirName", layout);
  return dirName(checkField("ioctlDirName", "dir", dir, l.dirBits), l);
}

function dirName(dir: number, l: IoctlLayout): string {
  if (dir === l.none) return "NONE";
  if (dir === l.read) return "READ";
  if (dir === l.write) return "WRITE";
  if (dir === (l.read | l.write)) return "READ|WRITE";
  return `0x${dir.toString(16)}`;
}

/**
 * Splits an ioctl number into its fields: `decodeIoctl(0x80685600)` is
 * `{ dir: 2, dirName: 'READ', type: 0x56, typeChar: 'V', nr: 0, size: 104 }`.
 * Legacy numbers such as `TCGETS` (0x5401) decode to dir NONE and size 0 although they take an
 * argument: the encoding is a convention, not a guarantee.
 *
 * @throws {@link KernelError} EINVAL when `cmd` is not a 32-bit number
 */
export function decodeIoctl(cmd: number, layout: IoctlLayout = IOC_GENERIC): IoctlFields {
  const l = checkLayout("decodeIoctl", layout);
  const c = checkCmd("decodeIoctl", cmd);
  const dir = field(c, l.nrBits + l.typeBits + l.sizeBits, l.dirBits);
  const type = field(c, l.nrBits, l.typeBits);
  return {
    dir,
    dirName: dirName(dir, l),
    type,
    typeChar: type > 0x20 && type < 0x7f ? String.fromCharCode(type) : null,
    nr: field(c, 0, l.nrBits),
    size: field(c, l.nrBits + l.typeBits, l.sizeBits),
  };
}

/**
 * The C spelling of an ioctl number: `formatIoctl(0x80685600) === "_IOR('V', 0x00, 104)"`,
 * `formatIoctl(0xae01) === "_IO(0xae, 0x01)"`.
 */
export function formatIoctl(cmd: number, layout: IoctlLayout = IOC_GENERIC): string {
  const f = decodeIoctl(cmd, layout);
  const l = checkLayout("formatIoctl", layout);
  const type =
    f.typeChar !== null && f.typeChar !== "'" && f.typeChar !== "\\" ? `'${f.typeChar}'` : hex2(f.type);
  const nr = hex2(f.nr);
  if (f.dir === l.none && f.size === 0) return `_IO(${type}, ${nr})`;
  const macro =
    f.dir === l.read
      ? "_IOR"
      : f.dir === l.write
        ? "_IOW"
        : f.dir === (l.read | l.write)
          ? "_IOWR"
          : undefined;
  if (macro === undefined) return `_IOC(${hex2(f.dir)}, ${type}, ${nr}, ${f.size})`;
  return `${macro}(${type}, ${nr}, ${f.size})`;
}

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, "0")}`;
}
