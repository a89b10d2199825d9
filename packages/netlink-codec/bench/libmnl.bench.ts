// Against libmnl (C), the reference netlink parser, doing libmnl's idiomatic work on the real 1001-link dump
// (vectors/netlink/netns1000-getlink-dump): per datagram mnl_cb_run() with the seq and port id checked, per
// message the top-level attributes parsed into a table, IFLA_IFNAME/IFLA_MTU/IFLA_TXQLEN validated and read.
// The C side (bench/libmnl/walk.c) is built with gcc when Debian's libmnl-dev is installed
// (`apt-get install -y gcc libmnl-dev`), else its figure is skipped.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MsgCursor, NLMSG_DONE, NLMSG_ERROR } from "../src/index.js";

const dir = new URL("../../../vectors/netlink/", import.meta.url);
const binPath = fileURLToPath(new URL("netns1000-getlink-dump.bin", dir));
const lensPath = fileURLToPath(new URL("netns1000-getlink-dump.lens", dir));
const bin = new Uint8Array(readFileSync(binPath));
const lens = readFileSync(lensPath, "utf8").trim().split("\n").map(Number);
const datagrams: Uint8Array[] = [];
for (let off = 0, i = 0; i < lens.length; off += lens[i]!, i++)
  datagrams.push(bin.subarray(off, off + lens[i]!));
const dv = new DataView(bin.buffer, bin.byteOffset);
const seq = dv.getUint32(8, true);
const portid = dv.getUint32(12, true);
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_TXQLEN = 13;
const IFLA_MAX = 66;
const tb = new Int32Array(IFLA_MAX + 1); // offsets of the last attribute of each type, as libmnl's table

/** The same work in TypeScript: the checks of mnl_cb_run, a table per message, validation, the values. */
function kbridgeWalk(): number {
  let checksum = 0;
  for (const d of datagrams) {
    const m = new MsgCursor(d);
    while (m.next()) {
      if ((m.pid !== 0 && m.pid !== portid) || (m.seq !== 0 && m.seq !== seq))
        throw new Error("foreign reply");
      if (m.type === NLMSG_DONE || m.type === NLMSG_ERROR) continue;
      tb.fill(-1);
      const a = m.attrs(16);
      while (a.next()) {
        const type = a.type;
        if (type > IFLA_MAX) continue;
        if ((type === IFLA_MTU || type === IFLA_TXQLEN) && a.payloadLength !== 4) throw new Error("bad u32");
        if (type === IFLA_IFNAME && a.payloadLength === 0) throw new Error("bad string");
        tb[type] = a.offset;
      }
      if (tb[IFLA_IFNAME]! >= 0) checksum += d[tb[IFLA_IFNAME]!]! - 5; // strlen: nla_len - 4 - NUL
      if (tb[IFLA_MTU]! >= 0)
        checksum += new DataView(d.buffer, d.byteOffset).getUint32(tb[IFLA_MTU]! + 4, true);
      if (tb[IFLA_TXQLEN]! >= 0)
        checksum += new DataView(d.buffer, d.byteOffset).getUint32(tb[IFLA_TXQLEN]! + 4, true);
    }
  }
  return checksum;
}

// Builds and runs the C harness once; undefined when gcc or libmnl is missing.
function libmnl(): number | undefined {
  if (!existsSync("/usr/include/libmnl/libmnl.h")) return undefined;
  try {
    const exe = join(mkdtempSync(join(tmpdir(), "kbridge-libmnl-")), "walk");
    execFileSync(
      "gcc",
      ["-O2", "-o", exe, fileURLToPath(new URL("libmnl/walk.c", import.meta.url)), "-lmnl"],
      { stdio: "ignore" },
    );
    const [perSecond, messages, checksum] = execFileSync(exe, [binPath, lensPath, "2"], { encoding: "utf8" })
      .trim()
      .split(" ")
      .map(Number);
    if (messages !== 1001 || checksum === undefined) return undefined;
    return perSecond;
  } catch {
    return undefined;
  }
}

export default {
  group: "vs libmnl (C): mnl_cb_run + mnl_attr_parse + validate + read",
  work: { bytes: bin.length, messages: 1002 },
  tasks: { "kbridge MsgCursor + AttrCursor, the same work": kbridgeWalk },
  external: { "libmnl 1.0.4, gcc -O2 (baseline)": libmnl },
  compare: [
    { name: "kbridge MsgCursor + AttrCursor, the same work", baseline: "libmnl 1.0.4, gcc -O2 (baseline)" },
  ],
};
