import { beforeAll, describe, expect, it } from "vitest";
import { runTour, stops } from "../src/tour.js";

function run(full: boolean): string[] {
  const lines: string[] = [];
  runTour((l) => lines.push(l), { full });
  return lines;
}

// The tour runs once in each form (every stop boots kernels and moves megabytes); the tests read the same output.
const printed = { brief: [] as string[], full: [] as string[] };
beforeAll(() => {
  printed.brief = run(false);
  printed.full = run(true);
}, 120_000);
const output = (full = true) => (full ? printed.full : printed.brief);

describe("the tour", () => {
  it("runs every stop and numbers them, in brief and in full", () => {
    for (const full of [false, true]) {
      const out = output(full);
      stops.forEach((s, i) => {
        expect(out).toContain(`${i + 1}. ${s.title}`);
      });
    }
  });

  it("the default tour is the brief one: a few screens, every mistake still named with what Linux answered", () => {
    const brief = output(false);
    const full = output(true);
    expect(brief.length).toBeLessThan(240);
    expect(brief.length).toBeLessThan(full.length - 60);
    expect(brief.at(-1)).toMatch(/--full` prints every line of every stop/);
    // Every case the full tour names (N1…, M6…) is named in the brief too.
    const ids = (lines: string[]) =>
      lines.map((l) => /^ {3}([NM]\d+) /.exec(l)?.[1]).filter((x) => x !== undefined);
    expect(new Set(ids(brief))).toEqual(new Set(ids(full)));
    const text = brief.join("\n");
    expect(text).toContain("As written (12 of the article's mistakes;");
    expect(text).toContain('→ init_module("netlink_custom") = -1 ENOMEM (Cannot allocate memory)');
    expect(text).toContain("→ bind failed: Operation not permitted");
    expect(text).toContain("As written (13 of the article's mistakes;");
    expect(text).toContain("→ mmap(8 MiB) = -1 Invalid argument — the driver's check");
    expect(text).toContain("with a 4-byte hole after msg_namelen, so msg_iov is at 16");
    expect(text).not.toContain("/* XXX 4 bytes hole, try to pack */");
    // The trace is cut like strace -s cuts strings.
    expect(brief.filter((l) => l.startsWith("     [pid")).every((l) => l.length <= 121)).toBe(true);
  });

  it("shows uapi's decoded ioctl, laid-out struct and explained errno", () => {
    const text = output().join("\n");
    expect(text).toContain("ioctl request 0x80685600 decodes to _IOR('V', 0x00, 104)");
    expect(text).toContain("rebuilds it from the struct's size: 0x80685600");
    expect(text).toContain("/* XXX 4 bytes hole, try to pack */");
    expect(text).toContain("the same struct from a 32-bit program is 28 bytes with msg_iov at 8, not 16");
    expect(text).toContain("0xc0387801 vs 0xc01c7801");
    expect(text).toContain('a system call returned -14: EFAULT, which glibc prints as "Bad address"');
    expect(text).toContain("EFAULT: read: copy_to_user could not write 16 bytes at 0x10");
    expect(text).toContain('ENOTTY (25, "Inappropriate ioctl for device")');
  });

  it("shows netlink-codec building a request and decoding a real kernel reply", () => {
    const text = output().join("\n");
    expect(text).toContain("18 00 00 00 16 00 01 03 02 00 00 00 00 00 00 00   nlmsghdr");
    expect(text).toContain("RTM_NEWADDR inet  127.0.0.1/8");
    expect(text).toContain("RTM_NEWADDR inet6 fe80::fc:ff:fe00:1/64        ifindex 4");
    expect(text).toContain("NLMSG_DONE (flags MULTI): the dump is complete");
    expect(text).toContain(
      "RTM_SETLINK lo with a 2-byte IFLA_MTU; the kernel answered NLMSG_ERROR -34 (ERANGE):",
    );
    expect(text).toContain("offset 32 in the request is IFLA_MTU (attribute type 4)");
    expect(text).toContain("wrote 272 bytes of pcap (LINKTYPE_NETLINK 253, 2 datagrams: 40 B, 144 B);");
    expect(text).toContain("the policy it failed: u32 in 0..4294967295");
    expect(text).toContain(
      "EBADMSG: parseDatagram: at offset 0: nlmsg_len 40: runs past the end of the datagram (20 bytes left)",
    );
  });

  it("shows vmm's page-table walk, a copy-on-write fault and a short copy_to_user", () => {
    const text = output().join("\n");
    expect(text).toContain("MAP_PRIVATE|MAP_ANONYMOUS) = 0x7ffff7ffd000");
    expect(text).toMatch(/pte\[509\] @ 0x[0-9a-f]+ += 8000000000[0-9a-f]{6} {2}NX D A US RW P/);
    expect(text).toContain("read-only (NX D A US P)");
    expect(text).toContain('and the parent still reads "hello" (cow copies: 1)');
    expect(text).toContain("copy_to_user(0x7ffff7ffdfa0, kbuf, 256) = 160:");
    expect(text).toContain("SIGSEGV (SEGV_MAPERR) at 0x7ffff7ffe000");
    expect(text).toContain("every frame is free again: yes");
  });

  it("shows dma-device's maskless device and the honest §5.3 comparison", () => {
    const text = output().join("\n");
    expect(text).toContain("dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)) = -5");
    expect(text).toContain("dma_alloc_coherent(dev, 4 MiB) = NULL");
    expect(text).toContain("WARN_ON_ONCE(!dev->coherent_dma_mask)");
    expect(text).toContain("then copy_to_user: 4 MiB copied, 1 user/kernel crossing per transfer");
    expect(text).toContain("(dma_mmap_coherent): 0 bytes copied, 0 crossings");
    expect(text).toContain("the process reads 0x5a through its mapping");
    expect(text).toContain('is 38× slower than that, so its "15× faster" comes from');
  });

  it("shows chrdev's device, ioctl and the refused rmmod while mapped", () => {
    const text = output().join("\n");
    expect(text).toContain('register_chrdev(0, "sensor", &fops) took the dynamic major 254');
    expect(text).toContain("holds 2 references on the module");
    expect(text).toContain('= 0; read() = 8: "rate=50"');
    expect(text).toContain("ioctl(fd, 0x5401) = -25 (TCGETS means nothing to this driver: -ENOTTY)");
    expect(text).toContain('delete_module("sensor") = -11 (Resource temporarily unavailable)');
    expect(text).toContain(
      'after munmap: delete_module("sensor") = 0, and /proc/devices lists 0 character devices.',
    );
  });

  it("shows the kernel's ext-ack through system calls, the notification and the trace", () => {
    const text = output().join("\n");
    expect(text).toContain(
      'RTM_SETLINK lo with a 2-byte IFLA_MTU → NLMSG_ERROR -34 (ERANGE) "Attribute failed policy validation", offset 32',
    );
    expect(text).toContain("the same with 4 bytes (mtu 1500) → ack 0");
    expect(text).toMatch(/got type 16 \(RTM_NEWLINK\), \d+ bytes, from port 0 group mask 1/);
    expect(text).toContain("lo's mtu is now 1500");
    expect(text).toContain(
      "[pid 1000] bind(0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000001}, 12) = 0",
    );
    expect(text).toMatch(/\[pid 1001\] recvmsg\(0, \{msg_name=\{sa_family=AF_NETLINK, nl_pid=0, .*\) = 144/);
  });

  it("shows the article's netlink case as written, each mistake with Linux's errno, then done right", () => {
    const text = output().join("\n");
    expect(text).toContain('init_module("netlink_custom") = -1 ENOMEM (Cannot allocate memory)');
    expect(text).toContain("kernel BUG: detected buffer overflow in memcpy");
    expect(text).toContain("bind failed: Operation not permitted");
    expect(text).toContain("rmmod: delete_module = 0; skbs alive: 0; netlink sockets left: 0");
  });

  it("shows the generic netlink family's extended acks", () => {
    const text = output().join("\n");
    expect(text).toContain(
      'GET id 0 → error -34 ERANGE, "integer out of range", at offset 20, policy: u32 in 1..16',
    );
    expect(text).toContain("SET rate 50 as uid 1000 → error -1 EPERM");
  });

  it("shows the article's DMA + mmap device as written and done right", () => {
    const text = output().join("\n");
    expect(text).toContain('init_module("dma_mmap_dev") = -1 ENOMEM (Cannot allocate memory)');
    expect(text).toContain(
      "mmap(4 KiB at offset 4 KiB, inside the 4 MiB buffer) = -1 No such device or address",
    );
    expect(text).toContain("after munmap: delete_module = 0");
    expect(text).toContain("0 bytes copied, 0 uaccess calls");
  });

  it("shows the computed comparison table", () => {
    const text = output().join("\n");
    expect(text).toMatch(/netlink, kernel multicast +1 +1 +4016/);
    expect(text).toMatch(/sysfs attribute +3 +1 /);
  });

  it("ends with the benchmark kit's quick comparison", () => {
    const out = output();
    const text = out.join("\n");
    expect(text).toContain(
      "kbridge-bench run --quick on the model: system calls / copies of the data per message",
    );
    expect(text).toMatch(/pipe +2\/2 +2\/2 +2\/2/);
    expect(text).toMatch(/mmap +0\/0 +0\/0 +0\/0/);
    expect(text).toMatch(/netlink +2\/2 +2\/2 +2\/2 +8\/8/);
    expect(text).toMatch(/netlink-multicast +— +— +— +4\/4/);
    expect(text).toMatch(/shm-futex +2\/0 +2\/0 +2\/0 +5\/0/);
  });
});
