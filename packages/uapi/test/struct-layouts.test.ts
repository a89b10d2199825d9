// Every struct of vectors/uapi/struct-layouts.json (offsets from gcc, x86-64) declared with the DSL.
import { describe, expect, it } from "vitest";
import { readJsonVector } from "../../../test-support/vectors.js";
import {
  cmsghdr,
  dma_buf_sync,
  file_clone_range,
  genlmsghdr,
  glibc_termios,
  I386,
  ifaddrmsg,
  ifinfomsg,
  iovec,
  kvm_regs,
  msghdr,
  nlattr,
  nlmsgerr,
  nlmsghdr,
  pollfd,
  rtattr,
  rtmsg,
  type StructType,
  sockaddr_nl,
  termios,
  termios2,
  timespec,
  v4l2_capability,
  winsize,
} from "../src/index.js";

interface LayoutVector {
  structs: {
    struct: string;
    header: string;
    size: number;
    align: number;
    fields: { name: string; offset: number; size: number }[];
  }[];
}

const vector = readJsonVector<LayoutVector>("uapi", "struct-layouts.json");

// biome-ignore lint/suspicious/noExplicitAny: a table of differently typed struct types
const declared: Record<string, StructType<any>> = {
  "struct nlmsghdr": nlmsghdr,
  "struct nlattr": nlattr,
  "struct nlmsgerr": nlmsgerr,
  "struct sockaddr_nl": sockaddr_nl,
  "struct genlmsghdr": genlmsghdr,
  "struct rtattr": rtattr,
  "struct ifinfomsg": ifinfomsg,
  "struct ifaddrmsg": ifaddrmsg,
  "struct rtmsg": rtmsg,
  "struct iovec": iovec,
  "struct msghdr": msghdr,
  "struct cmsghdr": cmsghdr,
  "struct winsize": winsize,
  "struct termios2": termios2,
  "struct v4l2_capability": v4l2_capability,
  "struct kvm_regs": kvm_regs,
  "struct pollfd": pollfd,
  "struct timespec": timespec,
  "struct file_clone_range": file_clone_range,
  "struct dma_buf_sync": dma_buf_sync,
};

function typeFor(s: LayoutVector["structs"][number]) {
  // Two structs are called `struct termios`: the kernel's (TCGETS) and glibc's (termios.h).
  if (s.struct === "struct termios") return s.header.startsWith("termios.h") ? glibc_termios : termios;
  const t = declared[s.struct];
  if (t === undefined) throw new Error(`no DSL declaration for ${s.struct}`);
  return t;
}

describe("struct layouts against gcc (x86-64 LP64)", () => {
  it("covers all 22 structs of the vector", () => {
    expect(vector.structs).toHaveLength(22);
    expect(new Set(vector.structs.map(typeFor)).size).toBe(22);
  });

  it.each(vector.structs.map((s) => [`${s.struct} (${s.header})`, s] as const))("%s", (_label, s) => {
    const t = typeFor(s);
    expect(t.size).toBe(s.size);
    expect(t.align).toBe(s.align);
    expect(t.fields.map(({ name, offset, size }) => ({ name, offset, size }))).toEqual(s.fields);
    for (const f of s.fields) expect(t.offsetof(f.name)).toBe(f.offset);
  });
});

describe("the same structs on i386 (ILP32), where pointers, long and size_t are 4 bytes", () => {
  it("shrinks the pointer-bearing structs as compat_* does", () => {
    expect(iovec.layout(I386).size).toBe(8); // struct compat_iovec
    expect(msghdr.layout(I386).size).toBe(28); // struct compat_msghdr
    expect(msghdr.layout(I386).fields.map((f) => f.offset)).toEqual([0, 4, 8, 12, 16, 20, 24]);
    expect(cmsghdr.layout(I386).size).toBe(12); // struct compat_cmsghdr
    expect(timespec.layout(I386).size).toBe(8); // struct old_timespec32
  });

  it("aligns u64 to 4, so structs of u64 keep their size but lose alignment", () => {
    expect(kvm_regs.layout(I386)).toMatchObject({ size: 144, align: 4 });
    expect(file_clone_range.layout(I386)).toMatchObject({ size: 32, align: 4 });
  });

  it("leaves structs of fixed-width types alone", () => {
    for (const t of [nlmsghdr, nlmsgerr, sockaddr_nl, ifinfomsg, rtmsg, termios, termios2, v4l2_capability]) {
      expect(t.layout(I386).size).toBe(t.size);
    }
  });
});
