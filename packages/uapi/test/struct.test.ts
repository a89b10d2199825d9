import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  type Abi,
  aligned,
  aligned_u64,
  alignof,
  array,
  type ByteOrder,
  be16,
  be32,
  be64,
  bytes,
  type CType,
  char,
  I386,
  KernelError,
  le16,
  long,
  nlmsgerr,
  nlmsghdr,
  ptr,
  s8,
  s16,
  s32,
  s64,
  size_t,
  sizeof,
  ssize_t,
  struct,
  u8,
  u16,
  u32,
  u64,
  ulong,
  union,
  X86_64,
} from "../src/index.js";

function expectEinval(fn: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(KernelError.is(err, "EINVAL"), String(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
}

describe("encode and decode, byte for byte", () => {
  // An RTM_GETLINK dump request header as the kernel receives it.
  const raw = Uint8Array.from([
    0x20,
    0x00,
    0x00,
    0x00, // nlmsg_len   32
    0x12,
    0x00, //             nlmsg_type  RTM_GETLINK (18)
    0x01,
    0x03, //             nlmsg_flags NLM_F_REQUEST | NLM_F_DUMP (0x301)
    0x39,
    0x30,
    0x00,
    0x00, // nlmsg_seq   12345
    0x00,
    0x00,
    0x00,
    0x00, // nlmsg_pid   0 (to the kernel)
  ]);
  const value = { nlmsg_len: 32, nlmsg_type: 18, nlmsg_flags: 0x301, nlmsg_seq: 12345, nlmsg_pid: 0 };

  it("decodes and re-encodes an nlmsghdr", () => {
    expect(nlmsghdr.decode(raw)).toEqual(value);
    expect(nlmsghdr.encode(value)).toEqual(raw);
  });

  it("swaps host-order fields for a big-endian target and keeps network-order fields", () => {
    const be = nlmsghdr.encode(value, { byteOrder: "big" });
    expect([...be.subarray(0, 8)]).toEqual([0, 0, 0, 0x20, 0, 0x12, 0x03, 0x01]);
    expect(nlmsghdr.decode(be, 0, { byteOrder: "big" })).toEqual(value);
    const ports = struct("ports", { sport: be16, dport: be16, tag: le16 });
    expect([...ports.encode({ sport: 0x1234, dport: 80, tag: 0x0102 })]).toEqual([
      0x12, 0x34, 0, 80, 0x02, 0x01,
    ]);
    expect([...ports.encode({ sport: 0x1234, dport: 80, tag: 0x0102 }, { byteOrder: "big" })]).toEqual([
      0x12, 0x34, 0, 80, 0x02, 0x01,
    ]);
  });

  it("nests structs: an nlmsgerr carries the request's header", () => {
    const err = nlmsgerr.encode({ error: -22, msg: value });
    expect([...err.subarray(0, 4)]).toEqual([0xea, 0xff, 0xff, 0xff]);
    expect(err.subarray(4)).toEqual(raw);
    expect(nlmsgerr.decode(err)).toEqual({ error: -22, msg: value });
  });

  it("zeroes members that are not given and every padding byte", () => {
    const padded = struct("padded", { a: u8, b: u32, c: u16 });
    expect(padded.size).toBe(12);
    const buf = new Uint8Array(14).fill(0xaa);
    expect(padded.encodeInto({ a: 1, c: 2 }, buf, 1)).toBe(12);
    expect([...buf]).toEqual([0xaa, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0xaa]);
  });

  it("reads 64-bit, long and pointer members as bigint on every ABI", () => {
    const t = struct("t", { a: u64, l: long, u: ulong, p: ptr, s: ssize_t, z: size_t, n: s64 });
    const v = { a: 2n ** 64n - 1n, l: -2n, u: 7n, p: 0x7fff_ffff_f000n, s: -1n, z: 3n, n: -(2n ** 63n) };
    expect(t.decode(t.encode(v))).toEqual(v);
    const small = { a: 1n, l: -(2n ** 31n), u: 2n ** 32n - 1n, p: 0xffff_f000n, s: -1n, z: 3n, n: 5n };
    expect(t.layout(I386).size).toBe(8 + 4 * 5 + 8);
    expect(t.layout(I386).decode(t.layout(I386).encode(small))).toEqual(small);
    expect(t.decode(t.encode({ a: 5, p: 4096 }))).toMatchObject({ a: 5n, p: 4096n });
  });

  it("handles char[N] as C strings and bytes(N) as raw bytes", () => {
    const t = struct("ifreq_name", { name: char(16), hw: bytes(6) });
    const enc = t.encode({ name: "eth0", hw: Uint8Array.from([0, 0x16, 0x3e, 1, 2, 3]) });
    expect([...enc.subarray(0, 6)]).toEqual([0x65, 0x74, 0x68, 0x30, 0, 0]);
    expect(t.decode(enc)).toEqual({ name: "eth0", hw: Uint8Array.from([0, 0x16, 0x3e, 1, 2, 3]) });
    // A full buffer without NUL is a valid kernel char[] (strscpy is not everywhere).
    expect(t.decode(t.encode({ name: "0123456789abcdef" })).name).toBe("0123456789abcdef");
    expect(t.decode(t.encode({ name: "ünï" })).name).toBe("ünï");
    expectEinval(
      () => t.encode({ name: "0123456789abcdefg" }),
      /"0123456789abcdefg" is 17 bytes, char\[16\] holds 16/,
    );
    expectEinval(() => t.encode({ name: "a\0b" }), /contains a NUL byte/);
  });

  it("decodes every member of a union and encodes the members given", () => {
    const u = union("val", { b: u8, w: u32, q: u64 });
    expect(u).toMatchObject({ size: 8, align: 8 });
    expect(u.decode(u.encode({ w: 0x01020304 }))).toEqual({ b: 4, w: 0x01020304, q: 0x01020304n });
    const tagged = struct("tagged", { tag: u16, v: u });
    expect(tagged.fields.map((f) => f.offset)).toEqual([0, 8]);
    expect(tagged.decode(tagged.encode({ tag: 1, v: { q: 2n ** 40n } })).v.q).toBe(2n ** 40n);
  });

  it("lays out packed and aligned structs as gcc does", () => {
    const p = struct("p", { c: u8, x: u64, s: u16 }, { packed: true });
    expect(p).toMatchObject({ size: 11, align: 1 });
    expect(p.fields.map((f) => f.offset)).toEqual([0, 1, 9]);
    const pa = struct("pa", { c: u8, x: s32, s: s16 }, { packed: true, aligned: 4 });
    expect(pa).toMatchObject({ size: 8, align: 4 });
    const a = struct("a", { x: s32 }, { aligned: 16 });
    expect(a).toMatchObject({ size: 16, align: 16 });
    expect(struct("holder", { c: u8, a }).fields[1]!.offset).toBe(16);
  });

  it("keeps __aligned_u64 8-aligned on i386 while plain u64 aligns to 4", () => {
    const plain = struct("plain", { a: u32, b: u64 });
    const fixed = struct("fixed", { a: u32, b: aligned_u64 });
    expect(plain.layout(I386)).toMatchObject({ size: 12, align: 4 });
    expect(fixed.layout(I386)).toMatchObject({ size: 16, align: 8 });
    expect(plain.layout(X86_64)).toMatchObject({ size: 16, align: 8 });
    expect(alignof(u64, I386)).toBe(4);
    expect(alignof(aligned(u16, 8))).toBe(8);
    // gcc: a typedef's aligned(N) sets the alignment and keeps the size, so arrays of it are refused.
    expect(sizeof(aligned(u16, 8))).toBe(2);
    expect(alignof(aligned(u64, 4))).toBe(4); // the kernel's x86 compat_u64
    expectEinval(
      () => sizeof(array(aligned(u16, 8), 2)),
      /element size 2 is not a multiple of its alignment 8/,
    );
    expect(sizeof(long, I386)).toBe(4);
    expect(sizeof(array(u16, 3))).toBe(6);
  });
});

describe("views", () => {
  it("read and write the bytes in place", () => {
    const buf = new Uint8Array(40);
    const v = nlmsgerr.view(buf, 4);
    v.error = -1;
    v.msg.nlmsg_len = 36;
    v.msg.nlmsg_seq = 9;
    expect(nlmsgerr.decode(buf, 4)).toEqual({
      error: -1,
      msg: { nlmsg_len: 36, nlmsg_type: 0, nlmsg_flags: 0, nlmsg_seq: 9, nlmsg_pid: 0 },
    });
    buf[8] = 0x40;
    expect(v.msg.nlmsg_len).toBe(0x40);
    expect(Object.keys(v)).toEqual([]);
    expect(Object.keys(Object.getPrototypeOf(v))).toEqual(["error", "msg"]);
  });

  it("share byte arrays and refuse bad values without touching the bytes", () => {
    const t = struct("t", { mac: bytes(6), n: u16 });
    const buf = new Uint8Array(8);
    const v = t.view(buf);
    v.mac[0] = 0xff;
    expect(buf[0]).toBe(0xff);
    v.n = 513;
    expectEinval(() => {
      v.n = 70000;
    }, /struct t\.n: 70000 does not fit in u16/);
    expect(v.n).toBe(513);
  });
});

describe("bad input leaves everything unchanged", () => {
  it("rejects out-of-range and mistyped values, naming the member", () => {
    expectEinval(
      () => nlmsghdr.encode({ nlmsg_len: 2 ** 32 }),
      /struct nlmsghdr\.nlmsg_len: 4294967296 does not fit in u32/,
    );
    expectEinval(() => nlmsghdr.encode({ nlmsg_type: 1.5 }), /nlmsg_type: 1.5 does not fit in u16/);
    expectEinval(() => nlmsghdr.encode({ nlmsg_tpye: 1 } as never), /has no member "nlmsg_tpye"/);
    expectEinval(() => nlmsgerr.encode({ msg: 5 } as never), /struct nlmsgerr\.msg: expected an object/);
    expectEinval(() => struct("t", { a: s8 }).encode({ a: 128 }), /128 does not fit in s8 \(-128\.\.127\)/);
    expectEinval(() => struct("t", { a: u64 }).encode({ a: -1n }), /-1 does not fit in u64/);
    expectEinval(
      () => struct("t", { a: u64 }).encode({ a: 2 ** 60 }),
      /struct t\.a: 1152921504606847000 is not a safe integer; pass a bigint for u64/,
    );
    expectEinval(() => struct("t", { a: s64 }).encode({ a: 2n ** 63n }), /does not fit in s64/);
    expectEinval(
      () => struct("t", { a: long }).encode({ a: 2n ** 31n }, { abi: I386 }),
      /does not fit in long of 4 bytes/,
    );
    expectEinval(
      () => struct("t", { a: array(u8, 2) }).encode({ a: [1, 2, 3] }),
      /at most 2 elements, got array\(3\)/,
    );
    expectEinval(() => struct("t", { a: bytes(2) }).encode({ a: new Uint8Array(3) }), /at most 2 bytes/);
    expectEinval(() => struct("t", { a: be32 }).encode({ a: "1" as never }), /1 does not fit in be32/);
    expectEinval(() => struct("t", { a: be64 }).encode({ a: 1.5 }), /does not fit in be64/);
  });

  it("leaves the target buffer untouched when encodeInto fails", () => {
    const buf = new Uint8Array(16).fill(7);
    expectEinval(() => nlmsghdr.encodeInto({ nlmsg_len: 1, nlmsg_pid: -1 }, buf), /nlmsg_pid: -1/);
    expect(buf.every((b) => b === 7)).toBe(true);
  });

  it("checks bounds before reading or writing", () => {
    expectEinval(
      () => nlmsghdr.decode(new Uint8Array(15)),
      /struct nlmsghdr \(16 bytes\) at offset 0 does not fit in a buffer of 15 bytes/,
    );
    expectEinval(() => nlmsghdr.decode(new Uint8Array(32), 17), /at offset 17/);
    expectEinval(() => nlmsghdr.view(new Uint8Array(16), -1), /at offset -1/);
    expectEinval(() => nlmsghdr.encodeInto({}, new Uint8Array(16), 1), /at offset 1/);
    expectEinval(() => nlmsghdr.decode([1, 2] as never), /is not a Uint8Array/);
    expectEinval(() => nlmsghdr.offsetof("nope" as never), /struct nlmsghdr has no member "nope"/);
  });

  it("rejects bad declarations", () => {
    expectEinval(() => struct("9lives", { a: u8 }), /name "9lives" is not a C identifier/);
    expectEinval(() => struct("t", { "a-b": u8 }), /member name "a-b" of t is not a C identifier/);
    expectEinval(() => struct("t", { a: 4 as never }), /4 is not a C type/);
    expectEinval(() => struct("t", { a: u8 }, { aligned: 3 }), /alignment 3 is not a power of two/);
    expectEinval(() => array(u8, -1), /length -1/);
    expectEinval(() => char(1.5), /length 1.5/);
    expectEinval(() => aligned(u8, 0), /alignment 0/);
    expectEinval(() => sizeof({} as never), /is not a C type/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property tests: random struct shapes, random values, both ABIs and byte orders.

type Shape =
  | { k: "int"; t: CType<unknown>; bits: number; signed: boolean; big: boolean }
  | { k: "char"; n: number }
  | { k: "bytes"; n: number }
  | { k: "array"; elem: Shape; n: number }
  | { k: "struct" | "union"; members: Shape[]; packed: boolean; aligned: number | undefined };

const ints: Shape[] = [
  { k: "int", t: u8, bits: 8, signed: false, big: false },
  { k: "int", t: s8, bits: 8, signed: true, big: false },
  { k: "int", t: u16, bits: 16, signed: false, big: false },
  { k: "int", t: s16, bits: 16, signed: true, big: false },
  { k: "int", t: be16, bits: 16, signed: false, big: false },
  { k: "int", t: u32, bits: 32, signed: false, big: false },
  { k: "int", t: s32, bits: 32, signed: true, big: false },
  { k: "int", t: be32, bits: 32, signed: false, big: false },
  { k: "int", t: u64, bits: 64, signed: false, big: true },
  { k: "int", t: s64, bits: 64, signed: true, big: true },
  { k: "int", t: be64, bits: 64, signed: false, big: true },
  { k: "int", t: aligned_u64, bits: 64, signed: false, big: true },
  // long and pointers are 32 bits wide on i386: keep their values in the range both ABIs share.
  { k: "int", t: long, bits: 32, signed: true, big: true },
  { k: "int", t: ptr, bits: 32, signed: false, big: true },
];

const shapeArb: fc.Arbitrary<Shape> = fc.letrec<{ shape: Shape }>((tie) => ({
  shape: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...ints),
    fc.integer({ min: 0, max: 12 }).map((n): Shape => ({ k: "char", n })),
    fc.integer({ min: 0, max: 9 }).map((n): Shape => ({ k: "bytes", n })),
    fc
      .record({ elem: fc.constantFrom(...ints), n: fc.integer({ min: 0, max: 4 }) })
      .map((r): Shape => ({ k: "array", ...r })),
    fc
      .record({
        k: fc.constantFrom("struct" as const, "union" as const),
        members: fc.array(tie("shape"), { minLength: 1, maxLength: 5 }),
        packed: fc.boolean(),
        aligned: fc.option(fc.constantFrom(1, 2, 4, 8, 16, 32), { nil: undefined }),
      })
      .map((r): Shape => r),
  ),
})).shape;

let serial = 0;
function build(s: Shape): CType<unknown> {
  switch (s.k) {
    case "int":
      return s.t;
    case "char":
      return char(s.n);
    case "bytes":
      return bytes(s.n);
    case "array":
      return array(build(s.elem), s.n);
    default: {
      const members = Object.fromEntries(s.members.map((m, i) => [`m${i}`, build(m)]));
      const opts = { packed: s.packed, ...(s.aligned === undefined ? {} : { aligned: s.aligned }) };
      return s.k === "struct" ? struct(`s${serial++}`, members, opts) : union(`u${serial++}`, members, opts);
    }
  }
}

function intValue(s: Extract<Shape, { k: "int" }>): fc.Arbitrary<unknown> {
  if (s.big) {
    return s.signed
      ? fc.bigInt({ min: -(2n ** BigInt(s.bits - 1)), max: 2n ** BigInt(s.bits - 1) - 1n })
      : fc.bigInt({ min: 0n, max: 2n ** BigInt(s.bits) - 1n });
  }
  return s.signed
    ? fc.integer({ min: -(2 ** (s.bits - 1)), max: 2 ** (s.bits - 1) - 1 })
    : fc.integer({ min: 0, max: 2 ** s.bits - 1 });
}

/** Random init values; for a union, one member (the one a C program would assign). */
function valueArb(s: Shape): fc.Arbitrary<unknown> {
  switch (s.k) {
    case "int":
      return intValue(s);
    case "char":
      return fc.string({ unit: "grapheme-ascii", maxLength: s.n }).map((x) => x.replaceAll("\0", "."));
    case "bytes":
      return fc.uint8Array({ minLength: s.n, maxLength: s.n });
    case "array":
      return fc.array(valueArb(s.elem), { minLength: s.n, maxLength: s.n });
    case "struct":
      return fc
        .tuple(...s.members.map(valueArb))
        .map((vs) => Object.fromEntries(vs.map((v, i) => [`m${i}`, v])));
    case "union":
      return fc
        .integer({ min: 0, max: s.members.length - 1 })
        .chain((i) => valueArb(s.members[i]!).map((v) => ({ [`m${i}`]: v })));
  }
}

/** Unions decode every member; compare only the member that was written, in full. */
function expectDecoded(s: Shape, decoded: unknown, init: unknown): void {
  if (s.k === "struct") {
    for (const [i, m] of s.members.entries())
      expectDecoded(m, (decoded as never)[`m${i}`], (init as never)[`m${i}`]);
  } else if (s.k === "union") {
    const [key, v] = Object.entries(init as object)[0]!;
    expectDecoded(s.members[Number(key.slice(1))]!, (decoded as never)[key], v);
  } else if (s.k === "array") {
    for (const [i, v] of (init as unknown[]).entries()) expectDecoded(s.elem, (decoded as unknown[])[i], v);
  } else {
    expect(decoded).toEqual(init);
  }
}

const aggregateArb = fc
  .record({
    members: fc.array(shapeArb, { minLength: 1, maxLength: 6 }),
    packed: fc.boolean(),
    aligned: fc.option(fc.constantFrom(2, 8, 64), { nil: undefined }),
  })
  .map((r): Shape => ({ k: "struct", ...r }));
const abiArb = fc.constantFrom<Abi>(X86_64, I386);
const orderArb = fc.constantFrom<ByteOrder>("little", "big");

describe("properties", () => {
  it("a layout puts every member at a multiple of its alignment, in order, inside the size", () => {
    fc.assert(
      fc.property(aggregateArb, abiArb, (shape, abi) => {
        const t = build(shape) as ReturnType<typeof struct>;
        const l = t.layout(abi);
        let end = 0;
        for (const f of l.fields) {
          expect(f.offset % f.align).toBe(0);
          expect(f.offset).toBeGreaterThanOrEqual(end);
          if (shape.k === "struct" && (shape as { packed: boolean }).packed) expect(f.offset).toBe(end);
          end = f.offset + f.size;
        }
        expect(l.size % l.align).toBe(0);
        expect(l.size).toBeGreaterThanOrEqual(end);
        expect(l.size - end).toBeLessThan(l.align);
      }),
    );
  });

  it("decode(encode(value)) returns the value, for both ABIs and byte orders", () => {
    fc.assert(
      fc.property(
        aggregateArb.chain((s) => fc.tuple(fc.constant(s), valueArb(s))),
        abiArb,
        orderArb,
        ([shape, value], abi, byteOrder) => {
          const t = build(shape) as ReturnType<typeof struct>;
          const bytesOut = t.encode(value as never, { abi, byteOrder });
          expect(bytesOut.length).toBe(t.layout(abi).size);
          expectDecoded(shape, t.decode(bytesOut, 0, { abi, byteOrder }), value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("encode(decode(bytes)) returns the bytes for structs without unions, char or padding surprises", () => {
    const plain = fc
      .array(fc.constantFrom(...ints), { minLength: 1, maxLength: 8 })
      .map((members): Shape => ({ k: "struct", members, packed: true, aligned: undefined }));
    fc.assert(
      fc.property(
        plain,
        abiArb,
        orderArb,
        fc.infiniteStream(fc.integer({ min: 0, max: 255 })),
        (shape, abi, byteOrder, rnd) => {
          const t = build(shape) as ReturnType<typeof struct>;
          const size = t.layout(abi).size;
          const raw = Uint8Array.from(rnd.take(size));
          expect(t.encode(t.decode(raw, 0, { abi, byteOrder }), { abi, byteOrder })).toEqual(raw);
        },
      ),
    );
  });

  it("a view reads what decode reads", () => {
    fc.assert(
      fc.property(
        aggregateArb.chain((s) => fc.tuple(fc.constant(s), valueArb(s))),
        abiArb,
        ([shape, value], abi) => {
          const t = build(shape) as ReturnType<typeof struct>;
          const buf = t.encode(value as never, { abi });
          const view = t.view(buf, 0, { abi });
          const decoded = t.decode(buf, 0, { abi }) as Record<string, unknown>;
          for (const [k, v] of Object.entries(decoded)) {
            if (typeof v !== "object" || v instanceof Uint8Array || Array.isArray(v)) {
              expect((view as Record<string, unknown>)[k]).toEqual(v);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("without code generation (a runtime whose Content-Security-Policy forbids `new Function`)", () => {
  it("decodes the same values through the fallback loop", async () => {
    vi.resetModules();
    vi.stubGlobal(
      "Function",
      new Proxy(Function, {
        construct() {
          throw new EvalError("Code generation from strings disallowed for this context");
        },
      }),
    );
    try {
      const fresh = await import("../src/index.js");
      const t = fresh.struct("csp", { a: fresh.u8, b: fresh.u32, c: fresh.char(4), d: fresh.u64 });
      const value = { a: 7, b: 0xdeadbeef, c: "abc", d: 2n ** 63n };
      expect(t.decode(t.encode(value))).toEqual(value);
      expect(Object.keys(t.decode(t.encode(value)))).toEqual(["a", "b", "c", "d"]);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});

describe("encodeInto re-entered from a getter of the value", () => {
  it("keeps both encodings intact", () => {
    const inner = struct("inner_r", { x: u32 });
    const outer = struct("outer_r", { a: u32, b: u32 });
    const innerBuf = new Uint8Array(4);
    const value = {
      a: 1,
      get b() {
        inner.encodeInto({ x: 0x55667788 }, innerBuf);
        return 2;
      },
    };
    const buf = new Uint8Array(8);
    outer.encodeInto(value, buf);
    expect(outer.decode(buf)).toEqual({ a: 1, b: 2 });
    expect(inner.decode(innerBuf)).toEqual({ x: 0x55667788 });
  });
});

describe("members named like what every JavaScript object inherits", () => {
  it("encode and decode `constructor`, `toString` and `valueOf` as plain members", () => {
    const t = struct("odd_names", { constructor: u32, toString: u16, valueOf: u8, hasOwnProperty: u8 });
    expect(t.decode(t.encode({}))).toEqual({ constructor: 0, toString: 0, valueOf: 0, hasOwnProperty: 0 });
    const v = { constructor: 7, toString: 8, valueOf: 9, hasOwnProperty: 1 };
    expect(t.decode(t.encode(v))).toEqual(v);
    expect(Object.keys(t.decode(t.encode(v)))).toEqual([
      "constructor",
      "toString",
      "valueOf",
      "hasOwnProperty",
    ]);
  });

  it("refuses __proto__, which no decoded object could hold", () => {
    expectEinval(() => struct("p", JSON.parse('{"__proto__": 1}')), /./);
    expectEinval(
      () => struct("p", Object.defineProperty({}, "__proto__", { value: u8, enumerable: true })),
      /member name "__proto__" of p cannot be represented/,
    );
  });
});
