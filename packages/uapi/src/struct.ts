// C struct layouts: a declarative DSL that computes offsets, padding, size and alignment as gcc does for
// a given ABI, and encodes/decodes values to and from bytes, or reads them in place through views.

import { type Abi, type ByteOrder, X86_64 } from "./abi.js";
import { get16, get32, put16, put32 } from "./bytes.js";
import { canGenerateCode } from "./codegen.js";
import { KernelError } from "./errno.js";
import { utf8Decode, utf8Encode } from "./utf8.js";

/**
 * A compiled codec of one C type for one ABI and byte order.
 * @internal
 */
export interface Codec {
  readonly size: number;
  readonly align: number;
  /** True when `write` checks the whole value before it stores a byte (so a failed write changes nothing). */
  readonly atomic: boolean;
  read(b: Uint8Array, off: number): unknown;
  write(b: Uint8Array, off: number, value: unknown, path: string): void;
  /** Present for aggregate types and byte arrays: a zero-copy view of the value at `off`. */
  view?(b: Uint8Array, off: number, path?: string): unknown;
}

/**
 * A C type: a scalar, an array, a string buffer, a struct or a union. Its size and alignment depend
 * on the ABI (`long` is 8 bytes on x86-64, 4 on i386); `T` is the JavaScript value it decodes to.
 */
export interface CType<T> {
  /** The C spelling, e.g. `'u32'`, `'char[16]'`, `'struct nlmsghdr'`. */
  readonly name: string;
  /** `sizeof` on x86-64 (use {@link sizeof} for another ABI); lets any type size an ioctl number: `_IOW('T', 202, s32)`. */
  readonly size: number;
  /** Compiles the type for an ABI and byte order. @internal */
  compile(abi: Abi, order: ByteOrder): Codec;
  /** Phantom member carrying the decoded value type; never set. @internal */
  readonly __value?: T;
}

/** The JavaScript value a C type decodes to. */
export type ValueOf<C> = C extends CType<infer T> ? T : never;

/** What may be written into a field: partial objects (missing fields are zero) and plain numbers for 64-bit fields. */
export type InitOf<T> = T extends bigint
  ? bigint | number
  : T extends Uint8Array
    ? Uint8Array
    : T extends readonly (infer E)[]
      ? readonly InitOf<E>[]
      : T extends object
        ? { readonly [K in keyof T]?: InitOf<T[K]> }
        : T;

/**
 * A zero-copy view: reading a member reads the bytes, assigning a member writes them (checked like encode);
 * nested structs and `bytes(N)` members are views too, while array members read as a copy (assign a whole
 * array to write one). A view is not a plain object: its members are accessors, so `{ ...view }` and
 * `JSON.stringify(view)` see nothing; `decode` gives a plain object, and `encode(view)` writes what it holds.
 */
export type ViewOf<T> = T extends bigint | number | string | Uint8Array
  ? T
  : T extends readonly unknown[]
    ? // An array member reads as a copy: assign a whole array to write it.
      readonly T[number][]
    : { -readonly [K in keyof T]: ViewOf<T[K]> };

function einval(detail: string, op?: string): KernelError {
  return new KernelError("EINVAL", detail, op === undefined ? {} : { op });
}

// Where encodeInto builds a value before copying it out (grown on demand).
let scratch = new Uint8Array(256);
// Larger values are encoded into a buffer of their own, so the shared one never pins much memory.
const SCRATCH_MAX = 64 * 1024;
let scratchBusy = false;

// Slots of a view instance, kept off its enumerable keys so that a view lists only the members.
const BUF = Symbol("buf");
const OFF = Symbol("off");
const PATH = Symbol("path");
const SNAPSHOT = Symbol("snapshot");

// ---------------------------------------------------------------------------------------------------
// Scalars

interface IntSpec {
  readonly name: string;
  /** Size in bytes, or which ABI size it follows. */
  readonly size: 1 | 2 | 4 | 8 | "long" | "pointer";
  readonly signed: boolean;
  /** Fixed byte order regardless of the ABI (`__be32`, `__le16`). */
  readonly order?: ByteOrder;
  /** Decodes to bigint (every type that may be 64 bits wide on some ABI). */
  readonly big: boolean;
}

class IntType<T extends number | bigint> implements CType<T> {
  declare readonly __value?: T;

  get size(): number {
    return compiled(this, X86_64, "little").size;
  }
  constructor(private readonly spec: IntSpec) {}

  get name(): string {
    return this.spec.name;
  }

  compile(abi: Abi, order: ByteOrder): Codec {
    const s = this.spec;
    const size = s.size === "long" ? abi.longSize : s.size === "pointer" ? abi.pointerSize : s.size;
    const align = size === 8 ? abi.int64Align : size;
    const le = (s.order ?? order) === "little";
    const name = s.name;
    if (!s.big) return smallInt(size as 1 | 2 | 4, s.signed, le, name);
    return bigInt(size as 4 | 8, align, s.signed, le, name);
  }
}

function smallInt(size: 1 | 2 | 4, signed: boolean, le: boolean, name: string): Codec {
  const bits = size * 8;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const check = (value: unknown, path: string): number => {
    const v = typeof value === "bigint" ? Number(value) : value;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw einval(`${path}: ${String(value)} does not fit in ${name} (${min}..${max})`);
    }
    return v;
  };
  const base = { size, align: size, atomic: true };
  if (size === 1) {
    return {
      ...base,
      read: signed ? (b, o) => (b[o]! << 24) >> 24 : (b, o) => b[o]!,
      write: (b, o, v, p) => {
        b[o] = check(v, p);
      },
    };
  }
  if (size === 2) {
    return {
      ...base,
      read: signed ? (b, o) => (get16(b, o, le) << 16) >> 16 : (b, o) => get16(b, o, le),
      write: (b, o, v, p) => put16(b, o, check(v, p), le),
    };
  }
  return {
    ...base,
    read: signed ? (b, o) => get32(b, o, le) | 0 : (b, o) => get32(b, o, le),
    write: (b, o, v, p) => put32(b, o, check(v, p), le),
  };
}

function bigInt(size: 4 | 8, align: number, signed: boolean, le: boolean, name: string): Codec {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const check = (value: unknown, path: string): bigint => {
    let v: bigint | undefined;
    if (typeof value === "bigint") v = value;
    else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
    else if (typeof value === "number" && Number.isInteger(value)) {
      throw einval(`${path}: ${value} is not a safe integer; pass a bigint for ${name}`);
    }
    if (v === undefined || v < min || v > max) {
      throw einval(`${path}: ${String(value)} does not fit in ${name} of ${size} bytes (${min}..${max})`);
    }
    return v;
  };
  if (size === 4) {
    return {
      size,
      align,
      atomic: true,
      read: signed ? (b, o) => BigInt(get32(b, o, le) | 0) : (b, o) => BigInt(get32(b, o, le)),
      write: (b, o, v, p) => put32(b, o, Number(BigInt.asUintN(32, check(v, p))), le),
    };
  }
  // Two 32-bit halves: as fast as a DataView's getBigUint64 without allocating a DataView per access.
  const lo = le ? 0 : 4;
  const hi = le ? 4 : 0;
  return {
    size,
    align,
    atomic: true,
    read: (b, o) => {
      const v = (BigInt(get32(b, o + hi, le)) << 32n) | BigInt(get32(b, o + lo, le));
      return signed ? BigInt.asIntN(64, v) : v;
    },
    write: (b, o, v, p) => {
      const x = check(v, p);
      put32(b, o + lo, Number(BigInt.asUintN(32, x)), le);
      put32(b, o + hi, Number(BigInt.asUintN(32, x >> 32n)), le);
    },
  };
}

function int<T extends number | bigint>(spec: IntSpec): CType<T> {
  return new IntType<T>(spec);
}

/** `__u8`, `unsigned char`. */
export const u8: CType<number> = int({ name: "u8", size: 1, signed: false, big: false });
/** `__u16`, `unsigned short`, in the ABI's byte order. */
export const u16: CType<number> = int({ name: "u16", size: 2, signed: false, big: false });
/** `__u32`, `unsigned int`, in the ABI's byte order. */
export const u32: CType<number> = int({ name: "u32", size: 4, signed: false, big: false });
/** `__u64`, `unsigned long long`; aligned to 8 on x86-64 and to 4 on i386. */
export const u64: CType<bigint> = int({ name: "u64", size: 8, signed: false, big: true });
/** `__s8`, `signed char`. */
export const s8: CType<number> = int({ name: "s8", size: 1, signed: true, big: false });
/** `__s16`, `short`. */
export const s16: CType<number> = int({ name: "s16", size: 2, signed: true, big: false });
/** `__s32`, `int`, in the ABI's byte order. */
export const s32: CType<number> = int({ name: "s32", size: 4, signed: true, big: false });
/** `__s64`, `long long`; aligned to 8 on x86-64 and to 4 on i386. */
export const s64: CType<bigint> = int({ name: "s64", size: 8, signed: true, big: true });
/** `__be16`: big-endian (network order) whatever the ABI. */
export const be16: CType<number> = int({ name: "be16", size: 2, signed: false, order: "big", big: false });
/** `__be32`: big-endian (network order) whatever the ABI. */
export const be32: CType<number> = int({ name: "be32", size: 4, signed: false, order: "big", big: false });
/** `__be64`: big-endian (network order) whatever the ABI. */
export const be64: CType<bigint> = int({ name: "be64", size: 8, signed: false, order: "big", big: true });
/** `__le16`: little-endian whatever the ABI. */
export const le16: CType<number> = int({ name: "le16", size: 2, signed: false, order: "little", big: false });
/** `__le32`: little-endian whatever the ABI. */
export const le32: CType<number> = int({ name: "le32", size: 4, signed: false, order: "little", big: false });
/** `__le64`: little-endian whatever the ABI. */
export const le64: CType<bigint> = int({ name: "le64", size: 8, signed: false, order: "little", big: true });
/** `long`: 8 bytes on LP64, 4 on ILP32; decodes to bigint on every ABI. */
export const long: CType<bigint> = int({ name: "long", size: "long", signed: true, big: true });
/** `unsigned long`: 8 bytes on LP64, 4 on ILP32; decodes to bigint on every ABI. */
export const ulong: CType<bigint> = int({ name: "ulong", size: "long", signed: false, big: true });
/** `size_t`: pointer-sized, unsigned. */
export const size_t: CType<bigint> = int({ name: "size_t", size: "pointer", signed: false, big: true });
/** `ssize_t`: pointer-sized, signed. */
export const ssize_t: CType<bigint> = int({ name: "ssize_t", size: "pointer", signed: true, big: true });
/** A pointer (`void *`, `compat_uptr_t` on ILP32): an unsigned address of the ABI's pointer size. */
export const ptr: CType<bigint> = int({ name: "ptr", size: "pointer", signed: false, big: true });

// ---------------------------------------------------------------------------------------------------
// Arrays, strings, raw bytes, explicit alignment

function checkCount(op: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw einval(`length ${String(n)} is not a non-negative integer`, op);
  }
  return n;
}

function checkType(op: string, t: unknown): CType<unknown> {
  if (t === null || typeof t !== "object" || typeof (t as CType<unknown>).compile !== "function") {
    throw einval(`${String(t)} is not a C type`, op);
  }
  return t as CType<unknown>;
}

class ArrayType<T> implements CType<T[]> {
  declare readonly __value?: T[];

  get size(): number {
    return compiled(this, X86_64, "little").size;
  }
  readonly name: string;
  constructor(
    private readonly elem: CType<T>,
    private readonly count: number,
  ) {
    // C order: an array of 3 `u8[2]` is `u8[3][2]`.
    const [, base, dims] = /^(.*?)((?:\[\d+\])*)$/.exec(elem.name)!;
    this.name = `${base}[${count}]${dims}`;
  }

  compile(abi: Abi, order: ByteOrder): Codec {
    const e = compiled(this.elem, abi, order);
    // gcc: "alignment of array elements is greater than element size" (an over-aligned typedef).
    if (e.size % e.align !== 0) {
      throw einval(
        `${this.name}: element size ${e.size} is not a multiple of its alignment ${e.align}`,
        "array",
      );
    }
    const n = this.count;
    const stride = e.size;
    if (stride * n > MAX_SIZE)
      throw einval(`${this.name} would be ${stride * n} bytes, more than ${MAX_SIZE}`, "array");
    return {
      size: stride * n,
      align: e.align,
      atomic: false,
      read(b, off) {
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = e.read(b, off + i * stride);
        return out;
      },
      write(b, off, value, path) {
        if (!Array.isArray(value) || value.length > n) {
          throw einval(`${path}: expected an array of at most ${n} elements, got ${describe(value)}`);
        }
        for (let i = 0; i < value.length; i++) e.write(b, off + i * stride, value[i], `${path}[${i}]`);
      },
    };
  }
}

/** `T name[N]`: a fixed array; decodes to a JavaScript array of N values, encodes from at most N (the rest is zero). */
export function array<T>(elem: CType<T>, count: number): CType<T[]> {
  return new ArrayType(checkType("array", elem) as CType<T>, checkCount("array", count));
}

class CharType implements CType<string> {
  declare readonly __value?: string;

  get size(): number {
    return compiled(this, X86_64, "little").size;
  }
  readonly name: string;
  constructor(private readonly count: number) {
    this.name = `char[${count}]`;
  }

  compile(): Codec {
    const n = this.count;
    return {
      size: n,
      align: 1,
      atomic: true,
      read(b, off) {
        let end = off;
        while (end < off + n && b[end] !== 0) end++;
        return utf8Decode(b, off, end);
      },
      write(b, off, value, path) {
        if (typeof value !== "string") {
          throw einval(`${path}: expected a string for char[${n}], got ${describe(value)}`);
        }
        const s = utf8Encode(value);
        if (s.length > n) {
          throw einval(`${path}: ${JSON.stringify(value)} is ${s.length} bytes, char[${n}] holds ${n}`);
        }
        if (s.includes(0)) throw einval(`${path}: ${JSON.stringify(value)} contains a NUL byte`);
        b.set(s, off);
        b.fill(0, off + s.length, off + n);
      },
    };
  }
}

/**
 * `char name[N]`: a C string buffer. Decodes the UTF-8 bytes before the first NUL (or all N when there is
 * none, as a kernel `char[]` need not be terminated); encodes at most N bytes and zero-fills the rest.
 */
export function char(count: number): CType<string> {
  return new CharType(checkCount("char", count));
}

class BytesType implements CType<Uint8Array> {
  declare readonly __value?: Uint8Array;

  get size(): number {
    return compiled(this, X86_64, "little").size;
  }
  readonly name: string;
  constructor(private readonly count: number) {
    this.name = `u8[${count}]`;
  }

  compile(): Codec {
    const n = this.count;
    return {
      size: n,
      align: 1,
      atomic: true,
      read: (b, off) => b.slice(off, off + n),
      // A view shares the bytes: writing into the returned array writes the struct.
      view: (b, off) => b.subarray(off, off + n),
      write(b, off, value, path) {
        if (!(value instanceof Uint8Array) || value.length > n) {
          throw einval(`${path}: expected a Uint8Array of at most ${n} bytes, got ${describe(value)}`);
        }
        b.set(value, off);
        b.fill(0, off + value.length, off + n);
      },
    };
  }
}

/** `__u8 name[N]` as raw bytes: decodes to a copy, views to the bytes themselves (zero-copy). */
export function bytes(count: number): CType<Uint8Array> {
  return new BytesType(checkCount("bytes", count));
}

function checkPow2(op: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1 << 28 || (n & (n - 1)) !== 0) {
    throw einval(`alignment ${String(n)} is not a power of two`, op);
  }
  return n;
}

class AlignedType<T> implements CType<T> {
  declare readonly __value?: T;

  get size(): number {
    return compiled(this, X86_64, "little").size;
  }
  readonly name: string;
  constructor(
    private readonly inner: CType<T>,
    private readonly alignment: number,
  ) {
    this.name = `${inner.name} __attribute__((aligned(${alignment})))`;
  }

  compile(abi: Abi, order: ByteOrder): Codec {
    const c = compiled(this.inner, abi, order);
    // As gcc treats a typedef with aligned(N): the alignment becomes N, raised or lowered, and the size
    // stays (sizeof of a 4-byte type aligned to 8 is still 4; compat_u64 is a u64 aligned to 4).
    return { ...c, align: this.alignment };
  }
}

/**
 * `T __attribute__((aligned(N)))` as a typedef: the type's alignment becomes N, whether that raises or
 * lowers it, and its size stays. The UAPI's `__aligned_u64` is `aligned(u64, 8)`, which keeps a `u64`
 * 8-aligned on i386 too; the kernel's x86 `compat_u64` is `aligned(u64, 4)`. A struct's `packed` still
 * places such a member at alignment 1, and, as in gcc, an array of a type whose size is not a multiple
 * of its alignment is an error.
 */
export function aligned<T>(type: CType<T>, alignment: number): CType<T> {
  return new AlignedType(checkType("aligned", type) as CType<T>, checkPow2("aligned", alignment));
}

/** `__aligned_u64`: a `u64` aligned to 8 on every ABI (include/uapi/linux/types.h). */
export const aligned_u64: CType<bigint> = aligned(u64, 8);

// ---------------------------------------------------------------------------------------------------
// Structs and unions

/** Attributes of a struct or union declaration. */
export interface StructOptions {
  /** `__attribute__((packed))`: every member aligned to 1 and no padding. */
  readonly packed?: boolean;
  /** `__attribute__((aligned(N)))`: at least this alignment for the whole struct (a power of two). */
  readonly aligned?: number;
}

/** One member of a laid-out struct. */
export interface FieldLayout {
  /** The member's name. */
  readonly name: string;
  /** `offsetof()` in bytes. */
  readonly offset: number;
  /** `sizeof()` of the member in bytes. */
  readonly size: number;
  /** The member's alignment in this struct (1 when packed). */
  readonly align: number;
  /** The member's C type. */
  readonly type: CType<unknown>;
}

/** Byte order and ABI for encoding or decoding; the defaults are x86-64 and its byte order. */
export interface CodecOptions {
  /** The ABI to lay the struct out for ({@link X86_64} by default). */
  readonly abi?: Abi;
  /** Byte order of integers without a fixed order (the ABI's by default). */
  readonly byteOrder?: ByteOrder;
}

/** The members of a struct or union declaration: C types by member name, in declaration order. */
export type StructMembers = Record<string, CType<unknown>>;

/** The decoded value of a struct or union with these members. */
export type StructValue<F extends StructMembers> = { [K in keyof F]: ValueOf<F[K]> };

interface CompiledAggregate extends Codec {
  readonly fields: readonly FieldLayout[];
}

/**
 * A struct or union laid out for one ABI and byte order: offsets, size, and the codecs for values
 * and views. Obtain it with {@link StructType.layout}.
 */
export class Layout<V> {
  /** `sizeof()` in bytes, trailing padding included. */
  readonly size: number;
  /** `_Alignof()` in bytes. */
  readonly align: number;
  /** Members in declaration order with their offsets. */
  readonly fields: readonly FieldLayout[];
  readonly #codec: CompiledAggregate;
  readonly #byName: ReadonlyMap<string, FieldLayout>;

  /** @internal */
  constructor(
    /** The struct's C name, e.g. `'struct nlmsghdr'`. */
    readonly name: string,
    /** The ABI this layout is for. */
    readonly abi: Abi,
    /** The byte order of integers without a fixed order. */
    readonly byteOrder: ByteOrder,
    codec: CompiledAggregate,
  ) {
    this.#codec = codec;
    this.size = codec.size;
    this.align = codec.align;
    this.fields = codec.fields;
    this.#byName = new Map(codec.fields.map((f) => [f.name, f]));
  }

  /**
   * `offsetof(type, member)`.
   * @throws {@link KernelError} EINVAL when there is no such member
   */
  offsetof(member: keyof V & string): number {
    const f = this.#byName.get(member);
    if (f === undefined) throw einval(`${this.name} has no member ${JSON.stringify(member)}`, "offsetof");
    return f.offset;
  }

  /**
   * Encodes a value into a new buffer of `size` bytes. Missing members and all padding are zero, so no
   * stale byte can leak (the bug class of kernel infoleaks through struct padding).
   * @throws {@link KernelError} EINVAL naming the member whose value does not fit, or an unknown member
   */
  encode(value: InitOf<V>): Uint8Array {
    const out = new Uint8Array(this.size);
    this.#codec.write(out, 0, value, this.name);
    return out;
  }

  /**
   * Encodes a value into `buf` at `offset`, zeroing the struct's bytes first (padding included).
   * On a bad value nothing is written. Returns the number of bytes written (`size`).
   * @throws {@link KernelError} EINVAL when the buffer is too short or a value does not fit
   */
  encodeInto(value: InitOf<V>, buf: Uint8Array, offset = 0): number {
    this.#bounds("encodeInto", buf, offset);
    // Encode aside first so that a bad value leaves `buf` unchanged. The scratch buffer is shared; a getter
    // in `value` that encodes again while it is in use gets a fresh one.
    const size = this.size;
    if (scratchBusy) {
      buf.set(this.encode(value), offset);
      return size;
    }
    if (size > SCRATCH_MAX) {
      buf.set(this.encode(value), offset);
      return size;
    }
    if (scratch.length < size)
      scratch = new Uint8Array(Math.min(SCRATCH_MAX, Math.max(size, scratch.length * 2)));
    scratchBusy = true;
    try {
      // Small structs (headers) copy faster by hand than through a subarray view.
      if (size <= 64) for (let i = 0; i < size; i++) scratch[i] = 0;
      else scratch.fill(0, 0, size);
      this.#codec.write(scratch, 0, value, this.name);
      if (size <= 64) for (let i = 0; i < size; i++) buf[offset + i] = scratch[i]!;
      else buf.set(scratch.subarray(0, size), offset);
    } finally {
      scratchBusy = false;
    }
    return size;
  }

  /**
   * Decodes the struct at `offset` of `buf` into a plain object (64-bit members as bigint, `char[N]` as
   * string, byte arrays copied).
   * @throws {@link KernelError} EINVAL when `buf` is too short
   */
  decode(buf: Uint8Array, offset = 0): V {
    this.#bounds("decode", buf, offset);
    return this.#codec.read(buf, offset) as V;
  }

  /**
   * A zero-copy view of the struct at `offset` of `buf`: each member is a getter and setter on the
   * bytes, checked like {@link Layout.encode}; nested structs are views too.
   * @throws {@link KernelError} EINVAL when `buf` is too short
   */
  view(buf: Uint8Array, offset = 0): ViewOf<V> {
    this.#bounds("view", buf, offset);
    return this.#codec.view!(buf, offset) as ViewOf<V>;
  }

  #bounds(op: string, buf: Uint8Array, offset: number): void {
    if (!(buf instanceof Uint8Array)) throw einval(`${describe(buf)} is not a Uint8Array`, op);
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > buf.length) {
      throw einval(
        `${this.name} (${this.size} bytes) at offset ${String(offset)} does not fit in a buffer of ${buf.length} bytes`,
        op,
      );
    }
  }
}

/**
 * A struct or union type declared with {@link struct} or {@link union}. It is a {@link CType} (so it
 * nests), and it lays itself out for any ABI with {@link StructType.layout}; the shortcuts `size`,
 * `encode`, `decode`, `view` … use x86-64 unless given `{ abi, byteOrder }`.
 */
export class StructType<F extends StructMembers> implements CType<StructValue<F>> {
  declare readonly __value?: StructValue<F>;
  /** The C name, e.g. `'struct nlmsghdr'`. */
  readonly name: string;
  /** The members as declared. */
  readonly members: Readonly<F>;
  /** The declaration's attributes. */
  readonly options: StructOptions;
  readonly #isUnion: boolean;
  // Layouts by ABI and byte order; the x86-64 little-endian one, used by every shortcut, in its own slot.
  readonly #layouts = new WeakMap<Abi, { little?: Layout<StructValue<F>>; big?: Layout<StructValue<F>> }>();
  #default: Layout<StructValue<F>> | undefined;

  /** @internal */
  constructor(kind: "struct" | "union", name: string, members: F, options: StructOptions = {}) {
    if (kind !== "struct" && kind !== "union")
      throw einval(`kind ${JSON.stringify(kind)} is neither struct nor union`);
    // Validate the frozen copies, so what is checked is exactly what is laid out.
    const m = Object.freeze({ ...members });
    const o = Object.freeze({ ...options });
    checkDeclaration(kind, name, m, o);
    this.name = `${kind} ${name}`;
    this.#isUnion = kind === "union";
    this.members = m;
    this.options = o;
  }

  /** The layout of this type for an ABI and byte order (cached). */
  layout(abi: Abi = X86_64, byteOrder: ByteOrder = abi?.byteOrder): Layout<StructValue<F>> {
    if (abi === X86_64 && byteOrder === "little") {
      this.#default ??= new Layout(this.name, abi, byteOrder, this.#compileAggregate(abi, byteOrder));
      return this.#default;
    }
    let slot = this.#layouts.get(abi);
    if (slot === undefined) {
      checkAbi(abi, this.name);
      slot = {};
      this.#layouts.set(abi, slot);
    }
    if (byteOrder !== "little" && byteOrder !== "big") {
      throw einval(`byte order ${JSON.stringify(byteOrder)} is neither "little" nor "big"`, this.name);
    }
    let l = slot[byteOrder];
    if (l === undefined) {
      l = new Layout(this.name, abi, byteOrder, this.#compileAggregate(abi, byteOrder));
      slot[byteOrder] = l;
    }
    return l;
  }

  /** `sizeof()` on x86-64. */
  get size(): number {
    return this.layout().size;
  }

  /** `_Alignof()` on x86-64. */
  get align(): number {
    return this.layout().align;
  }

  /** Members with offsets on x86-64. */
  get fields(): readonly FieldLayout[] {
    return this.layout().fields;
  }

  /** `offsetof(type, member)` for an ABI (x86-64 by default). */
  offsetof(member: keyof F & string, abi: Abi = X86_64): number {
    return this.layout(abi).offsetof(member);
  }

  /** Encodes a value; see {@link Layout.encode}. */
  encode(value: InitOf<StructValue<F>>, options?: CodecOptions): Uint8Array {
    return this.#for(options).encode(value);
  }

  /** Encodes a value into a buffer; see {@link Layout.encodeInto}. */
  encodeInto(value: InitOf<StructValue<F>>, buf: Uint8Array, offset = 0, options?: CodecOptions): number {
    return this.#for(options).encodeInto(value, buf, offset);
  }

  /** Decodes a value; see {@link Layout.decode}. */
  decode(buf: Uint8Array, offset = 0, options?: CodecOptions): StructValue<F> {
    return this.#for(options).decode(buf, offset);
  }

  /** A zero-copy view; see {@link Layout.view}. */
  view(buf: Uint8Array, offset = 0, options?: CodecOptions): ViewOf<StructValue<F>> {
    return this.#for(options).view(buf, offset);
  }

  /** @internal */
  compile(abi: Abi, order: ByteOrder): Codec {
    return this.#compileAggregate(abi, order);
  }

  #for(options: CodecOptions | undefined): Layout<StructValue<F>> {
    if (options === undefined) return this.#default ?? this.layout();
    if (options === null || typeof options !== "object") {
      throw einval(`options ${String(options)} is not an object`, this.name);
    }
    const abi = options.abi ?? X86_64;
    return this.layout(abi, options.byteOrder ?? abi.byteOrder);
  }

  // Models gcc's System V layout: each member at the next multiple of its alignment (1 when packed),
  // union members all at 0; the aggregate aligned to its largest member (or aligned(N)) and its size
  // rounded up to that alignment.
  #compileAggregate(abi: Abi, order: ByteOrder): CompiledAggregate {
    const packed = this.options.packed === true;
    const names = Object.keys(this.members);
    const codecs: Codec[] = [];
    const fields: FieldLayout[] = [];
    let cursor = 0;
    let maxAlign = 1;
    let end = 0;
    for (const name of names) {
      const type = this.members[name]!;
      const c = compiled(type, abi, order);
      const align = packed ? 1 : c.align;
      const offset = this.#isUnion ? 0 : alignUp(cursor, align);
      fields.push(Object.freeze({ name, offset, size: c.size, align, type }));
      codecs.push(c);
      cursor = offset + c.size;
      end = Math.max(end, cursor);
      maxAlign = Math.max(maxAlign, align);
    }
    const align = Math.max(maxAlign, this.options.aligned ?? 1);
    const size = alignUp(end, align);
    if (size > MAX_SIZE) throw einval(`${this.name} would be ${size} bytes, more than ${MAX_SIZE}`, "struct");
    return aggregateCodec(this.name, size, align, Object.freeze(fields), codecs);
  }
}

function aggregateCodec(
  typeName: string,
  size: number,
  align: number,
  fields: readonly FieldLayout[],
  codecs: readonly Codec[],
): CompiledAggregate {
  const n = fields.length;
  const names = fields.map((f) => f.name);
  const offsets = fields.map((f) => f.offset);
  const read = compileRead(names, offsets, codecs);
  const write = compileWrite(typeName, names, offsets, codecs);

  // One view class per layout: members are accessors on the prototype; an instance holds the bytes, the
  // offset and its path for messages under symbols. Views stay extensible: Object.preventExtensions would
  // catch a misspelt member in plain JavaScript but costs about 8 times the creation of a view; the
  // ViewOf type catches it in TypeScript.
  class View {
    readonly [BUF]: Uint8Array;
    readonly [OFF]: number;
    readonly [PATH]: string;
    constructor(b: Uint8Array, off: number, path: string) {
      this[BUF] = b;
      this[OFF] = off;
      this[PATH] = path;
    }
  }
  // A view that outlives its bytes (a resizable ArrayBuffer shrunk, or detached) must not read torn values.
  const live = (v: View): void => {
    if (v[OFF] + size > v[BUF].length) {
      throw einval(
        `${v[PATH]}: the view's ${size} bytes at offset ${v[OFF]} are gone (the buffer has ${v[BUF].length})`,
      );
    }
  };
  for (let i = 0; i < n; i++) {
    const c = codecs[i]!;
    const rel = offsets[i]!;
    const name = names[i]!;
    const topPath = `${typeName}.${name}`;
    const path = (v: View) => (v[PATH] === typeName ? topPath : `${v[PATH]}.${name}`);
    Object.defineProperty(View.prototype, name, {
      enumerable: true,
      get: c.view
        ? function (this: View) {
            live(this);
            return c.view!(this[BUF], this[OFF] + rel, path(this));
          }
        : function (this: View) {
            live(this);
            return c.read(this[BUF], this[OFF] + rel);
          },
      set: c.atomic
        ? function (this: View, value: unknown) {
            live(this);
            c.write(this[BUF], this[OFF] + rel, value, path(this));
          }
        : function (this: View, value: unknown) {
            live(this);
            // Write a zeroed scratch copy first: a bad value never half-writes the member.
            const scratch = new Uint8Array(c.size);
            c.write(scratch, 0, value, path(this));
            this[BUF].set(scratch, this[OFF] + rel);
          },
    });
  }
  Object.defineProperty(View.prototype, Symbol.toStringTag, { value: `${typeName} view` });
  // What the bytes hold now as a plain object: for encode() of a view, for Node's console, and for spreading.
  Object.defineProperty(View.prototype, SNAPSHOT, {
    value(this: View) {
      live(this);
      return read(this[BUF], this[OFF]);
    },
  });
  Object.defineProperty(View.prototype, Symbol.for("nodejs.util.inspect.custom"), {
    value(this: View) {
      live(this);
      return read(this[BUF], this[OFF]);
    },
  });

  return {
    size,
    align,
    atomic: false,
    fields,
    read,
    // A view given as a value is written as what it holds.
    write: (b, off, value, path) =>
      write(b, off, isView(value) ? (value as { [SNAPSHOT](): unknown })[SNAPSHOT]() : value, path),
    view: (b, off, path) => new View(b, off, path ?? typeName),
  };
}

function isView(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { [BUF]?: unknown })[BUF] !== undefined;
}

type ReadFn = (b: Uint8Array, off: number) => Record<string, unknown>;
type WriteFn = (b: Uint8Array, off: number, value: unknown, path: string) => void;

// A member name as a quoted property key of generated code (names are C identifiers, but quote them anyway).
const key = (name: string) => JSON.stringify(name);

/**
 * The decoder of an aggregate. Where the runtime allows it, it is compiled from text into one object
 * literal (`{ "a": r0(b, off + 0), "b": r1(b, off + 4) }`, each `rN` a member's read function), which gives
 * every decoded object the same hidden class and lets V8 inline the member reads; elsewhere it is a loop.
 */
function compileRead(names: readonly string[], offsets: readonly number[], codecs: readonly Codec[]): ReadFn {
  if (canGenerateCode()) {
    try {
      const params = codecs.map((_, i) => `r${i}`);
      const body = names.map((name, i) => `${key(name)}: r${i}(b, off + ${offsets[i]})`).join(", ");
      const make = new Function(
        ...params,
        `"use strict"; return function read(b, off) { return { ${body} }; };`,
      );
      return make(...codecs.map((c) => c.read)) as ReadFn;
    } catch {
      // fall through to the loop
    }
  }
  const n = names.length;
  return (b, off) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) out[names[i]!] = codecs[i]!.read(b, off + offsets[i]!);
    return out;
  };
}

/**
 * The encoder of an aggregate: walks the value's own enumerable keys once, writing each member as its key
 * comes (so union members overlap in the order the value lists them) and refusing any key that is no
 * member. Inherited properties, such as a polluted `Object.prototype`, are never read. Compiled from text
 * like {@link compileRead} where the runtime allows it.
 */
function compileWrite(
  typeName: string,
  names: readonly string[],
  offsets: readonly number[],
  codecs: readonly Codec[],
): WriteFn {
  const index = new Map(names.map((name, i) => [name, i]));
  const topPaths = names.map((name) => `${typeName}.${name}`);
  const notObject = (path: string, value: unknown) =>
    einval(`${path}: expected an object for ${typeName}, got ${describe(value)}`);
  const unknownMember = (path: string, k: string) =>
    einval(`${path === typeName ? typeName : `${path} (${typeName})`} has no member ${JSON.stringify(k)}`);
  const memberPath = (path: string, i: number) => (path === typeName ? topPaths[i]! : `${path}.${names[i]}`);
  // Object.prototype.hasOwnProperty.call is about twice as fast as Object.hasOwn in Node 20's V8.
  const hasOwn = Object.prototype.hasOwnProperty;
  if (canGenerateCode()) {
    try {
      const params = codecs.map((_, i) => `w${i}`);
      // One pass over the value's own keys: each member is written when its key comes, anything else throws.
      const cases = names
        .map(
          (name, i) =>
            `case ${key(name)}: x = v[k]; if (x !== undefined) w${i}(b, off + ${offsets[i]}, x, path === T ? P[${i}] : M(path, ${i})); break;`,
        )
        .join("\n");
      const make = new Function(
        "T",
        "P",
        "M",
        "hasOwn",
        "notObject",
        "unknownMember",
        ...params,
        `"use strict"; return function write(b, off, v, path) {
          if (v === null || typeof v !== "object" || Array.isArray(v)) throw notObject(path, v);
          let x;
          for (const k in v) {
            if (!hasOwn.call(v, k)) continue;
            switch (k) {
              ${cases}
              default: throw unknownMember(path, k);
            }
          }
        };`,
      );
      return make(
        typeName,
        topPaths,
        memberPath,
        hasOwn,
        notObject,
        unknownMember,
        ...codecs.map((c) => c.write),
      );
    } catch {
      // fall through to the loop
    }
  }
  return (b, off, value, path) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw notObject(path, value);
    const v = value as Record<string, unknown>;
    for (const k in v) {
      if (!hasOwn.call(v, k)) continue;
      const i = index.get(k);
      if (i === undefined) throw unknownMember(path, k);
      const x = v[k];
      if (x !== undefined) codecs[i]!.write(b, off + offsets[i]!, x, memberPath(path, i));
    }
  };
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The largest aggregate or array kbridge lays out: sizes stay exact 32-bit integers, as `sizeof` in ioctl numbers needs far less. */
const MAX_SIZE = 0x7fffffff;

function checkDeclaration(op: string, name: unknown, members: unknown, options: unknown): void {
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw einval(`name ${JSON.stringify(name)} is not a C identifier`, op);
  }
  if (members === null || typeof members !== "object" || Array.isArray(members)) {
    throw einval(`members of ${name} must be an object of C types, got ${describe(members)}`, op);
  }
  for (const [k, t] of Object.entries(members)) {
    if (!NAME_RE.test(k)) {
      throw einval(`member name ${JSON.stringify(k)} of ${name} is not a C identifier`, op);
    }
    // `__proto__` cannot be a plain property of a decoded object in JavaScript.
    if (k === "__proto__") throw einval(`member name "__proto__" of ${name} cannot be represented`, op);
    checkType(`${op} ${name}.${k}`, t);
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw einval(`options of ${name} must be an object, got ${describe(options)}`, op);
  }
  for (const k of Object.keys(options)) {
    if (k !== "packed" && k !== "aligned") throw einval(`${name}: unknown option ${JSON.stringify(k)}`, op);
  }
  const o = options as StructOptions;
  if (o.packed !== undefined && typeof o.packed !== "boolean") {
    throw einval(`${name}: packed must be true or false, got ${describe(o.packed)}`, op);
  }
  if (o.aligned !== undefined) checkPow2(op, o.aligned);
}

/**
 * Declares a C struct. Members are laid out in order as gcc does for the chosen ABI.
 *
 * @example
 * ```ts
 * const nlmsghdr = struct("nlmsghdr", {
 *   nlmsg_len: u32, nlmsg_type: u16, nlmsg_flags: u16, nlmsg_seq: u32, nlmsg_pid: u32,
 * });
 * nlmsghdr.size;                              // 16
 * nlmsghdr.encode({ nlmsg_len: 16, nlmsg_type: 3 });
 * ```
 * @throws {@link KernelError} EINVAL when a name is not a C identifier or a member is not a C type
 */
export function struct<F extends StructMembers>(
  name: string,
  members: F,
  options: StructOptions = {},
): StructType<F> {
  return new StructType("struct", name, members, options);
}

/**
 * Declares a C union: every member at offset 0, size of the largest rounded up to the alignment.
 * Decoding reads every member; encoding writes the members given, in the order the value lists them.
 * @throws {@link KernelError} EINVAL when a name is not a C identifier or a member is not a C type
 */
export function union<F extends StructMembers>(
  name: string,
  members: F,
  options: StructOptions = {},
): StructType<F> {
  return new StructType("union", name, members, options);
}

// ---------------------------------------------------------------------------------------------------
// sizeof / alignof for any type

// Compiled codecs by type, ABI and byte order: compiling happens once per combination.
const cache = new WeakMap<CType<unknown>, WeakMap<Abi, { little?: Codec; big?: Codec }>>();

function compiled(type: CType<unknown>, abi: Abi, order: ByteOrder): Codec {
  let byAbi = cache.get(type);
  if (byAbi === undefined) {
    byAbi = new WeakMap();
    cache.set(type, byAbi);
  }
  let slot = byAbi.get(abi);
  if (slot === undefined) {
    slot = {};
    byAbi.set(abi, slot);
  }
  let c = slot[order];
  if (c === undefined) {
    c = type.compile(abi, order);
    slot[order] = c;
  }
  return c;
}

/** `sizeof(type)` for an ABI (x86-64 by default): `sizeof(long, I386) === 4`. */
export function sizeof(type: CType<unknown>, abi: Abi = X86_64): number {
  return compiled(checkType("sizeof", type), checkAbi(abi, "sizeof"), abi.byteOrder).size;
}

/** `_Alignof(type)` as a struct member for an ABI (x86-64 by default): `alignof(u64, I386) === 4`. */
export function alignof(type: CType<unknown>, abi: Abi = X86_64): number {
  return compiled(checkType("alignof", type), checkAbi(abi, "alignof"), abi.byteOrder).align;
}

function checkAbi(abi: unknown, op: string): Abi {
  const a = abi as Abi | null;
  const ok =
    a !== null &&
    typeof a === "object" &&
    (a.pointerSize === 4 || a.pointerSize === 8) &&
    (a.longSize === 4 || a.longSize === 8) &&
    (a.int64Align === 4 || a.int64Align === 8) &&
    (a.byteOrder === "little" || a.byteOrder === "big");
  if (!ok)
    throw einval(`${describe(abi)} is not an ABI (pointer and long sizes, u64 alignment, byte order)`, op);
  return a;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === "bigint") return `${v}n`;
  if (v !== null && typeof v === "object") {
    try {
      return JSON.stringify(v);
    } catch {
      return Object.prototype.toString.call(v);
    }
  }
  return String(v);
}
