// nlcodec: the command line of @kbridge/netlink-codec (Node only; the library itself never imports node:*).
//   nlcodec decode   <file.bin> [--lens file] [--proto route|generic|N] [--json]
//   nlcodec reencode <file.bin> [--lens file] [--proto …] -o out.bin
//   nlcodec hexdump  <file.bin> [--lens file] [--proto …]
//   nlcodec pcap     <file.bin> [--lens file] [--proto …] -o out.pcap
// Bad or truncated input gives one line naming the offset and field, and exit code 1.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { KernelError } from "@kbridge/uapi";
import { attrPathAt, decodeAck, decodeDone } from "./ack.js";
import { annotate, hexdump } from "./annotate.js";
import { nlctrlFamily, rtAddrFamily, rtLinkFamily, rtNeighFamily, rtRouteFamily } from "./families/index.js";
import {
  familyHeaderLength,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
  nlmsgFlagNames,
  parseDatagram,
} from "./nlmsg.js";
import { PACKET_HOST, writePcap } from "./pcap.js";
import { decodeRawMessages, encodeRawMessages, type RawAttr } from "./rawtree.js";
import { attrsToObject, type FamilyAttr, NetlinkFamily } from "./ynl/family.js";
import { loadSpec } from "./ynl/spec.js";

const USAGE = `usage: nlcodec <command> <file.bin> [options]

commands:
  decode     print every datagram's messages, rtnetlink and nlctrl attributes named and typed (--json for JSON)
  reencode   decode to raw trees and encode again; -o writes the result, and it must equal the input
  hexdump    every byte labelled with its field
  pcap       write a LINKTYPE_NETLINK pcap (-o out.pcap) that tshark and Wireshark dissect

options:
  --lens <file>      datagram lengths, one per line (default: <file>.lens beside <file>.bin, else one datagram)
  --proto <p>        route (0), generic (16) or a number: picks the family header sizes (default: route)
  --json             JSON output for decode
  --spec <f.yaml>    decode with a YNL family spec (attribute names and types); genetlink needs the family id:
  --family-id <n>    nlctrl's is 0x10, others are learned from a controller reply in the same capture
  --request <f.bin>  the request an ext-ack answers, to name the attribute its offset points at
                     (default: <file>.req.bin beside <file>.bin)
  -o, --output <f>   output file for reencode and pcap
  -h, --help         this text`;

class UsageError extends Error {}

function protocolOf(p: string | undefined): number {
  if (p === undefined || p === "route") return 0;
  if (p === "generic") return 16;
  const n = Number(p);
  if (!Number.isInteger(n) || n < 0 || n > 31)
    throw new UsageError(`--proto ${p}: expected route, generic or 0..31`);
  return n;
}

// A file beside a capture: `dump.lens` or `dump.req.bin` for `dump.bin`, when it exists.
function beside(file: string, ext: string): string | undefined {
  const path = `${file.slice(0, -4)}${ext}`;
  return file.endsWith(".bin") && existsSync(path) ? path : undefined;
}

// JSON with 64-bit values as decimal strings and bytes in hex.
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? hex(v) : v),
    2,
  );
}

function datagramsOf(file: string, lensFile: string | undefined): Uint8Array[] {
  const bin = new Uint8Array(readFileSync(file));
  const lensPath = lensFile ?? beside(file, ".lens");
  if (lensPath === undefined) return [bin];
  const lens = readFileSync(lensPath, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      const n = Number(l.trim());
      if (!Number.isInteger(n) || n <= 0)
        throw new UsageError(`${lensPath}:${i + 1}: "${l.trim()}" is not a datagram length`);
      return n;
    });
  const total = lens.reduce((a, b) => a + b, 0);
  if (total !== bin.length)
    throw new UsageError(`${lensPath}: the lengths add up to ${total}, ${file} has ${bin.length} bytes`);
  const out: Uint8Array[] = [];
  let off = 0;
  for (const n of lens) {
    out.push(bin.subarray(off, off + n));
    off += n;
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function attrJson(a: RawAttr): unknown {
  const type = a.rawType & 0x3fff;
  const flags = [a.rawType & 0x8000 ? "NESTED" : "", a.rawType & 0x4000 ? "NET_BYTEORDER" : ""].filter(
    Boolean,
  );
  return "children" in a
    ? { type, ...(flags.length ? { flags } : {}), attrs: a.children.map(attrJson) }
    : { type, ...(flags.length ? { flags } : {}), payload: hex(a.payload) };
}

function messageJson(m: NlMessage, raw: ReturnType<typeof decodeRawMessages>[number]): unknown {
  const base = {
    len: m.len,
    type: m.type,
    flags: nlmsgFlagNames(m.flags, m.type === NLMSG_ERROR ? "ack" : "other"),
    seq: m.seq,
    pid: m.pid,
  };
  if (m.type === NLMSG_ERROR) {
    const ack = decodeAck(m);
    return {
      ...base,
      error: ack.error,
      ...(ack.code ? { code: ack.code } : {}),
      ...(ack.extack
        ? {
            extack: {
              ...ack.extack,
              cookie: ack.extack.cookie && hex(ack.extack.cookie),
              policy: ack.extack.policy?.map(attrJson),
              unknown: ack.extack.unknown.map(attrJson),
            },
          }
        : {}),
    };
  }
  if (m.type === NLMSG_DONE) {
    const done = decodeDone(m);
    return { ...base, error: done.error, ...(done.code ? { code: done.code } : {}) };
  }
  return { ...base, header: hex(raw.fixed), attrs: raw.attrs.map(attrJson) };
}

// The bundled family that names a message's attributes: rtnetlink links, addresses, routes and neighbours by
// message type, the genetlink controller by its fixed id; undefined for the rest.
function bundledFamilies(protocol: number): (type: number) => NetlinkFamily | undefined {
  const made = new Map<string, NetlinkFamily>();
  const get = (key: string, make: () => NetlinkFamily) => {
    let f = made.get(key);
    if (f === undefined) {
      f = make();
      made.set(key, f);
    }
    return f;
  };
  return (type) => {
    if (protocol === 16) return type === 0x10 ? get("nlctrl", nlctrlFamily) : undefined;
    if (protocol !== 0) return undefined;
    if (type >= 16 && type <= 19) return get("link", rtLinkFamily);
    if (type >= 20 && type <= 23) return get("addr", rtAddrFamily);
    if (type >= 24 && type <= 27) return get("route", rtRouteFamily);
    if (type >= 28 && type <= 31) return get("neigh", rtNeighFamily);
    return undefined;
  };
}

// A value on one line: bytes in hex (long ones cut), nests and structs by their member names.
function short(v: unknown, depth = 0): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof Uint8Array)
    return v.length === 0
      ? "(empty)"
      : v.length <= 16
        ? `0x${hex(v)}`
        : `0x${hex(v.subarray(0, 16))}… (${v.length} bytes)`;
  if (Array.isArray(v)) {
    const names = v.map(
      (x: { name?: string; type?: number; index?: number; key?: number }) =>
        x.name ?? (x.index !== undefined ? `[${x.index}]` : x.key !== undefined ? `${x.key}` : `#${x.type}`),
    );
    return `{${names.join(", ")}}`;
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v);
    if (depth > 0 || entries.length > 6) return `{${entries.length} fields}`;
    return `{${entries.map(([k, x]) => `${k}=${short(x, depth + 1)}`).join(", ")}}`;
  }
  return String(v);
}

// A message decoded by a bundled family, or why it could not be (the raw view of it is printed anyway).
function typed(family: NetlinkFamily, m: NlMessage): ReturnType<NetlinkFamily["decode"]> | Error {
  try {
    return family.decode(m);
  } catch (e) {
    if (KernelError.is(e)) return e;
    throw e;
  }
}

// The attribute an ext-ack's NLMSGERR_ATTR_OFFS points at in the request: its path of types, named by the
// bundled family where it knows the top-level one ("mtu (type 4)", "type 18/2/1" inside nests).
function offendingAttr(
  request: Uint8Array,
  offs: number,
  protocol: number,
  familyOfType: (type: number) => NetlinkFamily | undefined,
): string | undefined {
  if (request.length < 16) return undefined;
  const type = request[4]! | (request[5]! << 8);
  let path: ReturnType<typeof attrPathAt>;
  try {
    path = attrPathAt(request, offs, familyHeaderLength(protocol, type));
  } catch {
    return undefined; // not a request we can walk: the offset alone is printed
  }
  if (path.length === 0) return undefined;
  const family = familyOfType(type);
  const set = family?.spec.attributeSets.get(family.operationOf(type)?.attributeSet ?? "");
  const name = set?.byValue.get(path[0]!.type)?.name;
  const types = path.map((p) => p.type).join("/");
  return name !== undefined && path.length === 1 ? `${name} (type ${types})` : `type ${types}`;
}

function describe(
  d: Uint8Array,
  i: number,
  protocol: number,
  familyOfType: (type: number) => NetlinkFamily | undefined,
  request?: Uint8Array,
): string[] {
  const lines = [`datagram ${i}: ${d.length} bytes`];
  const msgs = parseDatagram(d);
  const raws = decodeRawMessages(d, protocol);
  msgs.forEach((m, k) => {
    const flags = nlmsgFlagNames(m.flags, m.type === NLMSG_ERROR ? "ack" : "other").join("|") || "0";
    let extra = "";
    if (m.type === NLMSG_ERROR) {
      const ack = decodeAck(m);
      extra = ack.error === 0 ? " ack" : ` error ${ack.error} ${ack.code ?? ""}`;
      if (ack.extack?.msg) extra += ` "${ack.extack.msg}"`;
      if (ack.extack?.offs !== undefined) {
        extra += ` at offset ${ack.extack.offs} of the request`;
        const at =
          request === undefined ? undefined : offendingAttr(request, ack.extack.offs, protocol, familyOfType);
        if (at !== undefined) extra += `: ${at}`;
      }
    } else if (m.type === NLMSG_DONE) {
      const done = decodeDone(m);
      extra = done.error === 0 ? " done" : ` done with error ${done.error} ${done.code ?? ""}`;
    } else {
      extra = ` ${raws[k]!.attrs.length} attributes`;
    }
    lines.push(
      `  @${m.offset} type ${m.type} len ${m.len} flags ${flags} seq ${m.seq} pid ${m.pid}:${extra}`,
    );
    const family = m.type === NLMSG_ERROR || m.type === NLMSG_DONE ? undefined : familyOfType(m.type);
    if (family !== undefined) {
      const f = typed(family, m);
      if (f instanceof Error) lines.push(`    not a well-formed ${family.spec.name} message: ${f.message}`);
      else {
        const fixed = f.fixed === undefined ? "" : ` ${short(f.fixed)}`;
        lines.push(`    ${f.op?.name ?? `cmd ${f.cmd}`}${fixed}`);
        const attrs = f.attrs.map((a) => `${a.name ?? `#${a.type}`}=${short(a.value)}`);
        for (let j = 0; j < attrs.length; j += 4) lines.push(`      ${attrs.slice(j, j + 4).join("  ")}`);
      }
    }
  });
  return lines;
}

// A family from a spec file; a genetlink family's id comes from --family-id, nlctrl's fixed 0x10, or a
// CTRL_CMD_NEWFAMILY reply for that name in the capture.
function familyOf(
  specFile: string,
  familyId: string | undefined,
  datagrams: readonly Uint8Array[],
): NetlinkFamily {
  const spec = loadSpec(readFileSync(specFile, "utf8"));
  if (spec.protocol === "netlink-raw") return new NetlinkFamily(spec);
  if (familyId !== undefined) {
    const id = Number(familyId);
    if (!Number.isInteger(id) || id < 0x10 || id > 0xffff)
      throw new UsageError(`--family-id ${familyId}: expected 16..65535`);
    return new NetlinkFamily(spec, { familyId: id });
  }
  if (spec.name === "nlctrl") return new NetlinkFamily(spec);
  const ctrl = new NetlinkFamily(loadSpec(NLCTRL_MINIMAL));
  for (const d of datagrams) {
    for (const m of parseDatagram(d)) {
      if (m.type !== 0x10) continue;
      const o = attrsToObject(ctrl.decode(m).attrs as FamilyAttr[]);
      if (o["family-name"] === spec.name && typeof o["family-id"] === "number")
        return new NetlinkFamily(spec, { familyId: o["family-id"] });
    }
  }
  throw new UsageError(
    `no id for genetlink family ${spec.name}: pass --family-id (or capture a CTRL_CMD_GETFAMILY reply)`,
  );
}

// Just enough of the controller to learn a family's id from a NEWFAMILY reply.
const NLCTRL_MINIMAL = `
name: nlctrl
protocol: genetlink-legacy
attribute-sets:
  - name: ctrl-attrs
    attributes:
      - { name: family-id, type: u16, value: 1 }
      - { name: family-name, type: string }
operations:
  list:
    - { name: newfamily, value: 1, attribute-set: ctrl-attrs }
`;

/**
 * Runs the CLI with `argv` (without node and the script) and returns the exit code. Output goes to `out`,
 * errors as one line to `err`.
 */
export function main(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        lens: { type: "string" },
        proto: { type: "string" },
        json: { type: "boolean" },
        output: { type: "string", short: "o" },
        spec: { type: "string" },
        "family-id": { type: "string" },
        request: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help === true) {
      out(USAGE);
      return 0;
    }
    const [command, file, ...rest] = positionals;
    if (command === undefined || file === undefined || rest.length > 0) throw new UsageError(USAGE);
    if (!["decode", "reencode", "hexdump", "pcap"].includes(command)) {
      throw new UsageError(
        `unknown command "${command}" (decode, reencode, hexdump or pcap; --help for more)`,
      );
    }
    const protocol = protocolOf(values.proto);
    const datagrams = datagramsOf(file, values.lens);
    switch (command) {
      case "decode": {
        if (values.spec !== undefined) {
          const family = familyOf(values.spec, values["family-id"], datagrams);
          const json = datagrams.map((d) =>
            parseDatagram(d).map((m) => {
              if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE)
                return messageJson(m, decodeRawMessages(d, protocol)[0]!);
              if (family.spec.protocol !== "netlink-raw" && m.type !== family.familyId)
                return { type: m.type, note: "another family" };
              const f = family.decode(m);
              return {
                type: m.type,
                seq: m.seq,
                pid: m.pid,
                op: f.op?.name,
                cmd: f.cmd,
                ...(f.fixed ? { fixed: f.fixed } : {}),
                attrs: attrsToObject(f.attrs),
                ...(f.attrs.some((a) => a.name === undefined)
                  ? { unknown: f.attrs.filter((a) => a.name === undefined).map((a) => a.type) }
                  : {}),
              };
            }),
          );
          out(toJson(json));
          return 0;
        }
        if (values.json === true) {
          const familyOfType = bundledFamilies(protocol);
          const json = datagrams.map((d) => {
            const raws = decodeRawMessages(d, protocol);
            return parseDatagram(d).map((m, k) => {
              const base = messageJson(m, raws[k]!) as Record<string, unknown>;
              const family =
                m.type === NLMSG_ERROR || m.type === NLMSG_DONE ? undefined : familyOfType(m.type);
              if (family === undefined) return base;
              // Named and typed by the bundled family, beside the raw attributes.
              const f = typed(family, m);
              if (f instanceof Error)
                return { ...base, note: `not a well-formed ${family.spec.name} message: ${f.message}` };
              return {
                ...base,
                op: f.op?.name,
                ...(f.fixed ? { fixed: f.fixed } : {}),
                named: attrsToObject(f.attrs),
              };
            });
          });
          out(toJson(json));
        } else {
          // The request an ext-ack's offset points into: --request, else <file>.req.bin beside the capture.
          const requestPath = values.request ?? beside(file, ".req.bin");
          const request = requestPath === undefined ? undefined : new Uint8Array(readFileSync(requestPath));
          // One of each bundled family for the whole capture (loading a spec is the costly part).
          const familyOfType = bundledFamilies(protocol);
          datagrams.forEach((d, i) => {
            for (const l of describe(d, i, protocol, familyOfType, request)) out(l);
          });
        }
        return 0;
      }
      case "reencode": {
        const again = datagrams.map((d) => encodeRawMessages(decodeRawMessages(d, protocol)));
        const joined = Buffer.concat(again);
        if (values.output !== undefined) writeFileSync(values.output, joined);
        for (const [i, d] of datagrams.entries()) {
          const a = again[i]!;
          let first = -1;
          for (let k = 0; k < Math.max(a.length, d.length); k++) {
            if (a[k] !== d[k]) {
              first = k;
              break;
            }
          }
          if (first >= 0) {
            err(`nlcodec: ${file}: datagram ${i} re-encodes differently from byte ${first}`);
            return 1;
          }
        }
        out(`${datagrams.length} datagram(s), ${joined.length} bytes: re-encoded byte for byte`);
        return 0;
      }
      case "hexdump":
        datagrams.forEach((d, i) => {
          out(`datagram ${i} (${d.length} bytes, ${annotate(d, { protocol }).length} fields)`);
          out(hexdump(d, { protocol }));
        });
        return 0;
      case "pcap": {
        if (values.output === undefined) throw new UsageError("pcap needs -o <out.pcap>");
        for (const d of datagrams) parseDatagram(d); // refuse to write what is not netlink
        writeFileSync(
          values.output,
          writePcap(datagrams.map((data, i) => ({ protocol, pkttype: PACKET_HOST, micros: i, data }))),
        );
        out(`wrote ${values.output}: ${datagrams.length} datagram(s)`);
        return 0;
      }
    }
    return 2;
  } catch (e) {
    if (e instanceof UsageError) {
      err(e.message.startsWith("usage:") ? e.message : `nlcodec: ${e.message}`);
      return 2;
    }
    if (KernelError.is(e)) {
      err(`nlcodec: ${e.message}`);
      return 1;
    }
    const sys = e as NodeJS.ErrnoException;
    if (typeof sys?.code === "string" && sys.code.startsWith("ERR_PARSE_ARGS")) {
      err(`nlcodec: ${sys.message}`);
      return 2;
    }
    if (typeof sys?.code === "string" && typeof sys.message === "string") {
      err(`nlcodec: ${sys.message}`);
      return 1;
    }
    throw e;
  }
}
