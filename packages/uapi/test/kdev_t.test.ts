import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAJOR,
  MAJORMAX,
  MINOR,
  MINORBITS,
  MINORMASK,
  MKDEV,
  new_decode_dev,
  new_encode_dev,
} from "../src/index.js";

describe("dev_t (include/linux/kdev_t.h)", () => {
  it("packs a 12-bit major above a 20-bit minor", () => {
    expect(MINORBITS).toBe(20);
    expect(MINORMASK).toBe(0xfffff);
    expect(MKDEV(1, 3)).toBe(0x100003); // /dev/null
    expect(MKDEV(4095, 0xfffff)).toBe(0xffffffff);
    expect(MAJOR(MKDEV(254, 7))).toBe(254);
    expect(MINOR(MKDEV(254, 7))).toBe(7);
  });

  it("encodes for user space as stat.st_rdev shows it", () => {
    expect(new_encode_dev(MKDEV(1, 3))).toBe(0x103);
    expect(new_encode_dev(MKDEV(136, 0))).toBe(0x8800); // /dev/pts/0
    expect(new_encode_dev(MKDEV(8, 0x12345))).toBe(0x12300845);
    expect(new_decode_dev(0x103)).toBe(MKDEV(1, 3));
  });

  it("rejects majors and minors that do not fit", () => {
    expect(() => MKDEV(4096, 0)).toThrow(/EINVAL: MKDEV: major 4096 is out of range 0\.\.4095/);
    expect(() => MKDEV(1, 0x100000)).toThrow(/minor 1048576 is out of range 0\.\.1048575/);
    expect(() => MKDEV(-1, 0)).toThrow(/major -1/);
    expect(() => MAJOR(2 ** 32)).toThrow(/dev_t 4294967296/);
    expect(() => new_decode_dev(-5)).toThrow(/device number -5/);
  });

  it("property: MKDEV, MAJOR/MINOR and the user encoding round-trip", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAJORMAX }), fc.integer({ min: 0, max: MINORMASK }), (ma, mi) => {
        const dev = MKDEV(ma, mi);
        expect([MAJOR(dev), MINOR(dev)]).toEqual([ma, mi]);
        expect(new_decode_dev(new_encode_dev(dev))).toBe(dev);
      }),
    );
  });
});
