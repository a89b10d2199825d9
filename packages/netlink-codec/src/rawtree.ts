// A lossless, schema-free attribute tree: what a capture holds, kept so that encoding it again gives the
// same bytes. Nests are descended only where NLA_F_NESTED says so and the children tile the payload exactly.

import { type AttrOptions, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, parseAttrs } from "./nlattr.js";
import type { NlWriter } from "./writer.js";

/** An attribute of a raw tree: a leaf with its payload bytes, or a nest with its children. */
export type RawAttr =
  | {
      /** `nla_type` as found, flag bits included. */
      readonly rawType: number;
      /** The payload bytes (a view of the parsed buffer). */
      readonly payload: Uint8Array;
    }
  | {
      /** `nla_type` as found, NLA_F_NESTED included. */
      readonly rawType: number;
      /** The attributes inside the nest. */
      readonly children: readonly RawAttr[];
    };

// Whether a flagged nest's payload is exactly a sequence of attributes, each padded, with nothing left over.
function tiles(payload: Uint8Array, options: AttrOptions | undefined): RawAttr[] | undefined {
  try {
    const kids = parseAttrs(payload, 0, payload.length, { ...options, strictTrailing: true });
    let end = 0;
    for (const k of kids) end = k.offset + 4 + k.payload.length + ((4 - (k.payload.length & 3)) & 3);
    if (end !== payload.length && !(kids.length === 0 && payload.length === 0)) return undefined;
    // Padding inside the nest must be zero, or re-encoding would not reproduce it.
    for (const k of kids) {
      const padEnd = k.offset + 4 + k.payload.length + ((4 - (k.payload.length & 3)) & 3);
      for (let i = k.offset + 4 + k.payload.length; i < padEnd; i++) if (payload[i] !== 0) return undefined;
    }
    return kids.map((k) => toRaw(k.rawType, k.payload, options));
  } catch {
    return undefined;
  }
}

function toRaw(rawType: number, payload: Uint8Array, options: AttrOptions | undefined): RawAttr {
  const nestedOnly = (rawType & (NLA_F_NESTED | NLA_F_NET_BYTEORDER)) === NLA_F_NESTED;
  if (nestedOnly) {
    const children = tiles(payload, options);
    if (children !== undefined) return { rawType, children };
  }
  return { rawType, payload };
}

/**
 * Decodes the attributes of `buf[start, end)` into a raw tree: every attribute with its exact `nla_type`,
 * nests (NLA_F_NESTED) as children when their payload is a clean attribute stream, everything else as bytes.
 * @throws {@link NetlinkParseError} as {@link parseAttrs} does for the top level
 */
export function decodeRawAttrs(
  buf: Uint8Array,
  start = 0,
  end = buf?.length,
  options?: AttrOptions,
): RawAttr[] {
  return parseAttrs(buf, start, end, options).map((a) => toRaw(a.rawType, a.payload, options));
}

/** Writes a raw tree with a writer; the bytes equal those it was decoded from when their padding was zero. */
export function encodeRawAttrs(w: NlWriter, attrs: readonly RawAttr[]): void {
  for (const a of attrs) {
    if ("children" in a) {
      const nest = w.nestStart(a.rawType & NLA_TYPE_MASK, (a.rawType & NLA_F_NESTED) !== 0);
      encodeRawAttrs(w, a.children);
      w.nestEnd(nest);
    } else {
      w.putAttr(a.rawType, a.payload);
    }
  }
}
