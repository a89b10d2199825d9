import { KernelError } from "@kbridge/uapi";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readDatagrams, readJsonLines, readVector } from "../../../test-support/vectors.js";
import {
  AttrCursor,
  MsgCursor,
  NetlinkParseError,
  NLMSG_DONE,
  NlWriter,
  nlaGetString,
  parseAttrs,
  parseDatagram,
} from "../src/index.js";

interface Capture {
  file: string;
  datagram_lengths: number[];
}

function walkWithCursors(d: Uint8Array): unknown[] {
  const out: unknown[] = [];
  const m = new MsgCursor(d);
  while (m.next()) {
    out.push([m.offset, m.len, m.type, m.flags, m.seq, m.pid]);
    if (m.type === NLMSG_DONE || m.len < 32) continue;
    const a = m.attrs(16);
    while (a.next()) out.push([a.offset, a.rawType, a.payloadLength]);
  }
  return out;
}

function walkWithObjects(d: Uint8Array): unknown[] {
  const out: unknown[] = [];
  for (const m of parseDatagram(d)) {
    out.push([m.offset, m.len, m.type, m.flags, m.seq, m.pid]);
    if (m.type === NLMSG_DONE || m.len < 32) continue;
    for (const a of parseAttrs(m.payload, 16))
      out.push([m.offset + 16 + a.offset, a.rawType, a.payload.length]);
  }
  return out;
}

// What a walk gives, or that it failed with a KernelError. The cursors check message by message while the object
// parsers frame the whole datagram first, so two faults may be found in another order: only success is compared.
function outcome(walk: (d: Uint8Array) => unknown[], d: Uint8Array): unknown {
  try {
    return { ok: walk(d) };
  } catch (e) {
    expect(KernelError.is(e), String(e)).toBe(true);
    return "KernelError";
  }
}

describe("cursors", () => {
  it("see exactly what parseDatagram and parseAttrs see, on every real datagram", () => {
    let n = 0;
    for (const d of readJsonLines<Capture>("netlink", "manifest.jsonl").flatMap((c) =>
      readDatagrams(c.file),
    )) {
      // Not every message has a 16-byte family header (genetlink has 4, errors more): reading attributes
      // after 16 bytes may fail there, and then it must fail for both.
      expect(outcome(walkWithCursors, d)).toEqual(outcome(walkWithObjects, d));
      n++;
    }
    expect(n).toBeGreaterThan(60);
  });

  it("read payloads in place, with the size checks of the nlaGet* functions", () => {
    const w = new NlWriter();
    w.beginMessage({ type: 16 });
    w.putStruct(new Uint8Array(16));
    w.putString(3, "veth0");
    w.putU32(4, 1500);
    w.putU16(5, 7);
    w.putU64(6, 2n ** 40n);
    const nest = w.nestStart(18);
    w.putU8(1, 9);
    w.nestEnd(nest);
    w.endMessage();
    const m = new MsgCursor(w.finish());
    expect(m.next()).toBe(true);
    const a = m.attrs(16);
    const seen: unknown[] = [];
    while (a.next()) {
      if (a.type === 3) seen.push(a.string(), nlaGetString(a.attr()));
      if (a.type === 4) seen.push(a.u32());
      if (a.type === 5) seen.push(a.u16());
      if (a.type === 6) seen.push(a.u64());
      if (a.type === 18) {
        const inner = a.nest();
        while (inner.next()) seen.push(a.nested, inner.u8());
      }
    }
    expect(seen).toEqual(["veth0", "veth0", 1500, 7, 2n ** 40n, true, 9]);
    expect(m.next()).toBe(false);
  });

  it("throw the same errors as the object parsers", () => {
    const bytes = Uint8Array.from([8, 0, 1, 0, 1, 2, 3, 4, 9, 0, 2, 0, 1, 2, 3, 4]);
    const c = new AttrCursor(bytes);
    expect(c.next()).toBe(true);
    expect(() => c.u16()).toThrow(
      /ERANGE: nla_get_u16: at offset 0: nla_len 8: attribute type 1 has a 4-byte payload, u16 needs 2/,
    );
    let err: unknown;
    try {
      c.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlinkParseError);
    expect(err).toMatchObject({ offset: 8, field: "nla_len", value: 9 });
    expect(() => new AttrCursor(bytes).u8()).toThrow(/no current attribute/);
    expect(() => new AttrCursor(bytes, 4, 2)).toThrow(/EINVAL: AttrCursor: range \[4, 2\)/);
    const m = new MsgCursor(Uint8Array.from([40, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(() => m.next()).toThrow(
      /EBADMSG: MsgCursor: at offset 0: nlmsg_len 40: runs past the end of the datagram \(20 bytes left\)/,
    );
  });

  it("property: on mutated real datagrams, cursors and object parsers agree, and only KernelErrors are thrown", () => {
    const bin = new Uint8Array(readVector("netlink", "host-getlink-dump.bin")).subarray(0, 2952);
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: 2951 }), value: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 6,
        }),
        fc.nat({ max: 2952 }),
        (edits, cut) => {
          const d = bin.slice(0, cut);
          for (const { at, value } of edits) if (at < d.length) d[at] = value;
          expect(outcome(walkWithCursors, d)).toEqual(outcome(walkWithObjects, d));
        },
      ),
      { numRuns: 300 },
    );
  });
});
