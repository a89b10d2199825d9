import { describe, expect, it } from "vitest";
import { I386, msghdr, nlmsgerr, pahole, struct, u8, u64, union } from "../src/index.js";

describe("pahole", () => {
  it("shows the hole after msg_namelen and the tail padding of struct msghdr on x86-64", () => {
    const out = pahole(msghdr.layout());
    expect(out.split("\n")).toEqual([
      "struct msghdr {",
      "\tptr                        msg_name;             /*     0     8 */",
      "\tu32                        msg_namelen;          /*     8     4 */",
      "",
      "\t/* XXX 4 bytes hole, try to pack */",
      "",
      "\tptr                        msg_iov;              /*    16     8 */",
      "\tsize_t                     msg_iovlen;           /*    24     8 */",
      "\tptr                        msg_control;          /*    32     8 */",
      "\tsize_t                     msg_controllen;       /*    40     8 */",
      "\ts32                        msg_flags;            /*    48     4 */",
      "",
      "\t/* size: 56, cachelines: 1, members: 7 */",
      "\t/* sum members: 48, holes: 1, sum holes: 4 */",
      "\t/* padding: 4 */",
      "\t/* last cacheline: 56 bytes */",
      "};",
    ]);
  });

  it("shows no hole for the same struct on i386", () => {
    const out = pahole(msghdr.layout(I386));
    expect(out).not.toContain("hole");
    expect(out).toContain("/* size: 28, cachelines: 1, members: 7 */");
  });

  it("names nested types and counts a one-byte hole", () => {
    expect(pahole(nlmsgerr.layout())).toContain("\tstruct nlmsghdr            msg;");
    const out = pahole(struct("odd", { a: u8, b: u8, c: struct("w", { x: u8 }, { aligned: 2 }) }).layout());
    expect(out).not.toContain("hole");
    expect(pahole(struct("h", { a: u8, b: struct("w2", { x: u8 }, { aligned: 4 }) }).layout())).toContain(
      "/* XXX 3 bytes hole, try to pack */",
    );
    expect(pahole(struct("one", { a: u8, b: struct("w1", { x: u8 }, { aligned: 2 }) }).layout())).toContain(
      "/* XXX 1 byte hole, try to pack */",
    );
  });

  it("lists union members without holes and spans several cachelines when large", () => {
    const u = union("u", { a: u8, b: u64 });
    expect(pahole(u.layout())).not.toContain("hole");
    const big = struct("big", { a: u64, pad: struct("p", { x: u8 }, { aligned: 128 }) });
    expect(pahole(big.layout())).toContain("/* size: 256, cachelines: 4, members: 2 */");
  });
});
