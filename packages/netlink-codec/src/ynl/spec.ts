// YNL family specs (the YAML of the kernel tree's Documentation/netlink/specs/, schemas genetlink*.yaml and
// netlink-raw.yaml) loaded into a checked, numbered description: attribute sets with their type numbers,
// operations with their command values, fixed headers, definitions and multicast groups.

import { KernelError } from "@kbridge/uapi";
import { parse as parseYaml } from "yaml";

/** The attribute types of YNL that this loader turns into codecs. */
export type YnlAttrType =
  | "u8"
  | "u16"
  | "u32"
  | "u64"
  | "s8"
  | "s16"
  | "s32"
  | "s64"
  | "uint"
  | "sint"
  | "string"
  | "binary"
  | "flag"
  | "nest"
  | "indexed-array"
  | "bitfield32"
  | "nest-type-value"
  | "sub-message"
  | "unused"
  | "pad";

/** One attribute of an attribute set, numbered. */
export interface YnlAttr {
  /** The spec's name, e.g. `'family-name'`. */
  readonly name: string;
  /** Its type number in the set. */
  readonly value: number;
  /** Its YNL type. */
  readonly type: YnlAttrType;
  /** `nested-attributes`: the set of a nest or of each indexed-array element. */
  readonly nestedAttributes?: string;
  /** `sub-type` of an indexed-array (`nest`, or a scalar). */
  readonly subType?: string;
  /** `byte-order: big-endian` for network-order integers. */
  readonly byteOrder?: "big-endian" | "little-endian";
  /** `struct`: a binary attribute laid out as this definition. */
  readonly struct?: string;
  /** `type-value` of a nest-type-value: the names of the levels whose types are values (`[policy-id, attr-id]`). */
  readonly typeValue?: readonly string[];
  /** `sub-message`: the name of the sub-message whose format the selector picks. */
  readonly subMessage?: string;
  /** `selector`: the sibling attribute whose value picks the sub-message format (e.g. `kind`). */
  readonly selector?: string;
}

/** A sub-message: formats picked by a selector value (e.g. IFLA_INFO_DATA by IFLA_INFO_KIND). */
export interface YnlSubMessage {
  /** Its name. */
  readonly name: string;
  /** The formats: a selector value with an attribute set and/or a fixed header. */
  readonly formats: readonly {
    readonly value: string | number;
    readonly attributeSet?: string;
    readonly fixedHeader?: string;
  }[];
}

/** An attribute set: its attributes by name and by value. */
export interface YnlAttrSet {
  /** The set's name. */
  readonly name: string;
  /** Attributes in spec order. */
  readonly attributes: readonly YnlAttr[];
  /** Attributes by type number. */
  readonly byValue: ReadonlyMap<number, YnlAttr>;
}

/** A struct definition: members with YNL scalar types (u8…u64, s8…s64, pad with len, binary with len). */
export interface YnlStruct {
  /** Its name. */
  readonly name: string;
  /** Members in order; `len` for pad and binary members. */
  readonly members: readonly {
    readonly name: string;
    readonly type: string;
    readonly len?: number;
    readonly byteOrder?: string;
  }[];
}

/** An operation, numbered. */
export interface YnlOperation {
  /** The spec's name, e.g. `'getfamily'`. */
  readonly name: string;
  /** The command value (genetlink cmd, or netlink-raw message type). */
  readonly value: number;
  /** The attribute set of its messages. */
  readonly attributeSet: string;
  /** The fixed header struct after nlmsghdr (netlink-raw) or after genlmsghdr, if any. */
  readonly fixedHeader?: string;
  /** Reply command value when it differs (`do: reply: value:`). */
  readonly replyValue?: number;
}

/** A loaded, checked family spec. */
export interface YnlFamily {
  /** The family name, e.g. `'nlctrl'`. */
  readonly name: string;
  /** `genetlink`, `genetlink-legacy` or `netlink-raw`. */
  readonly protocol: "genetlink" | "genetlink-legacy" | "netlink-raw";
  /** `protonum` of a netlink-raw family (0 for rtnetlink). */
  readonly protonum: number | undefined;
  /** `version`: the genetlink family version written in genlmsghdr (1 by default). */
  readonly version: number;
  /** The family's fixed header for all operations (`operations: fixed-header`). */
  readonly fixedHeader: string | undefined;
  /** Attribute sets by name. */
  readonly attributeSets: ReadonlyMap<string, YnlAttrSet>;
  /** Struct definitions by name. */
  readonly structs: ReadonlyMap<string, YnlStruct>;
  /** Sub-messages by name. */
  readonly subMessages: ReadonlyMap<string, YnlSubMessage>;
  /** Operations in spec order. */
  readonly operations: readonly YnlOperation[];
  /** Multicast groups by name (with their value when given). */
  readonly mcastGroups: readonly { readonly name: string; readonly value?: number }[];
}

const SUPPORTED = new Set<string>([
  "u8",
  "u16",
  "u32",
  "u64",
  "s8",
  "s16",
  "s32",
  "s64",
  "uint",
  "sint",
  "string",
  "binary",
  "flag",
  "nest",
  "indexed-array",
  "bitfield32",
  "nest-type-value",
  "sub-message",
  "unused",
  "pad",
]);
const KNOWN_BUT_UNSUPPORTED = new Set<string>();

// Keys of the kernel's schemas that only matter to C code generation or documentation: accepted, ignored.
const IGNORED = new Set([
  "doc",
  "c-name",
  "c-define-name",
  "c-family-name",
  "c-version-name",
  "header",
  "render-max",
  "enum-name",
  "name-prefix",
  "attr-cnt-name",
  "attr-max-name",
  "cmd-cnt-name",
  "cmd-max-name",
  "enum-cnt-name",
  "uapi-header",
  "kernel-family",
  "kernel-policy",
  "definitions-prefix",
  "checks",
  "display-hint",
  "dont-validate",
  "config-cond",
  "dump-strict",
  "enum-as-flags",
  "multi-attr",
  "subset-of",
  "max-dict",
  "td-name",
]);

function fail(path: string, detail: string): never {
  throw new KernelError("EINVAL", `${path}: ${detail}`, { op: "loadSpec" });
}

function obj(path: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    fail(path, `expected a mapping, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function list(path: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(path, `expected a list, got ${JSON.stringify(v)}`);
  return v;
}

function str(path: string, v: unknown): string {
  if (typeof v !== "string" || v === "") fail(path, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function int(path: string, v: unknown, max = 0xffff): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
    fail(path, `expected an integer 0..${max}, got ${JSON.stringify(v)}`);
  return v;
}

function keys(path: string, o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k) && !IGNORED.has(k)) fail(`${path}.${k}`, "unknown key");
  }
}

/**
 * Loads a YNL spec from its YAML text: checks every key against what the kernel's schemas allow (keys that only
 * matter to C code generation are accepted and ignored), numbers attributes (from 1, or `value`) and operations
 * (from 1, or `value`), and resolves nested attribute sets and structs.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL naming the key and its path for anything it does not understand
 */
export function loadSpec(yamlText: string): YnlFamily {
  if (typeof yamlText !== "string") fail("spec", "expected YAML text");
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (e) {
    fail("spec", `is not YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const root = obj("spec", doc);
  keys("spec", root, [
    "name",
    "protocol",
    "protonum",
    "version",
    "definitions",
    "attribute-sets",
    "operations",
    "mcast-groups",
    "sub-messages",
  ]);
  const name = str("spec.name", root.name);
  const protocol = (root.protocol ?? "genetlink") as YnlFamily["protocol"];
  if (!["genetlink", "genetlink-legacy", "netlink-raw"].includes(protocol))
    fail("spec.protocol", `unknown protocol ${JSON.stringify(protocol)}`);
  const protonum = root.protonum === undefined ? undefined : int("spec.protonum", root.protonum, 31);
  if (protocol === "netlink-raw" && protonum === undefined)
    fail("spec.protonum", "netlink-raw needs protonum");

  const structs = new Map<string, YnlStruct>();
  for (const [i, d] of list("spec.definitions", root.definitions ?? []).entries()) {
    const p = `spec.definitions[${i}]`;
    const def = obj(p, d);
    keys(p, def, ["name", "type", "members", "entries", "value", "value-start"]);
    const type = str(`${p}.type`, def.type);
    if (!["const", "enum", "flags", "struct"].includes(type))
      fail(`${p}.type`, `unknown definition type ${JSON.stringify(type)}`);
    if (type !== "struct") continue;
    const members = list(`${p}.members`, def.members).map((m, k) => {
      const mp = `${p}.members[${k}]`;
      const mo = obj(mp, m);
      keys(mp, mo, ["name", "type", "len", "byte-order", "enum"]);
      const t = str(`${mp}.type`, mo.type);
      if (!["u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "pad", "binary"].includes(t))
        fail(`${mp}.type`, `struct member type ${t} is not supported`);
      if ((t === "pad" || t === "binary") && mo.len === undefined) fail(`${mp}.len`, `${t} members need len`);
      return {
        name: str(`${mp}.name`, mo.name),
        type: t,
        ...(mo.len === undefined ? {} : { len: int(`${mp}.len`, mo.len, 0xffff) }),
        ...(mo["byte-order"] === undefined ? {} : { byteOrder: str(`${mp}.byte-order`, mo["byte-order"]) }),
      };
    });
    structs.set(str(`${p}.name`, def.name), { name: str(`${p}.name`, def.name), members });
  }

  const attributeSets = new Map<string, YnlAttrSet>();
  const rawSets = new Map<string, Record<string, unknown>[]>();
  for (const [i, s] of list("spec.attribute-sets", root["attribute-sets"] ?? []).entries()) {
    const p = `spec.attribute-sets[${i}]`;
    const so = obj(p, s);
    keys(p, so, ["name", "attributes", "subset-of"]);
    const setName = str(`${p}.name`, so.name);
    // A subset names attributes of another set, which give their type and value.
    const parent =
      so["subset-of"] === undefined ? undefined : rawSets.get(str(`${p}.subset-of`, so["subset-of"]));
    if (so["subset-of"] !== undefined && parent === undefined) {
      fail(`${p}.subset-of`, `no attribute set ${JSON.stringify(so["subset-of"])} before it`);
    }
    const merged = list(`${p}.attributes`, so.attributes).map((a, k) => {
      const own = obj(`${p}.attributes[${k}]`, a);
      const base = parent?.find((x) => x.name === own.name);
      if (parent !== undefined && base === undefined) {
        fail(`${p}.attributes[${k}].name`, `${JSON.stringify(own.name)} is not in the parent set`);
      }
      if (base === undefined) return own;
      // The parent's number, which a subset may not restate.
      const parentAttr = attributeSets
        .get(String(so["subset-of"]))
        ?.attributes.find((x) => x.name === own.name);
      return { ...base, value: parentAttr?.value, ...own };
    });
    rawSets.set(setName, merged);
    let next = 1;
    const attributes: YnlAttr[] = merged.map((ao, k) => {
      const ap = `${p}.attributes[${k}]`;
      keys(ap, ao, [
        "name",
        "type",
        "value",
        "nested-attributes",
        "sub-type",
        "byte-order",
        "struct",
        "len",
        "enum",
        "type-value",
        "sub-message",
        "selector",
      ]);
      const type = str(`${ap}.type`, ao.type);
      if (KNOWN_BUT_UNSUPPORTED.has(type)) fail(`${ap}.type`, `type ${type} is not supported yet`);
      if (!SUPPORTED.has(type)) fail(`${ap}.type`, `unknown attribute type ${JSON.stringify(type)}`);
      const value = ao.value === undefined ? next : int(`${ap}.value`, ao.value, 0x3fff);
      next = value + 1;
      const attr: YnlAttr = {
        name: str(`${ap}.name`, ao.name),
        value,
        type: type as YnlAttrType,
        ...(ao["nested-attributes"] === undefined
          ? {}
          : { nestedAttributes: str(`${ap}.nested-attributes`, ao["nested-attributes"]) }),
        ...(ao["sub-type"] === undefined ? {} : { subType: str(`${ap}.sub-type`, ao["sub-type"]) }),
        ...(ao["byte-order"] === undefined
          ? {}
          : { byteOrder: str(`${ap}.byte-order`, ao["byte-order"]) as YnlAttr["byteOrder"] }),
        ...(ao.struct === undefined ? {} : { struct: str(`${ap}.struct`, ao.struct) }),
        ...(ao["type-value"] === undefined
          ? {}
          : {
              typeValue: list(`${ap}.type-value`, ao["type-value"]).map((x, n) =>
                str(`${ap}.type-value[${n}]`, x),
              ),
            }),
        ...(ao["sub-message"] === undefined
          ? {}
          : { subMessage: str(`${ap}.sub-message`, ao["sub-message"]) }),
        ...(ao.selector === undefined ? {} : { selector: str(`${ap}.selector`, ao.selector) }),
      };
      if (
        type === "nest-type-value" &&
        (attr.typeValue === undefined || attr.nestedAttributes === undefined)
      ) {
        fail(ap, "a nest-type-value needs type-value and nested-attributes");
      }
      if (type === "sub-message" && (attr.subMessage === undefined || attr.selector === undefined)) {
        fail(ap, "a sub-message needs sub-message and selector");
      }
      if (
        (type === "nest" || (type === "indexed-array" && attr.subType === "nest")) &&
        attr.nestedAttributes === undefined
      ) {
        fail(`${ap}.nested-attributes`, `a ${type} needs nested-attributes`);
      }
      return attr;
    });
    attributeSets.set(setName, {
      name: setName,
      attributes,
      byValue: new Map(attributes.map((a) => [a.value, a])),
    });
  }
  const subMessages = new Map<string, YnlSubMessage>();
  for (const [i, m] of list("spec.sub-messages", root["sub-messages"] ?? []).entries()) {
    const p = `spec.sub-messages[${i}]`;
    const mo = obj(p, m);
    keys(p, mo, ["name", "formats"]);
    const formats = list(`${p}.formats`, mo.formats).map((f, k) => {
      const fp = `${p}.formats[${k}]`;
      const fo = obj(fp, f);
      keys(fp, fo, ["value", "attribute-set", "fixed-header"]);
      if (typeof fo.value !== "string" && typeof fo.value !== "number")
        fail(`${fp}.value`, "expected a string or a number");
      const set =
        fo["attribute-set"] === undefined ? undefined : str(`${fp}.attribute-set`, fo["attribute-set"]);
      if (set !== undefined && !attributeSets.has(set))
        fail(`${fp}.attribute-set`, `no attribute set ${JSON.stringify(set)}`);
      const fh = fo["fixed-header"] === undefined ? undefined : str(`${fp}.fixed-header`, fo["fixed-header"]);
      if (fh !== undefined && !structs.has(fh)) fail(`${fp}.fixed-header`, `no struct ${JSON.stringify(fh)}`);
      return {
        value: fo.value,
        ...(set === undefined ? {} : { attributeSet: set }),
        ...(fh === undefined ? {} : { fixedHeader: fh }),
      };
    });
    subMessages.set(str(`${p}.name`, mo.name), { name: str(`${p}.name`, mo.name), formats });
  }
  for (const set of attributeSets.values()) {
    for (const a of set.attributes) {
      if (a.subMessage !== undefined && !subMessages.has(a.subMessage)) {
        fail(
          `spec.attribute-sets.${set.name}.${a.name}.sub-message`,
          `no sub-message ${JSON.stringify(a.subMessage)}`,
        );
      }
      if (a.nestedAttributes !== undefined && !attributeSets.has(a.nestedAttributes)) {
        fail(
          `spec.attribute-sets.${set.name}.${a.name}.nested-attributes`,
          `no attribute set ${JSON.stringify(a.nestedAttributes)}`,
        );
      }
      if (a.struct !== undefined && !structs.has(a.struct))
        fail(`spec.attribute-sets.${set.name}.${a.name}.struct`, `no struct ${JSON.stringify(a.struct)}`);
    }
  }

  const ops = obj("spec.operations", root.operations ?? { list: [] });
  keys("spec.operations", ops, [
    "list",
    "enum-model",
    "fixed-header",
    "name-prefix",
    "async-prefix",
    "async-enum",
  ]);
  const fixedHeader =
    ops["fixed-header"] === undefined ? undefined : str("spec.operations.fixed-header", ops["fixed-header"]);
  if (fixedHeader !== undefined && !structs.has(fixedHeader))
    fail("spec.operations.fixed-header", `no struct ${JSON.stringify(fixedHeader)}`);
  let nextOp = 1;
  const prior: YnlOperation[] = [];
  const operations: YnlOperation[] = list("spec.operations.list", ops.list ?? []).map((o, i) => {
    const p = `spec.operations.list[${i}]`;
    const oo = obj(p, o);
    keys(p, oo, [
      "name",
      "value",
      "attribute-set",
      "fixed-header",
      "do",
      "dump",
      "notify",
      "event",
      "mcgrp",
      "flags",
    ]);
    const value = oo.value === undefined ? nextOp : int(`${p}.value`, oo.value);
    nextOp = value + 1;
    // A notification op (`notify: other-op`) shares the attribute set of the op it names.
    const notified = typeof oo.notify === "string" ? prior.find((x) => x.name === oo.notify) : undefined;
    const attributeSet =
      oo["attribute-set"] === undefined && notified !== undefined
        ? notified.attributeSet
        : str(`${p}.attribute-set`, oo["attribute-set"]);
    if (!attributeSets.has(attributeSet))
      fail(`${p}.attribute-set`, `no attribute set ${JSON.stringify(attributeSet)}`);
    let replyValue: number | undefined;
    for (const mode of ["do", "dump"] as const) {
      if (oo[mode] === undefined) continue;
      const m = obj(`${p}.${mode}`, oo[mode]);
      keys(`${p}.${mode}`, m, ["request", "reply", "pre", "post"]);
      // A family's spec lists what a message carries; the codec decodes any attribute of the set anyway.
      for (const part of ["request", "reply"] as const) {
        if (m[part] === undefined) continue;
        const r = obj(`${p}.${mode}.${part}`, m[part]);
        keys(`${p}.${mode}.${part}`, r, ["attributes", "value"]);
        if (part === "reply" && r.value !== undefined) replyValue = int(`${p}.${mode}.reply.value`, r.value);
      }
    }
    const fh = oo["fixed-header"] === undefined ? fixedHeader : str(`${p}.fixed-header`, oo["fixed-header"]);
    const op: YnlOperation = {
      name: str(`${p}.name`, oo.name),
      value,
      attributeSet,
      ...(fh === undefined ? {} : { fixedHeader: fh }),
      ...(replyValue === undefined ? {} : { replyValue }),
    };
    prior.push(op);
    return op;
  });

  const mcastGroups: { name: string; value?: number }[] = [];
  if (root["mcast-groups"] !== undefined) {
    const mg = obj("spec.mcast-groups", root["mcast-groups"]);
    keys("spec.mcast-groups", mg, ["list"]);
    for (const [i, g] of list("spec.mcast-groups.list", mg.list).entries()) {
      const go = obj(`spec.mcast-groups.list[${i}]`, g);
      keys(`spec.mcast-groups.list[${i}]`, go, ["name", "value"]);
      mcastGroups.push({
        name: str(`spec.mcast-groups.list[${i}].name`, go.name),
        ...(go.value === undefined
          ? {}
          : { value: int(`spec.mcast-groups.list[${i}].value`, go.value, 0xffffffff) }),
      });
    }
  }
  const version = root.version === undefined ? 1 : int("spec.version", root.version, 0xff);
  return {
    name,
    protocol,
    protonum,
    version,
    fixedHeader,
    attributeSets,
    structs,
    subMessages,
    operations,
    mcastGroups,
  };
}
