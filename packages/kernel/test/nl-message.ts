// A request as a test writes it by hand: nlmsghdr (nlmsg_pid 0) + payload, padded to 4 bytes.
export function message(type: number, flags: number, seq: number, payload = new Uint8Array(0)): Uint8Array {
  const len = 16 + payload.length;
  const m = new Uint8Array((len + 3) & ~3);
  const dv = new DataView(m.buffer);
  dv.setUint32(0, len, true);
  dv.setUint16(4, type, true);
  dv.setUint16(6, flags, true);
  dv.setUint32(8, seq, true);
  m.set(payload, 16);
  return m;
}
