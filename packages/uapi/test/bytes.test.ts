// The byte helpers against DataView, in both byte orders, on values at the edges of each width.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { get16, get32, get64, put16, put32 } from "../src/index.js";

describe("get16/get32/get64/put16/put32", () => {
  it("read what DataView reads and write what it writes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 11, maxLength: 11 }), fc.integer({ min: 0, max: 3 }), (b, o) => {
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (const le of [true, false]) {
          expect(get16(b, o, le)).toBe(dv.getUint16(o, le));
          expect(get32(b, o, le)).toBe(dv.getUint32(o, le));
          expect(get64(b, o, le)).toBe(dv.getBigUint64(o, le));
        }
      }),
    );
  });

  it("u64 on both sides of 2^32 (the fast path for a zero high word)", () => {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    for (const v of [0n, 1n, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn, 0x8000000000000000n]) {
      for (const le of [true, false]) {
        dv.setBigUint64(0, v, le);
        expect(get64(b, 0, le)).toBe(v);
      }
    }
  });

  it("stores keep the low bits, like a C cast", () => {
    const b = new Uint8Array(4);
    put16(b, 0, 0x12345, true);
    expect([...b.subarray(0, 2)]).toEqual([0x45, 0x23]);
    put32(b, 0, -1, false);
    expect([...b]).toEqual([0xff, 0xff, 0xff, 0xff]);
    put32(b, 0, 0x01020304, false);
    expect([...b]).toEqual([1, 2, 3, 4]);
  });
});
