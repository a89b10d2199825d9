// Regression tests for defects found in review: each names what went wrong before.
import { afterEach, describe, expect, it } from "vitest";
import {
  _IOR,
  _IOW,
  array,
  char,
  I386,
  IOC_GENERIC,
  ioctlDirName,
  KernelError,
  nlmsgerr,
  nlmsghdr,
  pahole,
  StructType,
  s32,
  size_t,
  struct,
  termios,
  u8,
  u16,
  u32,
  u64,
  union,
} from "../src/index.js";

function einval(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(KernelError.is(err, "EINVAL"), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected EINVAL, nothing was thrown");
}

describe("char[N] decoding stays inside its field", () => {
  it("does not complete a multi-byte sequence with a byte of the next member", () => {
    const t = struct("tight", { name: char(2), tail: u8 });
    const bytes = Uint8Array.from([0x41, 0xc3, 0xa9]); // "A", then é split across name and tail
    expect(t.decode(bytes)).toEqual({ name: "A\ufffd", tail: 0xa9 });
    expect(t.view(bytes).name).toBe("A\ufffd");
  });
});

describe("code generation", () => {
  it("handles an empty struct and keeps generating code for later structs", () => {
    const empty = struct("empty", {});
    expect(empty.size).toBe(0);
    expect(empty.decode(new Uint8Array(0))).toEqual({});
    expect(() => empty.encode({ x: 1 } as never)).toThrow(/struct empty has no member "x"/);
    const later = struct("later", { a: u32 });
    expect(later.decode(later.encode({ a: 5 }))).toEqual({ a: 5 });
  });

  it("refuses member names that could inject code, also through the exported constructor", () => {
    const evil = { "a: (globalThis.pwned = 'yes'), b": u8 };
    expect(einval(() => new StructType("struct", "x", evil))).toMatch(/is not a C identifier/);
    expect(einval(() => new StructType("struct", "x", { a: u8 }, { aligned: 3 }))).toMatch(/alignment 3/);
    expect(einval(() => new StructType("class" as "struct", "x", { a: u8 }))).toMatch(
      /neither struct nor union/,
    );
    expect((globalThis as { pwned?: string }).pwned).toBeUndefined();
  });
});

describe("encoding reads own properties only", () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>).nlmsg_pid;
  });

  it("ignores a polluted Object.prototype", () => {
    (Object.prototype as Record<string, unknown>).nlmsg_pid = 1337;
    expect(nlmsghdr.decode(nlmsghdr.encode({})).nlmsg_pid).toBe(0);
  });

  it("writes a view given as a value as what it holds, members named like Object.prototype's included", () => {
    const t = struct("odd_view", { a: u8, constructor: u8, toString: u8 });
    const src = t.encode({ a: 1, constructor: 2, toString: 3 });
    expect(t.decode(t.encode(t.view(src)))).toEqual({ a: 1, constructor: 2, toString: 3 });
    const outer = nlmsgerr.encode({
      error: -1,
      msg: nlmsghdr.view(nlmsghdr.encode({ nlmsg_len: 16, nlmsg_seq: 9 })),
    });
    expect(nlmsgerr.decode(outer).msg).toMatchObject({ nlmsg_len: 16, nlmsg_seq: 9 });
  });
});

describe("views", () => {
  it("list their members as enumerable accessors and hold no own enumerable keys", () => {
    const v = nlmsghdr.view(new Uint8Array(16));
    expect(Object.keys(v)).toEqual([]);
    expect(Object.keys(Object.getPrototypeOf(v))).toEqual([
      "nlmsg_len",
      "nlmsg_type",
      "nlmsg_flags",
      "nlmsg_seq",
      "nlmsg_pid",
    ]);
  });

  it("fail with EINVAL when the bytes under them are gone", () => {
    // Resizable ArrayBuffers are ES2024; Node 20 has them, the ES2022 type library does not.
    const Resizable = ArrayBuffer as unknown as new (
      n: number,
      o: { maxByteLength: number },
    ) => ArrayBuffer & {
      resize(n: number): void;
    };
    const ab = new Resizable(16, { maxByteLength: 16 });
    const v = nlmsghdr.view(new Uint8Array(ab));
    v.nlmsg_len = 7;
    ab.resize(2);
    expect(einval(() => v.nlmsg_len)).toMatch(
      /the view's 16 bytes at offset 0 are gone \(the buffer has 2\)/,
    );
    expect(einval(() => (v.nlmsg_pid = 1))).toMatch(/are gone/);
  });

  it("name the full path of a nested member in messages", () => {
    const v = nlmsgerr.view(new Uint8Array(20));
    expect(einval(() => (v.msg.nlmsg_type = 70000))).toMatch(
      /^EINVAL: struct nlmsgerr\.msg\.nlmsg_type: 70000 does not fit/,
    );
  });
});

describe("declarations and sizes", () => {
  it("validate options", () => {
    expect(einval(() => struct("o", { a: u8 }, { packed: 1 as never }))).toMatch(
      /packed must be true or false, got 1/,
    );
    expect(einval(() => struct("o", { a: u8 }, { pack: true } as never))).toMatch(/unknown option "pack"/);
  });

  it("refuse sizes past 2^31 - 1 with EINVAL, not a RangeError later", () => {
    expect(einval(() => array(u64, 0x7fffffff).size)).toMatch(/would be 17179869176 bytes/);
    const big = struct("big", { a: array(u8, 0x40000000), b: array(u8, 0x40000000) });
    expect(einval(() => big.size)).toMatch(/struct big would be 2147483648 bytes/);
  });

  it("give every type a size, so scalars size ioctl numbers as in C", () => {
    expect(_IOW("T", 202, s32)).toBe(0x400454ca); // TUNSETIFF
    expect(_IOR(0x12, 114, size_t)).toBe(0x80081272); // BLKGETSIZE64
    expect(_IOR("x", 1, array(u16, 3))).toBe(_IOR("x", 1, 6));
    expect(einval(() => _IOR("x", 1, {} as never))).toMatch(/has no size/);
    expect(union("uu", { a: u8, b: u32 }).layout(I386).size).toBe(4);
  });
});

describe("ioctl input checks", () => {
  it("ioctlDirName refuses what is no direction", () => {
    expect(ioctlDirName(3)).toBe("READ|WRITE");
    expect(einval(() => ioctlDirName(-1))).toMatch(/dir -1 does not fit in 2 bits/);
    expect(einval(() => ioctlDirName("x" as never))).toMatch(/dir x/);
  });

  it("a custom layout must have sane widths and distinct directions", () => {
    expect(einval(() => _IOR("a", 1, 4, { ...IOC_GENERIC, nrBits: -8, typeBits: 24 }))).toMatch(
      /not an ioctl layout/,
    );
    expect(einval(() => _IOR("a", 1, 4, { ...IOC_GENERIC, read: 1, write: 1 }))).toMatch(
      /not an ioctl layout/,
    );
  });
});

describe("pahole", () => {
  it("prints array dimensions after the member name, as C and pahole do", () => {
    const out = pahole(termios.layout());
    expect(out).toContain("\tu8                         c_cc[19];");
    const grid = struct("grid", { cells: array(array(u8, 2), 3) });
    expect(grid.fields[0]!.type.name).toBe("u8[3][2]");
    expect(pahole(grid.layout())).toContain(" cells[3][2];");
  });

  it("refuses what is no layout", () => {
    expect(einval(() => pahole(null as never))).toMatch(/null is not a struct layout/);
  });
});
