// Attribute policies and the kernel's validator: struct nla_policy of include/net/netlink.h, the parse and
// validate algorithm of lib/nlattr.c (__nla_validate_parse, validate_nla) with its exact errno, extack message
// and offending attribute, and the policy description the kernel puts in NLMSGERR_ATTR_POLICY
// (net/netlink/policy.c __netlink_policy_dump_write_attr). Read against Linux 6.12.

import { type ByteOrder, type ErrnoCode, errnoName, get16, get32, get64, KernelError } from "@kbridge/uapi";
import { NLA_ALIGN, NLA_HDRLEN, NLMSG_ALIGN, NLMSG_HDRLEN } from "./align.js";
import { NLA_F_NESTED, NLA_TYPE_MASK, type NlAttr } from "./nlattr.js";
import type { RawAttr } from "./rawtree.js";

/** The policy types of `enum nla_policy` (include/net/netlink.h), by the names YNL uses. */
export type NlaType =
  | "unspec"
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "string"
  | "flag"
  | "msecs"
  | "nested"
  | "nested-array"
  | "nul-string"
  | "binary"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  | "bitfield32"
  | "reject"
  | "be16"
  | "be32"
  | "sint"
  | "uint";

/** `NL_VALIDATE_*`: how strictly to validate (lib/nlattr.c). */
export const NL_VALIDATE = Object.freeze({
  /** 0: skip unknown types, tolerate trailing bytes and wrong integer sizes (the `*_deprecated` parsers). */
  LIBERAL: 0,
  /** 1: bytes after the last attribute are an error. */
  TRAILING: 1,
  /** 2: type 0 or above maxtype is an error. */
  MAXTYPE: 2,
  /** 4: an attribute whose policy is NLA_UNSPEC is an error. */
  UNSPEC: 4,
  /** 8: fixed-size integers must have exactly their size. */
  STRICT_ATTRS: 8,
  /** 16: NLA_F_NESTED must be set on nests and only on nests. */
  NESTED: 16,
  /** 3: TRAILING | MAXTYPE (the `*_deprecated_strict` parsers). */
  DEPRECATED_STRICT: 3,
  /** 31: everything (`nla_parse`, `nlmsg_parse`, genetlink's default). */
  STRICT: 31,
});

/** Extra validation of an attribute: `validation_type` and its operands. */
export type NlaValidation =
  | { readonly kind: "range"; readonly min: number | bigint; readonly max: number | bigint }
  | { readonly kind: "range-warn-too-long"; readonly min: number | bigint; readonly max: number | bigint }
  | { readonly kind: "min"; readonly min: number | bigint }
  | { readonly kind: "max"; readonly max: number | bigint }
  | { readonly kind: "mask"; readonly mask: number | bigint }
  | {
      readonly kind: "function";
      /** Returns 0 or a negative errno; may fill `extack` as a kernel validate callback does. */
      readonly validate: (attr: NlAttr, extack: ExtAckOut) => number;
    };

/** One entry of a policy: `struct nla_policy`. */
export interface NlaPolicy {
  /** The policy type. */
  readonly type: NlaType;
  /** `len`: maximum length for strings and binary, minimum payload for the rest (0: the type's own). */
  readonly len?: number;
  /** `validation_type` and its operands (NLA_POLICY_RANGE, _MIN, _MAX, _MASK, _VALIDATE_FN …). */
  readonly validation?: NlaValidation;
  /** The policy of a nest's (or each array element's) attributes; its maxType is the kernel's `len`. */
  readonly nested?: Policy;
  /** NLA_BITFIELD32: the valid bits. */
  readonly bitfield32Valid?: number;
  /** NLA_REJECT: the extack message. */
  readonly rejectMessage?: string;
}

/** A policy: the entries for attribute types 1..maxType (absent types are NLA_UNSPEC with len 0). */
export interface Policy {
  /** The highest attribute type. */
  readonly maxType: number;
  /** The entries by attribute type. */
  readonly attrs: Readonly<Record<number, NlaPolicy>>;
  /** `policy[0].strict_start_type`: attributes of this type and above are validated strictly. */
  readonly strictStartType?: number;
}

/** What validation reports besides the errno: the kernel's `struct netlink_ext_ack` as far as parsing fills it. */
export interface ExtAckOut {
  /** `_msg`. */
  msg?: string;
  /** `bad_attr`: the offset of the offending attribute's header in the parsed buffer. */
  badAttr?: number;
  /** `policy`: the entry the attribute failed (written as NLMSGERR_ATTR_POLICY by buildAck via {@link policyAttrs}). */
  policy?: NlaPolicy;
}

/** The result of {@link nlaParse}: an errno as the kernel returns it, the attribute table and the extack. */
export interface ParseResult {
  /** 0, or the negative errno (`-34`). */
  readonly error: number;
  /** The errno's name, or undefined on success. */
  readonly code: ErrnoCode | undefined;
  /** `tb[type]`: the last attribute of each type 1..maxType (filled up to the error, as the kernel leaves it). */
  readonly tb: readonly (NlAttr | undefined)[];
  /** The extended ack (a success can carry "bytes leftover after parsing attributes"). */
  readonly extack: Readonly<ExtAckOut>;
  /** What the kernel would have logged with pr_warn_ratelimited. */
  readonly warnings: readonly string[];
}

const TYPE_ID: Readonly<Record<NlaType, number>> = {
  unspec: 0,
  u8: 1,
  u16: 2,
  u32: 3,
  u64: 4,
  string: 5,
  flag: 6,
  msecs: 7,
  nested: 8,
  "nested-array": 9,
  "nul-string": 10,
  binary: 11,
  s8: 12,
  s16: 13,
  s32: 14,
  s64: 15,
  bitfield32: 16,
  reject: 17,
  be16: 18,
  be32: 19,
  sint: 20,
  uint: 21,
};

/** The kernel's numeric id of a policy type (`NLA_U32` = 3 …). */
export function nlaTypeId(type: NlaType): number {
  const id = TYPE_ID[type];
  if (id === undefined)
    throw new KernelError("EINVAL", `${JSON.stringify(type)} is not a policy type`, { op: "nla_policy" });
  return id;
}

// nla_attr_len[]: types whose length must be exact (a warning, or EINVAL with NL_VALIDATE_STRICT_ATTRS).
const EXACT_LEN: Partial<Record<NlaType, number>> = {
  u8: 1,
  u16: 2,
  u32: 4,
  u64: 8,
  s8: 1,
  s16: 2,
  s32: 4,
  s64: 8,
  be16: 2,
  be32: 4,
};
// nla_attr_minlen[]: the default minimum payload when the entry's len is 0.
const MIN_LEN: Partial<Record<NlaType, number>> = { ...EXACT_LEN, msecs: 8, nested: NLA_HDRLEN };

/** `MAX_POLICY_RECURSION_DEPTH` (lib/nlattr.c). */
export const MAX_POLICY_RECURSION_DEPTH = 10;

const U64_MAX = (1n << 64n) - 1n;

// nla_get_range_unsigned()
function rangeUnsigned(pt: NlaPolicy): { min: bigint; max: bigint } {
  let max: bigint;
  switch (pt.type) {
    case "u8":
      max = 0xffn;
      break;
    case "u16":
    case "be16":
    case "binary":
      max = 0xffffn;
      break;
    case "u32":
    case "be32":
      max = 0xffffffffn;
      break;
    default:
      max = U64_MAX; // u64, uint, msecs
  }
  let min = 0n;
  const v = pt.validation;
  if (v?.kind === "range" || v?.kind === "range-warn-too-long") {
    min = BigInt(v.min);
    max = BigInt(v.max);
  } else if (v?.kind === "min") min = BigInt(v.min);
  else if (v?.kind === "max") max = BigInt(v.max);
  return { min, max };
}

// nla_get_range_signed()
function rangeSigned(pt: NlaPolicy): { min: bigint; max: bigint } {
  const bits = pt.type === "s8" ? 8n : pt.type === "s16" ? 16n : pt.type === "s32" ? 32n : 64n;
  let min = -(1n << (bits - 1n));
  let max = (1n << (bits - 1n)) - 1n;
  const v = pt.validation;
  if (v?.kind === "range") {
    min = BigInt(v.min);
    max = BigInt(v.max);
  } else if (v?.kind === "min") min = BigInt(v.min);
  else if (v?.kind === "max") max = BigInt(v.max);
  return { min, max };
}

interface Ctx {
  readonly buf: Uint8Array;
  readonly le: boolean;
  readonly extack: ExtAckOut;
  readonly warnings: string[];
}

function setPol(ctx: Ctx, off: number, pt: NlaPolicy, msg: string): void {
  // NL_SET_ERR_MSG_ATTR_POL
  ctx.extack.msg = msg;
  ctx.extack.badAttr = off;
  ctx.extack.policy = pt;
}

function attrAt(ctx: Ctx, off: number): NlAttr {
  const len = get16(ctx.buf, off, ctx.le);
  const raw = get16(ctx.buf, off + 2, ctx.le);
  return {
    type: raw & NLA_TYPE_MASK,
    rawType: raw,
    nested: (raw & NLA_F_NESTED) !== 0,
    netByteOrder: (raw & 0x4000) !== 0,
    offset: off,
    payload: ctx.buf.subarray(off + NLA_HDRLEN, off + len),
  };
}

function unsignedValue(ctx: Ctx, pt: NlaPolicy, a: NlAttr): bigint {
  const p = a.payload;
  switch (pt.type) {
    case "u8":
      return BigInt(p[0]!);
    case "u16":
      return BigInt(get16(p, 0, ctx.le));
    case "u32":
      return BigInt(get32(p, 0, ctx.le));
    case "be16":
      return BigInt(get16(p, 0, false));
    case "be32":
      return BigInt(get32(p, 0, false));
    case "uint":
      return p.length === 4 ? BigInt(get32(p, 0, ctx.le)) : get64(p, 0, ctx.le);
    case "binary":
      return BigInt(p.length);
    default:
      return get64(p, 0, ctx.le); // u64, msecs
  }
}

function signedValue(ctx: Ctx, pt: NlaPolicy, a: NlAttr): bigint {
  const p = a.payload;
  switch (pt.type) {
    case "s8":
      return BigInt((p[0]! << 24) >> 24);
    case "s16":
      return BigInt((get16(p, 0, ctx.le) << 16) >> 16);
    case "s32":
      return BigInt(get32(p, 0, ctx.le) | 0);
    case "sint":
      return p.length === 4 ? BigInt(get32(p, 0, ctx.le) | 0) : BigInt.asIntN(64, get64(p, 0, ctx.le));
    default:
      return BigInt.asIntN(64, get64(p, 0, ctx.le)); // s64
  }
}

const UNSIGNED = new Set<NlaType>(["u8", "u16", "u32", "u64", "uint", "msecs", "binary", "be16", "be32"]);
const SIGNED = new Set<NlaType>(["s8", "s16", "s32", "s64", "sint"]);

// nla_validate_int_range()
function validateIntRange(ctx: Ctx, pt: NlaPolicy, a: NlAttr, validate: number): number {
  if (UNSIGNED.has(pt.type)) {
    const value = unsignedValue(ctx, pt, a);
    const range = rangeUnsigned(pt);
    if (pt.validation?.kind === "range-warn-too-long" && pt.type === "binary" && value > range.max) {
      ctx.warnings.push(`netlink: attribute type ${TYPE_ID[pt.type]} has an invalid length.`);
      if (validate & NL_VALIDATE.STRICT_ATTRS) {
        setPol(ctx, a.offset, pt, "invalid attribute length");
        return -22;
      }
      return 0;
    }
    if (value < range.min || value > range.max) {
      setPol(
        ctx,
        a.offset,
        pt,
        pt.type === "binary" ? "binary attribute size out of range" : "integer out of range",
      );
      return -34;
    }
    return 0;
  }
  if (SIGNED.has(pt.type)) {
    const value = signedValue(ctx, pt, a);
    const range = rangeSigned(pt);
    if (value < range.min || value > range.max) {
      setPol(ctx, a.offset, pt, "integer out of range");
      return -34;
    }
    return 0;
  }
  return -22;
}

// nla_validate_mask()
function validateMask(ctx: Ctx, pt: NlaPolicy, a: NlAttr, mask: bigint): number {
  if (!UNSIGNED.has(pt.type) || pt.type === "binary" || pt.type === "msecs") return -22;
  if ((unsignedValue(ctx, pt, a) & ~mask & U64_MAX) !== 0n) {
    // NL_SET_ERR_MSG_ATTR: no policy
    ctx.extack.msg = "reserved bit set";
    ctx.extack.badAttr = a.offset;
    return -22;
  }
  return 0;
}

// validate_nla()
function validateNla(ctx: Ctx, a: NlAttr, policy: Policy, validate: number, depth: number): number {
  const type = a.type;
  if (policy.strictStartType && type >= policy.strictStartType) validate |= NL_VALIDATE.STRICT;
  if (type <= 0 || type > policy.maxType) return 0;
  const pt: NlaPolicy = policy.attrs[type] ?? { type: "unspec" };
  let attrlen = a.payload.length;
  let err = -34;
  const exact = EXACT_LEN[pt.type];
  if (exact !== undefined && attrlen !== exact) {
    ctx.warnings.push(`netlink: attribute type ${type} has an invalid length.`);
    if (validate & NL_VALIDATE.STRICT_ATTRS) {
      setPol(ctx, a.offset, pt, "invalid attribute length");
      return -22;
    }
  }
  if (validate & NL_VALIDATE.NESTED) {
    const isNest = pt.type === "nested" || pt.type === "nested-array";
    if (isNest && !a.nested) {
      setPol(ctx, a.offset, pt, "NLA_F_NESTED is missing");
      return -22;
    }
    if (!isNest && pt.type !== "unspec" && a.nested) {
      setPol(ctx, a.offset, pt, "NLA_F_NESTED not expected");
      return -22;
    }
  }
  const fail = (): number => {
    setPol(ctx, a.offset, pt, "Attribute failed policy validation");
    return err;
  };
  const len = pt.len ?? 0;
  switch (pt.type) {
    case "reject":
      if (pt.rejectMessage !== undefined) {
        ctx.extack.badAttr = a.offset;
        ctx.extack.msg = pt.rejectMessage;
        return -22;
      }
      err = -22;
      return fail();
    case "flag":
      if (attrlen > 0) return fail();
      break;
    case "sint":
    case "uint":
      if (attrlen !== 4 && attrlen !== 8) {
        setPol(ctx, a.offset, pt, "invalid attribute length");
        return -22;
      }
      break;
    case "bitfield32": {
      if (attrlen !== 8) return fail();
      const valid = pt.bitfield32Valid ?? 0;
      const value = get32(a.payload, 0, ctx.le);
      const selector = get32(a.payload, 4, ctx.le);
      // validate_nla_bitfield32()
      if (!valid || (selector & ~valid) !== 0 || (value & ~valid) !== 0 || (value & ~selector) !== 0) {
        err = -22;
        return fail();
      }
      break;
    }
    case "nul-string":
    case "string": {
      if (pt.type === "nul-string") {
        const minlen = len ? Math.min(attrlen, len + 1) : attrlen;
        if (!minlen || a.payload.subarray(0, minlen).indexOf(0) < 0) {
          err = -22;
          return fail();
        }
      }
      if (attrlen < 1) return fail();
      if (len) {
        if (a.payload[attrlen - 1] === 0) attrlen--;
        if (attrlen > len) return fail();
      }
      break;
    }
    case "binary":
      if (len && attrlen > len) return fail();
      break;
    case "nested":
    case "nested-array": {
      if (attrlen === 0) break;
      if (attrlen < NLA_HDRLEN) return fail();
      if (pt.nested !== undefined) {
        const start = a.offset + NLA_HDRLEN;
        const end = start + attrlen;
        const r =
          pt.type === "nested"
            ? validateParse(ctx, start, end, pt.nested, validate, depth + 1, undefined)
            : validateArray(ctx, start, end, pt.nested, validate, depth);
        // Return directly to keep the inner message and attribute.
        if (r < 0) return r;
      }
      break;
    }
    case "unspec":
      if (validate & NL_VALIDATE.UNSPEC) {
        ctx.extack.msg = "Unsupported attribute";
        ctx.extack.badAttr = a.offset;
        return -22;
      }
      if (attrlen < len) return fail();
      break;
    default: {
      const minlen = len || (MIN_LEN[pt.type] ?? 0);
      if (attrlen < minlen) return fail();
    }
  }
  const v = pt.validation;
  if (v === undefined) return 0;
  switch (v.kind) {
    case "range":
    case "range-warn-too-long":
    case "min":
    case "max":
      return validateIntRange(ctx, pt, a, validate);
    case "mask":
      return validateMask(ctx, pt, a, BigInt(v.mask));
    case "function":
      return v.validate(a, ctx.extack);
  }
}

// nla_validate_array()
function validateArray(
  ctx: Ctx,
  start: number,
  end: number,
  policy: Policy,
  validate: number,
  depth: number,
): number {
  for (let off = start; end - off >= NLA_HDRLEN; ) {
    const len = get16(ctx.buf, off, ctx.le);
    if (len < NLA_HDRLEN || len > end - off) break; // nla_ok() ends the walk
    const payload = len - NLA_HDRLEN;
    if (payload !== 0) {
      if (payload < NLA_HDRLEN) {
        // NL_SET_ERR_MSG_ATTR_POL with the array's policy (its entry 0)
        setPol(ctx, off, policy.attrs[0] ?? { type: "unspec" }, "Array element too short");
        return -34;
      }
      const r = validateParse(ctx, off + NLA_HDRLEN, off + len, policy, validate, depth + 1, undefined);
      if (r < 0) return r;
    }
    off += NLA_ALIGN(len);
  }
  return 0;
}

// __nla_validate_parse()
function validateParse(
  ctx: Ctx,
  start: number,
  end: number,
  policy: Policy,
  validate: number,
  depth: number,
  tb: (NlAttr | undefined)[] | undefined,
): number {
  if (depth >= MAX_POLICY_RECURSION_DEPTH) {
    ctx.extack.msg = "allowed policy recursion depth exceeded";
    return -22;
  }
  let off = start;
  while (end - off >= NLA_HDRLEN) {
    const len = get16(ctx.buf, off, ctx.le);
    if (len < NLA_HDRLEN || len > end - off) break;
    const a = attrAt(ctx, off);
    const type = a.type;
    if (type === 0 || type > policy.maxType) {
      if (validate & NL_VALIDATE.MAXTYPE) {
        ctx.extack.msg = "Unknown attribute type";
        ctx.extack.badAttr = off;
        return -22;
      }
    } else {
      const err = validateNla(ctx, a, policy, validate, depth);
      if (err < 0) return err;
      if (tb !== undefined) tb[type] = a;
    }
    off += NLA_ALIGN(len);
  }
  const rem = end - off;
  if (rem > 0) {
    ctx.warnings.push(`netlink: ${rem} bytes leftover after parsing attributes.`);
    ctx.extack.msg = "bytes leftover after parsing attributes";
    if (validate & NL_VALIDATE.TRAILING) return -22;
  }
  return 0;
}

function checkPolicy(op: string, policy: unknown): Policy {
  const p = policy as Policy | null;
  if (
    p === null ||
    typeof p !== "object" ||
    !Number.isInteger(p.maxType) ||
    p.maxType < 0 ||
    p.maxType > NLA_TYPE_MASK
  ) {
    throw new KernelError(
      "EINVAL",
      `${JSON.stringify(policy)} is not a policy (maxType 0..${NLA_TYPE_MASK})`,
      { op },
    );
  }
  return p;
}

/** Options of {@link nlaParse} and {@link nlmsgParse}. */
export interface PolicyParseOptions {
  /** `NL_VALIDATE_*` bits; {@link NL_VALIDATE}.STRICT by default, as `nla_parse()`. */
  readonly validate?: number;
  /** Byte order of headers and host-order payloads; `'little'` by default. */
  readonly byteOrder?: ByteOrder;
}

function result(ctx: Ctx, error: number, tb: (NlAttr | undefined)[]): ParseResult {
  return {
    error,
    code: error === 0 ? undefined : errnoName(-error),
    tb,
    extack: ctx.extack,
    warnings: ctx.warnings,
  };
}

/**
 * Parses and validates the attributes of `buf[start, end)` against `policy`, as the kernel's
 * `__nla_validate_parse()` does: the same errno (EINVAL vs ERANGE), the same extack message, the same offending
 * attribute (`extack.badAttr`, an offset in `buf`) and policy entry. It never throws for bad attributes: a
 * validation failure is a result, as in the kernel.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad range or policy object (a bug of the caller)
 */
export function nlaParse(
  buf: Uint8Array,
  start: number,
  end: number,
  policy: Policy,
  options: PolicyParseOptions = {},
): ParseResult {
  if (!(buf instanceof Uint8Array))
    throw new KernelError("EINVAL", `${String(buf)} is not a Uint8Array`, { op: "nla_parse" });
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > buf.length) {
    throw new KernelError(
      "EINVAL",
      `range [${start}, ${end}) is not inside a buffer of ${buf.length} bytes`,
      { op: "nla_parse" },
    );
  }
  const p = checkPolicy("nla_parse", policy);
  const ctx: Ctx = { buf, le: (options.byteOrder ?? "little") === "little", extack: {}, warnings: [] };
  const tb: (NlAttr | undefined)[] = new Array(p.maxType + 1).fill(undefined);
  const error = validateParse(ctx, start, end, p, options.validate ?? NL_VALIDATE.STRICT, 0, tb);
  return result(ctx, error, tb);
}

/**
 * `nlmsg_parse()`: validates the attributes of one message (header included in `msg`) after a family header of
 * `hdrlen` bytes. `extack.badAttr` is then the offset from the start of the message: the NLMSGERR_ATTR_OFFS the
 * kernel reports. A message shorter than its header gives EINVAL "Invalid header length".
 */
export function nlmsgParse(
  msg: Uint8Array,
  hdrlen: number,
  policy: Policy,
  options: PolicyParseOptions = {},
): ParseResult {
  if (!(msg instanceof Uint8Array) || msg.length < NLMSG_HDRLEN) {
    throw new KernelError("EINVAL", "a message needs at least its 16-byte header", { op: "nlmsg_parse" });
  }
  if (!Number.isInteger(hdrlen) || hdrlen < 0) {
    throw new KernelError("EINVAL", `family header length ${String(hdrlen)} is not a size`, {
      op: "nlmsg_parse",
    });
  }
  const le = (options.byteOrder ?? "little") === "little";
  const len = Math.min(get32(msg, 0, le), msg.length);
  const p = checkPolicy("nlmsg_parse", policy);
  const start = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);
  if (len < start) {
    const ctx: Ctx = { buf: msg, le, extack: { msg: "Invalid header length" }, warnings: [] };
    return result(ctx, -22, new Array(p.maxType + 1).fill(undefined));
  }
  return nlaParse(msg, start, len, p, options);
}

const NL_ATTR_TYPE: Partial<Record<NlaType, number>> = {
  flag: 1,
  u8: 2,
  u16: 3,
  u32: 4,
  u64: 5,
  s8: 6,
  s16: 7,
  s32: 8,
  s64: 9,
  binary: 10,
  string: 11,
  "nul-string": 12,
  nested: 13,
  "nested-array": 14,
  bitfield32: 15,
  sint: 16,
  uint: 17,
  msecs: 17,
};

/** `NL_POLICY_TYPE_ATTR_*`: the attributes that describe one policy entry. */
export const NL_POLICY_TYPE_ATTR = Object.freeze({
  /** 1: u32, an `NL_ATTR_TYPE_*`. */
  TYPE: 1,
  /** 2: s64. */
  MIN_VALUE_S: 2,
  /** 3: s64. */
  MAX_VALUE_S: 3,
  /** 4: u64. */
  MIN_VALUE_U: 4,
  /** 5: u64. */
  MAX_VALUE_U: 5,
  /** 6: u32. */
  MIN_LENGTH: 6,
  /** 7: u32. */
  MAX_LENGTH: 7,
  /** 8: u32, index of a nested policy in a policy dump. */
  POLICY_IDX: 8,
  /** 9: u32, maxtype of that nested policy. */
  POLICY_MAXTYPE: 9,
  /** 10: u32, the valid bits of a bitfield32. */
  BITFIELD32_MASK: 10,
  /** 11: padding. */
  PAD: 11,
  /** 12: u64, the valid bits of a masked integer. */
  MASK: 12,
});

/**
 * The description of a policy entry the kernel writes into NLMSGERR_ATTR_POLICY (and policy dumps), in its
 * order: bounds first, NL_POLICY_TYPE_ATTR_TYPE last. Models `__netlink_policy_dump_write_attr()` without a
 * dump state (so no POLICY_IDX for nests). Types the writer skips (unspec, reject, be16, be32) give `[]`.
 */
export function policyAttrs(pt: NlaPolicy, byteOrder: ByteOrder = "little"): RawAttr[] {
  return writePolicyAttr(pt, byteOrder, undefined);
}

// The dump state's index of a nested policy: the kernel keys it on (policy pointer, maxtype).
type PolicyIndex = (policy: Policy, maxType: number) => number;

// __netlink_policy_dump_write_attr(): with a dump state, a nest with a policy also says which (POLICY_IDX, MAXTYPE).
function writePolicyAttr(pt: NlaPolicy, byteOrder: ByteOrder, index: PolicyIndex | undefined): RawAttr[] {
  const le = byteOrder === "little";
  const type = NL_ATTR_TYPE[pt.type];
  if (type === undefined) return [];
  const u32 = (t: number, v: number): RawAttr => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, le);
    return { rawType: t, payload: b };
  };
  const u64 = (t: number, v: bigint): RawAttr => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), le);
    return { rawType: t, payload: b };
  };
  const out: RawAttr[] = [];
  if (
    (pt.type === "nested" || pt.type === "nested-array") &&
    index !== undefined &&
    pt.nested !== undefined &&
    pt.nested.maxType > 0
  ) {
    out.push(
      u32(NL_POLICY_TYPE_ATTR.POLICY_IDX, index(pt.nested, pt.nested.maxType)),
      u32(NL_POLICY_TYPE_ATTR.POLICY_MAXTYPE, pt.nested.maxType),
    );
  } else if (UNSIGNED.has(pt.type) && pt.type !== "binary") {
    if (pt.validation?.kind === "mask") out.push(u64(NL_POLICY_TYPE_ATTR.MASK, BigInt(pt.validation.mask)));
    else {
      const r = rangeUnsigned(pt);
      out.push(u64(NL_POLICY_TYPE_ATTR.MIN_VALUE_U, r.min), u64(NL_POLICY_TYPE_ATTR.MAX_VALUE_U, r.max));
    }
  } else if (SIGNED.has(pt.type)) {
    const r = rangeSigned(pt);
    out.push(u64(NL_POLICY_TYPE_ATTR.MIN_VALUE_S, r.min), u64(NL_POLICY_TYPE_ATTR.MAX_VALUE_S, r.max));
  } else if (pt.type === "bitfield32") {
    out.push(u32(NL_POLICY_TYPE_ATTR.BITFIELD32_MASK, pt.bitfield32Valid ?? 0));
  } else if (pt.type === "string" || pt.type === "nul-string" || pt.type === "binary") {
    const k = pt.validation?.kind;
    if (k === "range" || k === "range-warn-too-long") {
      const r = rangeUnsigned(pt);
      if (r.min) out.push(u32(NL_POLICY_TYPE_ATTR.MIN_LENGTH, Number(r.min)));
      if (r.max < 0xffffn) out.push(u32(NL_POLICY_TYPE_ATTR.MAX_LENGTH, Number(r.max)));
    } else if (pt.len) out.push(u32(NL_POLICY_TYPE_ATTR.MAX_LENGTH, pt.len));
  }
  out.push(u32(NL_POLICY_TYPE_ATTR.TYPE, type));
  return out;
}

/** One message's worth of a policy dump: the entry of attribute `attrIdx` of the policy numbered `policyIdx`. */
export interface PolicyDumpEntry {
  /** The policy's index in the dump (0 for the one dumped, then nested policies as they are found). */
  readonly policyIdx: number;
  /** The attribute type. */
  readonly attrIdx: number;
  /** Its NL_POLICY_TYPE_ATTR_* attributes, in the kernel's order (nests: POLICY_IDX, POLICY_MAXTYPE, TYPE). */
  readonly attrs: RawAttr[];
}

/**
 * A whole policy dump, as CTRL_CMD_GETPOLICY sends it one entry per message inside CTRL_ATTR_POLICY
 * (`nest(policyIdx) { nest(attrIdx) { NL_POLICY_TYPE_ATTR_* } }`). Models `netlink_policy_dump_add_policy()`:
 * policies are numbered breadth first from the one given, each (policy, maxtype) pair once, a policy with maxtype 0
 * never; and `netlink_policy_dump_write()`: every type 0..maxtype of every policy in index order, skipping the
 * entries the writer has nothing to say about (unspec, reject …).
 * @param policy - the policy to dump (its nested policies follow)
 * @param byteOrder - the byte order of the values (`'little'`)
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for something that is not a policy
 */
export function policyDump(policy: Policy, byteOrder: ByteOrder = "little"): PolicyDumpEntry[] {
  checkPolicy("netlink_policy_dump_add_policy", policy);
  if (byteOrder !== "little" && byteOrder !== "big")
    throw new KernelError("EINVAL", `byte order ${String(byteOrder)} is not little or big`, {
      op: "netlink_policy_dump_add_policy",
    });
  const table: { policy: Policy; maxType: number }[] = [];
  const add = (p: Policy | undefined, maxType: number) => {
    if (p === undefined || maxType === 0) return;
    if (!table.some((e) => e.policy === p && e.maxType === maxType)) table.push({ policy: p, maxType });
  };
  add(policy, policy.maxType);
  for (let i = 0; i < table.length; i++) {
    const { policy: p, maxType } = table[i]!;
    for (let type = 0; type <= maxType; type++) {
      const pt = p.attrs[type];
      if (pt !== undefined && (pt.type === "nested" || pt.type === "nested-array")) {
        if (pt.nested !== undefined) checkPolicy("netlink_policy_dump_add_policy", pt.nested);
        add(pt.nested, pt.nested?.maxType ?? 0);
      }
    }
  }
  const index: PolicyIndex = (p, maxType) => table.findIndex((e) => e.policy === p && e.maxType === maxType);
  const out: PolicyDumpEntry[] = [];
  table.forEach(({ policy: p, maxType }, policyIdx) => {
    for (let attrIdx = 0; attrIdx <= maxType; attrIdx++) {
      const pt = p.attrs[attrIdx];
      const attrs = pt === undefined ? [] : writePolicyAttr(pt, byteOrder, index);
      if (attrs.length > 0) out.push({ policyIdx, attrIdx, attrs });
    }
  });
  return out;
}
