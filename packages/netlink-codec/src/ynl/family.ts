// A netlink family at run time, from a YNL spec: messages decoded into named, typed attributes (unknown
// ones kept) and encoded back byte for byte, for genetlink (genlmsghdr + fixed header) and netlink-raw
// (a fixed header struct such as ifinfomsg) families.

import {
  type ByteOrder,
  canGenerateCode,
  get16,
  get32,
  get64,
  KernelError,
  put16,
  put32,
  utf8Decode,
  utf8Encode,
} from "@kbridge/uapi";
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, type NlAttr, parseAttrs } from "../nlattr.js";
import type { NlMessage } from "../nlmsg.js";
import { NlWriter } from "../writer.js";
import type { YnlAttr, YnlAttrSet, YnlFamily, YnlOperation, YnlStruct } from "./spec.js";

/** A decoded attribute: its spec name (undefined when the spec has none), its type, its value and its bytes. */
export interface FamilyAttr {
  /** The spec's name, or undefined for an attribute the spec does not know. */
  readonly name: string | undefined;
  /** The type number (flags removed). */
  readonly type: number;
  /** `nla_type` as found, flag bits included. */
  readonly rawType: number;
  /**
   * The typed value: number (8–32-bit ints), bigint (64-bit, uint, sint), string, true (flag), Uint8Array
   * (binary, unknown: a view of the message's bytes, not a copy), an object (binary with a struct),
   * FamilyAttr[] (nest), an array (indexed-array) or `{ value, selector }` (bitfield32).
   */
  readonly value: unknown;
  /**
   * The payload as found; re-emitted as is while `value` still says the same. When a struct value was edited,
   * the bytes of `raw` after the struct (a newer kernel's longer struct, the IFLA_* after VETH_INFO_PEER's
   * ifinfomsg) are written after it. On a decoded attribute `raw` is a getter (the view is cut when read):
   * a spread copy keeps it only when named, `{ ...a, raw: a.raw, value: v }`.
   */
  readonly raw?: Uint8Array;
}

/** A decoded message of a family. */
export interface FamilyMessage {
  /** The operation, when the message's command (genetlink) or type (netlink-raw) names one. */
  readonly op: YnlOperation | undefined;
  /** The genetlink command, or the netlink-raw message type. */
  readonly cmd: number;
  /** The genetlink family version of the message (genetlink only). */
  readonly version?: number;
  /** The fixed header as an object, when the operation has one. */
  readonly fixed?: Record<string, unknown>;
  /** The attributes in order. */
  readonly attrs: readonly FamilyAttr[];
}

/** What {@link NetlinkFamily.encode} needs besides the attributes. */
export interface FamilyMessageInit {
  /** The genetlink command or netlink-raw message type. */
  readonly cmd: number;
  /** `nlmsg_flags` (0 by default). */
  readonly flags?: number;
  /** `nlmsg_seq` (0 by default). */
  readonly seq?: number;
  /** `nlmsg_pid` (0 by default). */
  readonly pid?: number;
  /** The genetlink version (the spec's by default). */
  readonly version?: number;
  /** The fixed header's fields (missing ones are zero). */
  readonly fixed?: Record<string, unknown>;
  /** The attributes, as decoded or built by hand (then `raw` is not needed). */
  readonly attrs: readonly FamilyAttr[];
}

function bad(detail: string): KernelError {
  return new KernelError("EINVAL", detail, { op: "NetlinkFamily" });
}

const INT: Record<string, { size: 1 | 2 | 4 | 8; signed: boolean }> = {
  u8: { size: 1, signed: false },
  u16: { size: 2, signed: false },
  u32: { size: 4, signed: false },
  u64: { size: 8, signed: false },
  s8: { size: 1, signed: true },
  s16: { size: 2, signed: true },
  s32: { size: 4, signed: true },
  s64: { size: 8, signed: true },
};

function readInt(
  p: Uint8Array,
  o: number,
  size: 1 | 2 | 4 | 8,
  signed: boolean,
  le: boolean,
): number | bigint {
  if (size === 1) return signed ? (p[o]! << 24) >> 24 : p[o]!;
  if (size === 2) return signed ? (get16(p, o, le) << 16) >> 16 : get16(p, o, le);
  if (size === 4) return signed ? get32(p, o, le) | 0 : get32(p, o, le);
  const v = get64(p, o, le);
  return signed ? BigInt.asIntN(64, v) : v;
}

function writeInt(size: 1 | 2 | 4 | 8, v: unknown, le: boolean, what: string): Uint8Array {
  const b = new Uint8Array(size);
  let x: bigint;
  if (typeof v === "bigint") x = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) x = BigInt(v);
  else throw bad(`${what}: ${String(v)} is not an integer`);
  const u = BigInt.asUintN(size * 8, x);
  if (size === 8) {
    put32(b, le ? 0 : 4, Number(u & 0xffffffffn), le);
    put32(b, le ? 4 : 0, Number(u >> 32n), le);
  } else if (size === 4) put32(b, 0, Number(u), le);
  else if (size === 2) put16(b, 0, Number(u), le);
  else b[0] = Number(u);
  return b;
}

type MemberRead = (b: Uint8Array, o: number) => unknown;

// The read of one struct member at its offset, byte order resolved when the reader is built.
function memberRead(type: string, size: number, le: boolean): MemberRead {
  switch (type) {
    case "u8":
      return (b, o) => b[o]!;
    case "s8":
      return (b, o) => (b[o]! << 24) >> 24;
    case "u16":
      return le ? (b, o) => get16(b, o, true) : (b, o) => get16(b, o, false);
    case "s16":
      return le ? (b, o) => (get16(b, o, true) << 16) >> 16 : (b, o) => (get16(b, o, false) << 16) >> 16;
    case "u32":
      return le ? (b, o) => get32(b, o, true) : (b, o) => get32(b, o, false);
    case "s32":
      return le ? (b, o) => get32(b, o, true) | 0 : (b, o) => get32(b, o, false) | 0;
    case "u64":
      return le ? (b, o) => get64(b, o, true) : (b, o) => get64(b, o, false);
    case "s64":
      return le
        ? (b, o) => BigInt.asIntN(64, get64(b, o, true))
        : (b, o) => BigInt.asIntN(64, get64(b, o, false));
    default:
      return (b, o) => b.subarray(o, o + size);
  }
}

interface StructReader {
  readonly size: number;
  readonly read: (b: Uint8Array, o: number) => Record<string, unknown>;
}

/**
 * The reader of a whole struct: compiled from text into one object literal
 * (`{ "rx-packets": r0(b, o + 0), "tx-packets": r1(b, o + 8), … }`) so every decoded struct of a kind has one hidden
 * class (adding 60 keys one by one to `{}` costs ten times more), or a loop where code generation is not allowed.
 */
function compileStructReader(s: YnlStruct, le: boolean): StructReader {
  const names: string[] = [];
  const offsets: number[] = [];
  const reads: MemberRead[] = [];
  let size = 0;
  for (const m of s.members) {
    const n = m.len ?? INT[m.type]!.size;
    if (m.type !== "pad") {
      names.push(m.name);
      offsets.push(size);
      reads.push(memberRead(m.type, n, m.byteOrder === "big-endian" ? false : le));
    }
    size += n;
  }
  if (canGenerateCode()) {
    try {
      // A computed key for "__proto__", which as a plain literal key would set the prototype instead.
      const key = (n: string) => (n === "__proto__" ? `[${JSON.stringify(n)}]` : JSON.stringify(n));
      const body = names.map((name, i) => `${key(name)}: r${i}(b, o + ${offsets[i]})`).join(", ");
      const make = new Function(
        ...reads.map((_, i) => `r${i}`),
        `"use strict"; return function read(b, o) { return { ${body} }; };`,
      );
      return { size, read: make(...reads) };
    } catch {
      // fall through to the loop
    }
  }
  return {
    size,
    read(b, o) {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) {
        const v = reads[i]!(b, o + offsets[i]!);
        // A data property even for a member named __proto__ (an assignment would set the prototype).
        if (names[i] === "__proto__")
          Object.defineProperty(out, "__proto__", {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else out[names[i]!] = v;
      }
      return out;
    },
  };
}

// A decoded attribute that keeps where its payload is and cuts the `raw` view only when asked (most never are):
// a subarray per attribute would cost a quarter of the decode. Plain fields, not #private ones: V8 (Node 20)
// makes the whole decode 15% slower with #private fields here. `value` is an own property, so a spread copy
// (`{ ...a, value: v }`) keeps it; `raw`, a getter, must be copied by name to survive a spread.
class DecodedAttr implements FamilyAttr {
  constructor(
    readonly name: string | undefined,
    readonly type: number,
    readonly rawType: number,
    readonly value: unknown,
    private readonly _b: Uint8Array,
    private readonly _o: number,
    private readonly _n: number,
  ) {}

  get raw(): Uint8Array {
    return this._b.subarray(this._o, this._o + this._n);
  }

  // Where the payload lives is an implementation detail: JSON and console.log show the attribute, not the buffer.
  toJSON(): FamilyAttr {
    return { name: this.name, type: this.type, rawType: this.rawType, value: this.value };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): FamilyAttr {
    return { name: this.name, type: this.type, rawType: this.rawType, value: this.value, raw: this.raw };
  }
}

// The marker of a value that is the payload bytes themselves.
const BYTES = Symbol("bytes");

// The marker of fastValue() for types it leaves to the general decoder.
const SLOW = Symbol("slow");

// The common attribute types, decoded straight from the buffer (the same values #decodeValue gives), by a kind
// number computed once per attribute: 1 u8, 2 u16, 3 u32, 4 s8, 5 s16, 6 s32, 7 string, 8 flag, 9 bytes.
const SLOW_KIND = 0;
// Binary with a struct: read by the struct's compiled reader, straight from the message.
const STRUCT_KIND = 10;

// Per attribute set: attributes by type number, the decoder kind of each, and the struct readers.
interface DecodeTable {
  readonly attrs: (YnlAttr | undefined)[];
  readonly kinds: Uint8Array;
  readonly readers: (StructReader | undefined)[];
}

function kindOf(a: YnlAttr): number {
  switch (a.type) {
    case "u8":
      return 1;
    case "u16":
      return 2;
    case "u32":
      return 3;
    case "s8":
      return 4;
    case "s16":
      return 5;
    case "s32":
      return 6;
    case "string":
      return 7;
    case "flag":
      return 8;
    case "binary":
      return a.struct === undefined ? 9 : STRUCT_KIND;
    case "pad":
    case "unused":
      return a.struct === undefined ? 9 : SLOW_KIND;
    default:
      return SLOW_KIND;
  }
}

function fastValue(
  kind: number,
  a: YnlAttr,
  b: Uint8Array,
  o: number,
  len: number,
  hostLe: boolean,
): unknown {
  const le = a.byteOrder === "big-endian" ? false : hostLe;
  switch (kind) {
    case 1:
      return len === 1 ? b[o]! : BYTES;
    case 2:
      return len === 2 ? get16(b, o, le) : BYTES;
    case 3:
      return len === 4 ? get32(b, o, le) : BYTES;
    case 4:
      return len === 1 ? (b[o]! << 24) >> 24 : BYTES;
    case 5:
      return len === 2 ? (get16(b, o, le) << 16) >> 16 : BYTES;
    case 6:
      return len === 4 ? get32(b, o, le) | 0 : BYTES;
    case 7: {
      let e = o;
      while (e < o + len && b[e] !== 0) e++;
      return utf8Decode(b, o, e);
    }
    case 8:
      return true;
    case 9:
      return BYTES;
    default:
      return SLOW;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array)
    return a.length === b.length && a.every((x, i) => x === b[i]);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return (
      ka.length === kb.length &&
      ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

/**
 * A family built from a loaded YNL spec ({@link loadSpec}). For genetlink families pass the family id the
 * controller reported (nlctrl's is fixed at 0x10).
 */
export class NetlinkFamily {
  /** The spec. */
  readonly spec: YnlFamily;
  /** The genetlink family id (nlmsg_type), when known. */
  readonly familyId: number | undefined;
  readonly #le: boolean;

  /**
   * @param spec - a loaded spec
   * @param options - the genetlink family id, and the byte order of host-order fields (`'little'`)
   */
  constructor(spec: YnlFamily, options: { familyId?: number; byteOrder?: ByteOrder } = {}) {
    if (spec === null || typeof spec !== "object" || !(spec.attributeSets instanceof Map))
      throw bad("not a loaded spec (use loadSpec)");
    this.spec = spec;
    this.familyId = options.familyId ?? (spec.name === "nlctrl" ? 0x10 : undefined);
    this.#le = (options.byteOrder ?? "little") === "little";
  }

  #struct(name: string): YnlStruct {
    const s = this.spec.structs.get(name);
    if (s === undefined) throw bad(`no struct ${JSON.stringify(name)} in spec ${this.spec.name}`);
    return s;
  }

  /** The size of a struct of the spec. */
  structSize(name: string): number {
    return this.#reader(name).size;
  }

  readonly #ops = new Map<number, YnlOperation | undefined>();

  // A struct's reader, compiled once per struct (see compileStructReader), for payloads that hold all of it.
  readonly #readers = new Map<string, StructReader>();

  #reader(name: string): StructReader {
    let read = this.#readers.get(name);
    if (read === undefined) {
      read = compileStructReader(this.#struct(name), this.#le);
      this.#readers.set(name, read);
    }
    return read;
  }

  #decodeStruct(name: string, p: Uint8Array): Record<string, unknown> {
    const read = this.#reader(name);
    if (p.length >= read.size) return read.read(p, 0);
    // A short payload: the members that fit.
    const out: Record<string, unknown> = {};
    let o = 0;
    for (const m of this.#struct(name).members) {
      const size = m.len ?? INT[m.type]!.size;
      if (o + size > p.length) break;
      if (m.type === "pad") {
        o += size;
        continue;
      }
      // A data property even for a member named __proto__ (an assignment would set the prototype).
      Object.defineProperty(out, m.name, {
        enumerable: true,
        writable: true,
        configurable: true,
        value:
          m.type === "binary"
            ? p.subarray(o, o + size)
            : readInt(
                p,
                o,
                size as 1 | 2 | 4 | 8,
                INT[m.type]!.signed,
                m.byteOrder === "big-endian" ? false : this.#le,
              ),
      });
      o += size;
    }
    return out;
  }

  #encodeStruct(name: string, v: Record<string, unknown> | undefined): Uint8Array {
    const out = new Uint8Array(this.structSize(name));
    let o = 0;
    for (const m of this.#struct(name).members) {
      const size = m.len ?? INT[m.type]!.size;
      const x = v !== undefined && Object.hasOwn(v, m.name) ? v[m.name] : undefined;
      if (m.type !== "pad" && x !== undefined) {
        if (m.type === "binary") {
          if (!(x instanceof Uint8Array) || x.length > size)
            throw bad(`${name}.${m.name}: expected at most ${size} bytes`);
          out.set(x, o);
        } else
          out.set(
            writeInt(
              size as 1 | 2 | 4 | 8,
              x,
              m.byteOrder === "big-endian" ? false : this.#le,
              `${name}.${m.name}`,
            ),
            o,
          );
      }
      o += size;
    }
    return out;
  }

  #decodeValue(a: YnlAttr, at: NlAttr, siblings: readonly FamilyAttr[] = []): unknown {
    const p = at.payload;
    const le = a.byteOrder === "big-endian" ? false : this.#le;
    const int = INT[a.type];
    if (int !== undefined) return p.length === int.size ? readInt(p, 0, int.size, int.signed, le) : p;
    switch (a.type) {
      case "uint":
      case "sint":
        if (p.length !== 4 && p.length !== 8) return p;
        return a.type === "uint"
          ? p.length === 4
            ? BigInt(get32(p, 0, le))
            : get64(p, 0, le)
          : p.length === 4
            ? BigInt(get32(p, 0, le) | 0)
            : BigInt.asIntN(64, get64(p, 0, le));
      case "string": {
        const nul = p.indexOf(0);
        return utf8Decode(p, 0, nul < 0 ? p.length : nul);
      }
      case "flag":
        return true;
      case "bitfield32":
        return p.length === 8 ? { value: get32(p, 0, le), selector: get32(p, 4, le) } : p;
      case "nest":
        return this.decodeAttrs(a.nestedAttributes!, p);
      case "indexed-array": {
        const items: unknown[] = [];
        for (const e of parseAttrs(p, 0, p.length, { byteOrder: this.#le ? "little" : "big" })) {
          items.push(
            a.subType === "nest"
              ? { index: e.type, attrs: this.decodeAttrs(a.nestedAttributes!, e.payload) }
              : {
                  index: e.type,
                  value: this.#decodeValue({ ...a, type: (a.subType ?? "binary") as YnlAttr["type"] }, e),
                },
          );
        }
        return items;
      }
      case "nest-type-value":
        return this.#decodeTypeValue(a, p, a.typeValue!.length);
      case "sub-message": {
        const format = this.#format(a, siblings);
        if (format === undefined) return p;
        const size = format.fixedHeader === undefined ? 0 : this.structSize(format.fixedHeader);
        return {
          format: format.value,
          ...(format.fixedHeader === undefined
            ? {}
            : { fixed: this.#decodeStruct(format.fixedHeader, p.subarray(0, size)) }),
          attrs:
            format.attributeSet === undefined
              ? []
              : this.decodeAttrs(format.attributeSet, p, size + ((4 - (size & 3)) & 3)),
        };
      }
      case "binary":
        if (a.struct === undefined) return p;
        return p.length >= this.structSize(a.struct) ? this.#reader(a.struct).read(p, 0) : p;
      default:
        return p;
    }
  }

  /**
   * Decodes the attributes of `bytes` with the attribute set `setName`: each with its spec name and typed value;
   * attributes the set does not know are kept with `name: undefined` and their bytes.
   * @throws {@link NetlinkParseError} for a malformed attribute stream; EINVAL for an unknown set
   */
  decodeAttrs(setName: string, bytes: Uint8Array, start = 0): FamilyAttr[] {
    const set = this.spec.attributeSets.get(setName);
    if (set === undefined) throw bad(`no attribute set ${JSON.stringify(setName)} in spec ${this.spec.name}`);
    const { attrs: table, kinds, readers } = this.#table(set);
    const out: FamilyAttr[] = [];
    // Sub-messages are decoded last: their selector is a sibling that may come after them.
    const late: number[] = [];
    // The walk of parseAttrs(), inlined so that the common types decode without an NlAttr object each.
    const b =
      bytes.constructor === Uint8Array
        ? bytes
        : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = this.#le;
    const end = b.length;
    if (!Number.isInteger(start) || start < 0 || start > end) {
      parseAttrs(bytes, start, end, { byteOrder: le ? "little" : "big" }); // throws the range error
    }
    for (let off = start; end - off >= 4; ) {
      const len = get16(b, off, le);
      if (len < 4 || len > end - off) {
        parseAttrs(b, off, end, { byteOrder: le ? "little" : "big" }); // throws the error of parseAttrs
      }
      const rawType = get16(b, off + 2, le);
      const type = rawType & NLA_TYPE_MASK;
      const a = table[type];
      let value: unknown;
      if (a === undefined) value = BYTES;
      else {
        const kind = type < kinds.length ? kinds[type]! : SLOW_KIND;
        if (kind === STRUCT_KIND) {
          const r = readers[type]!;
          value = len - 4 >= r.size ? r.read(b, off + 4) : BYTES;
        } else value = fastValue(kind, a, b, off + 4, len - 4, le);
        if (value === SLOW) {
          if (a.type === "sub-message") late.push(out.length);
          const payload = b.subarray(off + 4, off + len);
          const at = {
            type,
            rawType,
            nested: (rawType & NLA_F_NESTED) !== 0,
            netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
            offset: off,
            payload,
          };
          value = this.#safe(a, at, []);
        }
      }
      out.push(
        new DecodedAttr(
          a?.name,
          type,
          rawType,
          value === BYTES ? b.subarray(off + 4, off + len) : value,
          b,
          off + 4,
          len - 4,
        ),
      );
      off += (len + 3) & ~3;
    }
    for (const i of late) {
      const e = out[i]!;
      const a = set.byValue.get(e.type)!;
      const at = {
        type: e.type,
        rawType: e.rawType,
        nested: false,
        netByteOrder: false,
        offset: 0,
        payload: e.raw!,
      };
      out[i] = { name: e.name, type: e.type, rawType: e.rawType, value: this.#safe(a, at, out), raw: e.raw! };
    }
    return out;
  }

  // Attributes of a set by type number in arrays (faster than the Map on the decode path), with the fast
  // decoder kind of each, built once per set.
  readonly #tables = new WeakMap<YnlAttrSet, DecodeTable>();
  #table(set: YnlAttrSet): DecodeTable {
    let t = this.#tables.get(set);
    if (t === undefined) {
      const max = set.attributes.reduce((m, a) => Math.max(m, a.value), 0);
      const attrs: (YnlAttr | undefined)[] = new Array(max + 1).fill(undefined);
      const kinds = new Uint8Array(max + 1);
      const readers: (StructReader | undefined)[] = new Array(max + 1).fill(undefined);
      for (const a of set.attributes) {
        attrs[a.value] = a;
        kinds[a.value] = kindOf(a);
        if (kinds[a.value] === STRUCT_KIND) {
          try {
            readers[a.value] = this.#reader(a.struct!);
          } catch {
            kinds[a.value] = SLOW_KIND; // a struct the spec lacks: the general decoder keeps the bytes
          }
        }
      }
      t = { attrs, kinds, readers };
      this.#tables.set(set, t);
    }
    return t;
  }

  #safe(a: YnlAttr, at: NlAttr, siblings: readonly FamilyAttr[]): unknown {
    try {
      return this.#decodeValue(a, at, siblings);
    } catch {
      return at.payload; // not what the spec says: keep the bytes
    }
  }

  // nest-type-value: each level is a nest whose type is a value (a policy index, an attribute id …).
  #decodeTypeValue(a: YnlAttr, p: Uint8Array, levels: number): unknown[] {
    const order = this.#le ? "little" : "big";
    return parseAttrs(p, 0, p.length, { byteOrder: order }).map((e) =>
      levels > 1
        ? { key: e.type, items: this.#decodeTypeValue(a, e.payload, levels - 1) }
        : { key: e.type, attrs: this.decodeAttrs(a.nestedAttributes!, e.payload) },
    );
  }

  #encodeTypeValue(
    a: YnlAttr,
    items: readonly { key: number; items?: unknown[]; attrs?: FamilyAttr[] }[],
    w: NlWriter,
    levels: number,
    flagged: boolean,
  ): void {
    for (const item of items) {
      const n = w.nestStart(item.key, flagged);
      if (levels > 1) this.#encodeTypeValue(a, (item.items ?? []) as never, w, levels - 1, flagged);
      else this.encodeAttrs(a.nestedAttributes!, item.attrs ?? [], w);
      w.nestEnd(n);
    }
  }

  // The sub-message format a selector sibling picks (IFLA_INFO_KIND "veth" picks linkinfo-veth-attrs).
  #format(a: YnlAttr, siblings: readonly FamilyAttr[]) {
    const sel = siblings.find((x) => x.name === a.selector)?.value;
    return this.spec.subMessages.get(a.subMessage!)?.formats.find((f) => f.value === sel);
  }

  #encodeValue(a: YnlAttr, v: unknown, w: NlWriter, rawType: number, tail?: Uint8Array): void {
    const le = a.byteOrder === "big-endian" ? false : this.#le;
    const int = INT[a.type];
    const type = rawType & NLA_TYPE_MASK;
    if (v instanceof Uint8Array && a.type !== "binary") {
      w.putAttr(rawType, v);
      return;
    }
    if (int !== undefined) {
      w.putAttr(rawType, writeInt(int.size, v, le, a.name));
      return;
    }
    switch (a.type) {
      case "uint":
      case "sint": {
        const x = typeof v === "bigint" ? v : BigInt(v as number);
        const small = a.type === "uint" ? x >= 0n && x <= 0xffffffffn : x >= -(1n << 31n) && x < 1n << 31n;
        w.putAttr(rawType, writeInt(small ? 4 : 8, x, le, a.name));
        return;
      }
      case "string": {
        if (typeof v !== "string") throw bad(`${a.name}: ${String(v)} is not a string`);
        const b = utf8Encode(v);
        const p = new Uint8Array(b.length + 1);
        p.set(b);
        w.putAttr(rawType, p);
        return;
      }
      case "flag":
        w.putAttr(rawType, new Uint8Array(0));
        return;
      case "bitfield32": {
        const { value, selector } = v as { value: number; selector: number };
        const p = new Uint8Array(8);
        put32(p, 0, value, le);
        put32(p, 4, selector, le);
        w.putAttr(rawType, p);
        return;
      }
      case "nest": {
        const n = w.nestStart(type, (rawType & NLA_F_NESTED) !== 0);
        this.encodeAttrs(a.nestedAttributes!, v as FamilyAttr[], w);
        w.nestEnd(n);
        return;
      }
      case "nest-type-value": {
        const n = w.nestStart(type, (rawType & NLA_F_NESTED) !== 0);
        this.#encodeTypeValue(a, v as never, w, a.typeValue!.length, (rawType & NLA_F_NESTED) !== 0);
        w.nestEnd(n);
        return;
      }
      case "sub-message": {
        const sm = v as { format: string | number; fixed?: Record<string, unknown>; attrs?: FamilyAttr[] };
        const format = this.spec.subMessages.get(a.subMessage!)?.formats.find((f) => f.value === sm.format);
        if (format === undefined)
          throw bad(`${a.name}: no format ${JSON.stringify(sm.format)} in sub-message ${a.subMessage}`);
        const n = w.nestStart(type, (rawType & NLA_F_NESTED) !== 0);
        if (format.fixedHeader !== undefined) w.putStruct(this.#encodeStruct(format.fixedHeader, sm.fixed));
        if (format.attributeSet !== undefined) this.encodeAttrs(format.attributeSet, sm.attrs ?? [], w);
        w.nestEnd(n);
        return;
      }
      case "indexed-array": {
        const n = w.nestStart(type, (rawType & NLA_F_NESTED) !== 0);
        for (const item of v as { index: number; attrs?: FamilyAttr[]; value?: unknown }[]) {
          if (a.subType === "nest") {
            const e = w.nestStart(item.index, (rawType & NLA_F_NESTED) !== 0);
            this.encodeAttrs(a.nestedAttributes!, item.attrs ?? [], w);
            w.nestEnd(e);
          } else
            this.#encodeValue(
              { ...a, type: (a.subType ?? "binary") as YnlAttr["type"] },
              item.value,
              w,
              item.index,
            );
        }
        w.nestEnd(n);
        return;
      }
      default:
        if (a.struct !== undefined && !(v instanceof Uint8Array)) {
          const s = this.#encodeStruct(a.struct, v as Record<string, unknown>);
          // Bytes after the struct in the decoded payload (a newer kernel's longer struct, VETH_INFO_PEER's
          // IFLA_* after its ifinfomsg) are kept behind the edited struct.
          if (tail !== undefined && tail.length > s.length) {
            const p = new Uint8Array(tail.length);
            p.set(tail);
            p.set(s);
            w.putAttr(rawType, p);
          } else w.putAttr(rawType, s);
        } else if (v instanceof Uint8Array) w.putAttr(rawType, v);
        else throw bad(`${a.name}: ${String(v)} is not bytes`);
    }
  }

  /**
   * Writes attributes of the set `setName` with `w`. A decoded attribute whose value is unchanged is written
   * from its bytes (so decode → encode is byte-identical); others are encoded from their value.
   */
  encodeAttrs(setName: string, attrs: readonly FamilyAttr[], w: NlWriter): void {
    const set = this.spec.attributeSets.get(setName);
    if (set === undefined) throw bad(`no attribute set ${JSON.stringify(setName)} in spec ${this.spec.name}`);
    for (const at of attrs) {
      const a = at.name === undefined ? undefined : set.attributes.find((x) => x.name === at.name);
      const rawType =
        at.rawType ??
        (a ? a.value | (a.type === "nest" || a.type === "indexed-array" ? NLA_F_NESTED : 0) : at.type);
      if (at.raw !== undefined) {
        const again =
          a === undefined
            ? at.raw
            : this.#safe(
                a,
                { type: at.type, rawType, nested: false, netByteOrder: false, offset: 0, payload: at.raw },
                attrs,
              );
        if (sameValue(again, at.value)) {
          w.putAttr(rawType, at.raw);
          continue;
        }
      }
      if (a === undefined) {
        if (!(at.value instanceof Uint8Array))
          throw bad(`attribute type ${at.type} is not in set ${setName}; give its bytes`);
        w.putAttr(rawType, at.value);
      } else this.#encodeValue(a, at.value, w, rawType, at.raw);
    }
  }

  /** The operation a message of this command (genetlink) or type (netlink-raw) belongs to. */
  operationOf(cmd: number): YnlOperation | undefined {
    if (this.#ops.has(cmd)) return this.#ops.get(cmd);
    const op =
      this.spec.operations.find((o) => o.value === cmd) ??
      this.spec.operations.find((o) => o.replyValue === cmd);
    this.#ops.set(cmd, op);
    return op;
  }

  /**
   * Decodes a message of this family.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when the message is too short for its headers
   */
  decode(msg: NlMessage): FamilyMessage {
    const p = msg.payload;
    if (this.spec.protocol === "netlink-raw") {
      const op = this.operationOf(msg.type);
      const fixedName = op?.fixedHeader ?? this.spec.fixedHeader;
      const size = fixedName === undefined ? 0 : this.structSize(fixedName);
      if (p.length < size)
        throw bad(`message type ${msg.type}: ${p.length} bytes, the ${fixedName} header needs ${size}`);
      const start = size + ((4 - (size & 3)) & 3);
      return {
        op,
        cmd: msg.type,
        ...(fixedName === undefined ? {} : { fixed: this.#decodeStruct(fixedName, p.subarray(0, size)) }),
        attrs: op === undefined ? [] : this.decodeAttrs(op.attributeSet, p, Math.min(start, p.length)),
      };
    }
    if (p.length < 4) throw bad(`message of ${p.length} bytes has no genlmsghdr`);
    const cmd = p[0]!;
    const op = this.operationOf(cmd);
    const fixedName = op?.fixedHeader ?? this.spec.fixedHeader;
    const size = fixedName === undefined ? 0 : this.structSize(fixedName);
    const start = 4 + size + ((4 - (size & 3)) & 3);
    return {
      op,
      cmd,
      version: p[1]!,
      ...(fixedName === undefined ? {} : { fixed: this.#decodeStruct(fixedName, p.subarray(4, 4 + size)) }),
      attrs: op === undefined ? [] : this.decodeAttrs(op.attributeSet, p, Math.min(start, p.length)),
    };
  }

  /**
   * Encodes a message of this family: nlmsghdr, genlmsghdr (genetlink), the fixed header and the attributes.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for an unknown command or a genetlink family without an id
   */
  encode(m: FamilyMessageInit): Uint8Array {
    const op = this.operationOf(m.cmd);
    if (op === undefined) throw bad(`command ${String(m.cmd)} is no operation of ${this.spec.name}`);
    const w = new NlWriter({ byteOrder: this.#le ? "little" : "big" });
    const fixedName = op.fixedHeader ?? this.spec.fixedHeader;
    const flags = m.flags ?? 0;
    const seq = m.seq ?? 0;
    const pid = m.pid ?? 0;
    if (this.spec.protocol === "netlink-raw") {
      w.beginMessage({ type: m.cmd, flags, seq, pid });
    } else {
      if (this.familyId === undefined) throw bad(`family ${this.spec.name} has no id; pass familyId`);
      w.beginMessage({ type: this.familyId, flags, seq, pid });
      w.putStruct(Uint8Array.of(m.cmd, m.version ?? this.spec.version, 0, 0));
    }
    if (fixedName !== undefined) w.putStruct(this.#encodeStruct(fixedName, m.fixed));
    this.encodeAttrs(op.attributeSet, m.attrs, w);
    w.endMessage();
    return w.finish();
  }
}

/** The attributes as a plain object by name (the last of a repeated name wins); unknown ones are left out. */
export function attrsToObject(attrs: readonly FamilyAttr[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attrs) {
    if (a.name !== undefined) out[a.name] = plain(a.value);
  }
  return out;
}

// A decoded value as plain data: nests become objects, indexed arrays arrays, nest-type-value levels objects
// keyed by their type values (`{ 0: { 1: {…}, 2: {…} } }` for a policy dump).
function plain(v: unknown): unknown {
  if (!Array.isArray(v)) {
    if (v !== null && typeof v === "object" && "format" in v && "attrs" in v) {
      const sm = v as { format: unknown; fixed?: unknown; attrs: FamilyAttr[] };
      return {
        format: sm.format,
        ...(sm.fixed === undefined ? {} : { fixed: sm.fixed }),
        ...attrsToObject(sm.attrs),
      };
    }
    return v;
  }
  if (v.every((x) => typeof x === "object" && x !== null && "rawType" in x))
    return attrsToObject(v as FamilyAttr[]);
  if (v.every((x) => typeof x === "object" && x !== null && "key" in x)) {
    const o: Record<string, unknown> = {};
    for (const x of v as { key: number; items?: unknown[]; attrs?: FamilyAttr[] }[]) {
      o[x.key] = x.items !== undefined ? plain(x.items) : attrsToObject(x.attrs ?? []);
    }
    return o;
  }
  return v.map((x: { attrs?: FamilyAttr[]; value?: unknown }) =>
    x.attrs !== undefined ? attrsToObject(x.attrs) : x.value,
  );
}
