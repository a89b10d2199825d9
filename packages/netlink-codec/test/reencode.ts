// The check both family test files make of every captured message: decode it, encode the decoded values
// again (header fields as captured), and compare with the bytes the kernel sent.
import type { FamilyMessage, NetlinkFamily, NlMessage } from "../src/index.js";

/** Whether `m` (a message of datagram `d`) re-encodes byte for byte from `decoded`, its decode by `family`. */
export function reencodesExactly(
  family: NetlinkFamily,
  d: Uint8Array,
  m: NlMessage,
  decoded: FamilyMessage,
): boolean {
  const again = family.encode({
    cmd: decoded.cmd,
    version: decoded.version,
    flags: m.flags,
    seq: m.seq,
    pid: m.pid,
    fixed: decoded.fixed,
    attrs: decoded.attrs,
  });
  return Buffer.from(again).equals(Buffer.from(d.subarray(m.offset, m.offset + m.len)));
}
