import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import { readDatagrams } from "../../../test-support/vectors.js";
import { DumpReader, NLM_F, NLMSG_DONE, NlWriter, readDump, readDumpAsync } from "../src/index.js";

function message(
  type: number,
  flags: number,
  seq: number,
  pid: number,
  payload = new Uint8Array(4),
): Uint8Array {
  const w = new NlWriter();
  w.beginMessage({ type, flags, seq, pid });
  w.putStruct(payload);
  w.endMessage();
  return w.finish();
}

function kernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (err) {
    expect(KernelError.is(err), String(err)).toBe(true);
    return err as KernelError;
  }
  throw new Error("expected a KernelError");
}

describe("dumps", () => {
  it("read the 1001-link dump datagram by datagram, ending at NLMSG_DONE", () => {
    const ds = readDatagrams("netns1000-getlink-dump.bin");
    const pid = new DataView(ds[0]!.buffer, ds[0]!.byteOffset).getUint32(12, true);
    const r = new DumpReader({ seq: 1, portid: pid });
    let n = 0;
    for (const d of ds) n += r.push(d).length;
    expect([n, r.messages, r.done, r.interrupted]).toEqual([1001, 1001, true, false]);
    expect(kernelError(() => r.push(ds[0]!)).message).toMatch(/already complete/);
  });

  it("readDump and readDumpAsync yield the same messages", async () => {
    const ds = readDatagrams("netns1000-getaddr-dump.bin");
    const sync = [...readDump(ds, { seq: 2 })].map((m) => m.offset);
    const async: number[] = [];
    async function* source() {
      for (const d of ds) yield d;
    }
    for await (const m of readDumpAsync(source(), { seq: 2 })) async.push(m.offset);
    expect(sync).toHaveLength(2502);
    expect(async).toEqual(sync);
  });

  it("check seq and port id as mnl_cb_run does (0 on either side matches anything)", () => {
    const d = message(16, NLM_F.MULTI, 7, 100);
    expect(kernelError(() => new DumpReader({ seq: 8 }).push(d))).toMatchObject({ code: "EPROTO" });
    expect(kernelError(() => new DumpReader({ portid: 101 }).push(d))).toMatchObject({ code: "ESRCH" });
    expect(new DumpReader({ seq: 0, portid: 0 }).push(d)).toHaveLength(1);
    expect(new DumpReader({ seq: 7 }).push(message(16, NLM_F.MULTI, 0, 100))).toHaveLength(1);
  });

  it("surface the error a dump ends with in NLMSG_DONE, which libmnl and npm netlink drop", () => {
    const done = message(NLMSG_DONE, NLM_F.MULTI, 1, 5, Uint8Array.from([0xf0, 0xff, 0xff, 0xff])); // -EBUSY
    const e = kernelError(() => [...readDump([message(16, NLM_F.MULTI, 1, 5), done])]);
    expect(e.code).toBe("EBUSY");
    expect(e.message).toBe("EBUSY: netlink dump: the dump ended with an error in NLMSG_DONE");
  });

  it("fail with the kernel's refusal, ext-ack message included", () => {
    const w = new NlWriter();
    w.beginMessage({ type: 2, flags: NLM_F.CAPPED | NLM_F.ACK_TLVS, seq: 1, pid: 5 });
    w.putStruct(
      Uint8Array.from([0xea, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 0x12, 0, 0x01, 0x03, 1, 0, 0, 0, 0, 0, 0, 0]),
    );
    w.putString(1, "Invalid header for link dump");
    w.endMessage();
    const e = kernelError(() => new DumpReader({ seq: 1 }).push(w.finish()));
    expect(e.message).toBe(
      'EINVAL: netlink dump: the kernel refused the dump request ("Invalid header for link dump")',
    );
  });

  it("flag NLM_F_DUMP_INTR, or throw EINTR like libmnl when asked", () => {
    const intr = message(16, NLM_F.MULTI | NLM_F.DUMP_INTR, 1, 5);
    const done = message(NLMSG_DONE, NLM_F.MULTI | NLM_F.DUMP_INTR, 1, 5);
    const r = new DumpReader();
    expect(r.push(intr)).toHaveLength(1);
    r.push(done);
    expect([r.done, r.interrupted]).toEqual([true, true]);
    expect(kernelError(() => new DumpReader({ onInterrupted: "throw" }).push(intr)).code).toBe("EINTR");
  });

  it("refuse a stream that ends without NLMSG_DONE, and messages after it", () => {
    expect(kernelError(() => [...readDump([message(16, NLM_F.MULTI, 1, 5)])]).message).toMatch(
      /ended after 1 messages without NLMSG_DONE/,
    );
    const both = new Uint8Array([
      ...message(NLMSG_DONE, NLM_F.MULTI, 1, 5),
      ...message(16, NLM_F.MULTI, 1, 5),
    ]);
    expect(kernelError(() => new DumpReader().push(both)).code).toBe("EPROTO");
    expect(kernelError(() => new DumpReader({ seq: -1 }))).toMatchObject({ code: "EINVAL" });
  });
});
