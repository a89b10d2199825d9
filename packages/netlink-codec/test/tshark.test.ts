// Interop: tshark (Wireshark's dissector) reads the pcaps writePcap writes and finds the same messages.
// Needs Debian's tshark (`apt-get install -y tshark`; .ci/run installs it); skipped where it is missing.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readJsonLines, readVector } from "../../../test-support/vectors.js";
import { parseDatagram, writePcap } from "../src/index.js";

function hasTshark(): boolean {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

interface Capture {
  file: string;
  protocol: number;
  datagram_lengths: number[];
}

describe.runIf(hasTshark())("tshark", () => {
  it.each([
    "netns1000-getaddr-dump.bin",
    "netns1000-genl-ctrl-getfamily-nlctrl.bin",
    "netns1000-extack-policy-mtu-u16.bin",
  ])("dissects every message of %s as written by writePcap", (file) => {
    const c = readJsonLines<Capture>("netlink", "manifest.jsonl").find((x) => x.file === file)!;
    const bin = new Uint8Array(readVector("netlink", file));
    let off = 0;
    const datagrams = c.datagram_lengths.map((n) => {
      const d = bin.subarray(off, off + n);
      off += n;
      return d;
    });
    const dir = mkdtempSync(join(tmpdir(), "kbridge-pcap-"));
    try {
      const path = join(dir, "capture.pcap");
      writeFileSync(path, writePcap(datagrams.map((data, i) => ({ protocol: c.protocol, micros: i, data }))));
      const out = execFileSync(
        "tshark",
        ["-r", path, "-T", "fields", "-E", "separator=|", "-E", "aggregator=;", "-e", "netlink.hdr_len"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      );
      // One line per datagram: the nlmsg_len of every header tshark dissected, an ack's echoed request included.
      const seen = out
        .trim()
        .split("\n")
        .map((line) => line.split(";").map(Number));
      expect(seen).toHaveLength(datagrams.length);
      datagrams.forEach((d, i) => {
        const ours = parseDatagram(d).map((m) => m.len);
        const theirs = seen[i]!;
        // Our messages, in order, are a subsequence of what tshark shows.
        let k = 0;
        for (const len of theirs) if (k < ours.length && len === ours[k]) k++;
        expect(k).toBe(ours.length);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
