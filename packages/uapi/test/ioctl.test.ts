import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readJsonVector } from "../../../test-support/vectors.js";
import {
  _IO,
  _IOC,
  _IOC_DIR,
  _IOC_NONE,
  _IOC_NR,
  _IOC_READ,
  _IOC_SIZE,
  _IOC_TYPE,
  _IOC_WRITE,
  _IOR,
  _IOW,
  _IOWR,
  decodeIoctl,
  formatIoctl,
  I386,
  IOC_GENERIC,
  IOC_IN,
  IOC_INOUT,
  IOC_OUT,
  IOC_POWERPC,
  IOCSIZE_MASK,
  KernelError,
  msghdr,
  v4l2_capability,
} from "../src/index.js";

interface IoctlVector {
  name: string;
  value: string;
  valueDec: number;
  dir: number;
  dirName: string;
  type: number;
  typeChar: string | null;
  nr: number;
  size: number;
  note?: string;
}

const vector = readJsonVector<IoctlVector[]>("uapi", "ioctl-numbers.json");

describe("ioctl numbers against vectors/uapi/ioctl-numbers.json (gcc + Linux UAPI headers)", () => {
  it("holds 140 numbers", () => {
    expect(vector).toHaveLength(140);
  });

  it.each(vector)("$name = $value is rebuilt from its fields and decoded back", (v) => {
    expect(Number.parseInt(v.value, 16)).toBe(v.valueDec);
    expect(_IOC(v.dir, v.type, v.nr, v.size)).toBe(v.valueDec);
    expect(decodeIoctl(v.valueDec)).toEqual({
      dir: v.dir,
      dirName: v.dirName,
      type: v.type,
      typeChar: v.typeChar,
      nr: v.nr,
      size: v.size,
    });
    expect(_IOC_DIR(v.valueDec)).toBe(v.dir);
    expect(_IOC_TYPE(v.valueDec)).toBe(v.type);
    expect(_IOC_NR(v.valueDec)).toBe(v.nr);
    expect(_IOC_SIZE(v.valueDec)).toBe(v.size);
  });

  it.each(vector.filter((v) => v.typeChar !== null))(
    "$name is spelled with its macro and the type char",
    (v) => {
      const macro = { NONE: "_IO", READ: "_IOR", WRITE: "_IOW", "READ|WRITE": "_IOWR" }[v.dirName];
      expect(formatIoctl(v.valueDec).startsWith(`${macro}(`)).toBe(true);
    },
  );
});

describe("_IO/_IOR/_IOW/_IOWR", () => {
  it("encode the spec's worked examples", () => {
    expect(_IOR("V", 0, v4l2_capability)).toBe(0x80685600); // VIDIOC_QUERYCAP
    expect(_IOWR("V", 5, 208)).toBe(0xc0d05605); // VIDIOC_S_FMT
    expect(_IO(0xae, 1)).toBe(0xae01); // KVM_CREATE_VM
    expect(_IOR(0x12, 114, 8)).toBe(0x80081272); // BLKGETSIZE64 = _IOR(0x12, 114, size_t)
    expect(_IOW(0x94, 9, 4)).toBe(0x40049409); // FICLONE
    expect(_IOR("E", 0x06, 256)).toBe(0x81004506); // EVIOCGNAME(256)
    expect(_IOW(0x94, 23, 4096)).toBe(0x50009417); // BTRFS_IOC_SNAP_CREATE_V2: size 4096 fits in 14 bits
  });

  it("give a different number to a struct whose size differs on a 32-bit ABI", () => {
    const lp64 = _IOWR("x", 1, msghdr);
    const ilp32 = _IOWR("x", 1, msghdr.layout(I386));
    expect(_IOC_SIZE(lp64)).toBe(56);
    expect(_IOC_SIZE(ilp32)).toBe(28);
    expect(lp64).not.toBe(ilp32);
  });

  it("match the direction masks", () => {
    expect(_IOW("a", 1, 4) & IOC_INOUT).toBe(IOC_IN);
    expect((_IOR("a", 1, 4) & IOC_INOUT) >>> 0).toBe(IOC_OUT);
    expect((_IOWR("a", 1, 4) & IOC_INOUT) >>> 0).toBe(IOC_INOUT);
    expect((_IOR("a", 1, 0x3fff) & IOCSIZE_MASK) >>> 16).toBe(0x3fff);
  });
});

describe("the powerpc/mips/sparc/alpha layout", () => {
  it("uses 3 direction bits with NONE 1, READ 2, WRITE 4 and 13 size bits", () => {
    expect(_IO("T", 1, IOC_POWERPC)).toBe(0x20005401);
    expect(_IOR("t", 19, 44, IOC_POWERPC)).toBe(0x402c7413); // TCGETS on powerpc: _IOR('t', 19, struct termios)
    expect(_IOW("t", 20, 44, IOC_POWERPC)).toBe(0x802c7414); // TCSETS on powerpc
    expect(_IOWR("V", 5, 208, IOC_POWERPC)).toBe(0xc0d05605);
    expect(decodeIoctl(0x802c7414, IOC_POWERPC)).toMatchObject({ dir: 4, dirName: "WRITE", size: 44 });
    expect(formatIoctl(0x20005401, IOC_POWERPC)).toBe("_IO('T', 0x01)");
    expect(() => _IOR("a", 1, 0x2000, IOC_POWERPC)).toThrow(/size 8192 does not fit in 13 bits/);
  });
});

describe("bad input", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "size past 14 bits",
      () => _IOC(_IOC_READ, 0x56, 0, 16384),
      /EINVAL: _IOC: size 16384 does not fit in 14 bits/,
    ],
    ["negative nr", () => _IOC(_IOC_NONE, 1, -1, 0), /nr -1 does not fit in 8 bits/],
    ["nr 256", () => _IO("a", 256), /nr 256 does not fit in 8 bits/],
    ["type 256", () => _IO(256, 0), /type 256 does not fit in 8 bits/],
    ["two-char type", () => _IO("ab", 0), /type "ab" is not one 8-bit character/],
    ["wide char type", () => _IO("\u20ac", 0), /is not one 8-bit character/],
    ["direction 4", () => _IOC(4, 1, 0, 0), /dir 4 does not fit in 2 bits/],
    ["powerpc direction 3", () => _IOC(3, 1, 0, 0, IOC_POWERPC), /dir 3 is none of NONE 1, READ 2, WRITE 4/],
    ["fractional size", () => _IOR("a", 1, 1.5), /size 1.5 does not fit/],
    ["sizeless argument", () => _IOR("a", 1, {} as unknown as number), /has no size/],
    ["request past 32 bits", () => decodeIoctl(2 ** 32), /request 4294967296 is not a 32-bit ioctl number/],
    ["NaN request", () => decodeIoctl(Number.NaN), /request NaN/],
    ["bad layout", () => decodeIoctl(1, { ...IOC_GENERIC, sizeBits: 15 }), /not an ioctl layout/],
  ];
  it.each(cases)("%s → EINVAL", (_name, fn, message) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(KernelError.is(err, "EINVAL")).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it("accepts the signed 32-bit spelling of a number", () => {
    expect(decodeIoctl(0x80685600 | 0)).toEqual(decodeIoctl(0x80685600));
  });
});

describe("properties", () => {
  const layouts = [IOC_GENERIC, IOC_POWERPC];
  it("decode(_IOC(fields)) returns the fields, for both layouts", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...layouts),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0x3fff }),
        (layout, d, type, nr, rawSize) => {
          const dir = [layout.none, layout.read, layout.write, layout.read | layout.write][d]!;
          const size = rawSize % 2 ** layout.sizeBits;
          const cmd = _IOC(dir, type, nr, size, layout);
          expect(cmd).toBeGreaterThanOrEqual(0);
          expect(cmd).toBeLessThan(2 ** 32);
          expect(decodeIoctl(cmd, layout)).toMatchObject({ dir, type, nr, size });
        },
      ),
    );
  });

  it("_IOC(decode(cmd)) is the identity on every generic number", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (cmd) => {
        const f = decodeIoctl(cmd);
        expect(_IOC(f.dir, f.type, f.nr, f.size)).toBe(cmd);
      }),
    );
  });

  it("_IOC_WRITE and _IOC_READ are the generic values", () => {
    expect([_IOC_NONE, _IOC_WRITE, _IOC_READ]).toEqual([0, 1, 2]);
  });
});
