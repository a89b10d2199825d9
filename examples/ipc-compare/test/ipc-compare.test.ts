// The comparison table is computed from what the model counts; these are the numbers Linux's mechanisms imply.
import { describe, expect, it } from "vitest";
import { COUNT, compare, compareLines, MESSAGE } from "../src/index.js";

describe("the article's comparison table, computed", () => {
  const rows = Object.fromEntries(compare().map((r) => [r.mechanism, r]));

  it("every mechanism delivered every message intact", () => {
    for (const r of Object.values(rows)) expect(r.intact, r.mechanism).toBe(true);
    expect(Object.keys(rows)).toHaveLength(9);
  });

  it("pipe and unix socket: 2 system calls and 2 copies of the data per message", () => {
    for (const m of ["pipe", "unix stream socket"]) {
      expect(rows[m]).toMatchObject({ syscalls: 2, copies: 2, bytes: 2 * MESSAGE });
    }
  });

  it("netlink: 2 copies between processes (plus the 12-byte address), 1 from the kernel (plus its 16-byte header)", () => {
    expect(rows["netlink, process to process"]).toMatchObject({
      syscalls: 2,
      copies: 2,
      bytes: 2 * MESSAGE + 12,
    });
    expect(rows["netlink, kernel multicast"]).toMatchObject({ syscalls: 1, copies: 1, bytes: MESSAGE + 16 });
  });

  it("read() and ioctl: 1 call and 1 copy; mmap: nothing; shared memory: no copy, 2 futex calls", () => {
    expect(rows["read() of a device"]).toMatchObject({ syscalls: 1, copies: 1, bytes: MESSAGE });
    expect(rows["ioctl of a device"]).toMatchObject({ syscalls: 1, copies: 1, bytes: MESSAGE });
    expect(rows["mmap of a device page"]).toMatchObject({ syscalls: 0, copies: 0, bytes: 0 });
    expect(rows["shared memory + futex"]).toMatchObject({ syscalls: 2, copies: 0, bytes: 4 });
  });

  it("sysfs: open, read, close and one copy, not the article's 2 through a page cache", () => {
    expect(rows["sysfs attribute"]).toMatchObject({ syscalls: 3, copies: 1 });
    expect(rows["sysfs attribute"]!.article).toBe("2 (page cache)");
  });

  it("prints the table", () => {
    const text = compareLines().join("\n");
    expect(text).toContain(`${COUNT} messages of ${MESSAGE} bytes`);
    expect(text).toMatch(/pipe +2 +2 +8000 +2 +pipe buffer pages/);
  });
});
