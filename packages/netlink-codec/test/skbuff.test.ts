import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import {
  EMSGSIZE,
  NlWriter,
  nlaNestEnd,
  nlaNestStart,
  nlaPut,
  nlaPutString,
  nlaPutU32,
  nlmsgAppend,
  nlmsgEnd,
  nlmsgLen,
  nlmsgNew,
  nlmsgPut,
  nlmsgTrim,
  parseDatagram,
  SKB_SIZES_X86_64,
  SkBuff,
  SkbHeadCache,
} from "../src/index.js";

function kernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (err) {
    expect(KernelError.is(err), String(err)).toBe(true);
    return err as KernelError;
  }
  throw new Error("expected a KernelError");
}

describe("sizes, as __alloc_skb computes them", () => {
  it("a 216-byte netlink message costs 832 bytes of truesize (measured on 6.18)", () => {
    const skb = SkBuff.alloc(216);
    expect([skb.truesize, skb.end, skb.tailroom, skb.len, skb.users, skb.dataref]).toEqual([
      832, 256, 256, 0, 1, 1,
    ]);
  });

  it("NLMSG_GOODSIZE messages fill a 4 KiB kmalloc: 3776 usable bytes", () => {
    const skb = nlmsgNew(3760); // NLMSG_DEFAULT_SIZE
    expect([skb.end, skb.truesize]).toEqual([3776, 3776 + 256 + 320]);
    expect(SkBuff.alloc(3777).end).toBe(8192 - 320);
    expect(SkBuff.alloc(20000).end).toBe(32768 - 320);
    expect(kernelError(() => SkBuff.alloc(5 << 20)).code).toBe("ENOMEM");
  });
});

describe("geometry", () => {
  it("reserve, put, push, pull and trim move data and tail as the kernel does", () => {
    const skb = SkBuff.alloc(100);
    skb.reserve(16);
    expect([skb.headroom, skb.len]).toEqual([16, 0]);
    expect(skb.putData(Uint8Array.of(1, 2, 3))).toBe(16);
    expect(skb.push(4)).toBe(12);
    expect(skb.len).toBe(7);
    expect(skb.pull(8)).toBeNull(); // more than len: nothing changes
    expect(skb.pull(4)).toBe(16);
    expect([...skb.bytes()]).toEqual([1, 2, 3]);
    skb.trim(1);
    expect([...skb.bytes()]).toEqual([1]);
    expect(kernelError(() => skb.reserve(1)).message).toMatch(/skb_reserve needs an empty skb/);
  });

  it("running off either end is skb_over_panic / skb_under_panic", () => {
    const skb = SkBuff.alloc(10);
    expect(kernelError(() => skb.put(skb.end + 1)).message).toMatch(
      /^EINVAL: skb_over_panic: len:0 put:257 head:0 data:0 tail:0x0 end:0x100 dev:<NULL> \(skb#\d+\)$/,
    );
    expect(kernelError(() => skb.push(1)).message).toMatch(/skb_under_panic: len:0 put:1/);
  });
});

describe("references", () => {
  it("clones share the data until the last one goes; copies do not", () => {
    const a = SkBuff.alloc(64);
    a.putData(Uint8Array.of(9));
    const b = a.clone();
    expect([a.cloned, b.cloned, a.dataref]).toEqual([true, true, 2]);
    a.buffer[0] = 7;
    expect(b.bytes()[0]).toBe(7);
    const c = a.copy();
    a.buffer[0] = 5;
    expect(c.bytes()[0]).toBe(7);
    expect(a.free()).toBe(true);
    expect([b.dataref, b.cloned]).toEqual([1, false]);
    expect(b.consume()).toBe(true);
    expect(c.free()).toBe(true);
  });

  it("skb_get holds the skb across a free; a second free is caught by name", () => {
    const skb = SkBuff.alloc(8);
    skb.get();
    expect([skb.shared, skb.free(), skb.freed]).toEqual([true, false, false]);
    expect(skb.consume()).toBe(true);
    const e = kernelError(() => skb.free());
    expect(e.code).toBe("EFAULT");
    expect(e.message).toBe(`EFAULT: kfree_skb: use after free of skb#${skb.id} (freed by consume_skb)`);
    expect(kernelError(() => skb.put(1)).message).toMatch(/skb_put: use after free/);
  });

  it("skb_unclone gives a private copy", () => {
    const a = SkBuff.alloc(8);
    a.putData(Uint8Array.of(1));
    const b = a.clone();
    b.unclone();
    b.buffer[0] = 2;
    expect([a.bytes()[0], a.dataref, b.dataref]).toEqual([1, 1, 1]);
  });
});

describe("netlink builders on an skb", () => {
  it("write the same bytes as NlWriter", () => {
    const skb = nlmsgNew(64);
    const nlh = nlmsgPut(skb, 5562, 1, 16, 16, 2)!;
    skb.buffer.fill(0, nlh + 16, nlh + 32); // nlmsg_put does not zero the payload area
    expect(nlaPutString(skb, 3, "lo")).toBe(0);
    const nest = nlaNestStart(skb, 18)!;
    expect(nlaPutU32(skb, 1, 7)).toBe(0);
    nlaNestEnd(skb, nest);
    nlmsgEnd(skb, nlh);
    const w = new NlWriter();
    w.beginMessage({ type: 16, flags: 2, seq: 1, pid: 5562 });
    w.putStruct(new Uint8Array(16));
    w.putString(3, "lo");
    const n = w.nestStart(18);
    w.putU32(1, 7);
    w.nestEnd(n);
    w.endMessage();
    expect(skb.bytes()).toEqual(w.finish());
    expect(parseDatagram(skb.bytes())[0]!.len).toBe(nlmsgLen(skb, nlh));
  });

  it("run out of room as the kernel does: NULL from nlmsg_put, -EMSGSIZE from nla_put, the skb unchanged", () => {
    const skb = SkBuff.alloc(0); // the small-head cache still gives 256 bytes
    expect(nlmsgPut(skb, 0, 0, 16, 300, 0)).toBeNull();
    const nlh = nlmsgPut(skb, 0, 0, 16, 0, 0)!;
    const before = skb.len;
    expect(nlaPut(skb, 1, new Uint8Array(300))).toBe(EMSGSIZE);
    expect(skb.len).toBe(before);
    expect(nlmsgAppend(skb, 1000)).toBeNull();
    expect(nlmsgAppend(skb, 5)).toBe(16);
    expect(skb.len).toBe(24);
    nlmsgEnd(skb, nlh);
    expect(nlmsgLen(skb, nlh)).toBe(24);
    nlmsgTrim(skb, nlh);
    expect(skb.len).toBe(0);
  });
});

describe("skb->cb and the head cache", () => {
  it("clone and copy get their own copy of cb", () => {
    const skb = SkBuff.alloc(64);
    skb.cb = { portid: 7 };
    const c = skb.clone();
    const d = skb.copy();
    (c.cb as { portid: number }).portid = 8;
    expect(skb.cb).toEqual({ portid: 7 });
    expect(d.cb).toEqual({ portid: 7 });
    expect(d.cb).not.toBe(skb.cb);
  });

  it("a freed head returns to its cache, zeroed on reuse, and `active` counts the live ones", () => {
    const cache = new SkbHeadCache();
    const a = SkBuff.alloc(100, SKB_SIZES_X86_64, cache);
    a.putData(Uint8Array.of(1, 2, 3));
    const clone = a.clone();
    expect(cache.active).toBe(1);
    a.free();
    expect(cache.active).toBe(1); // the clone still holds the data
    const head = clone.buffer;
    clone.consume();
    expect([cache.active, cache.size]).toEqual([0, 1]);
    const b = SkBuff.alloc(100, SKB_SIZES_X86_64, cache);
    expect(b.buffer).toBe(head);
    expect(Array.from(b.buffer.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(cache.active).toBe(1);
    expect(() => new SkbHeadCache(-1)).toThrow(/not a count/);
  });
});
