// What the example prints: the errno of each of the article's mistakes as Linux gives it (rows N1–N9 of the
// review; N1, N2, N3, N6, N7, N8 were reproduced on a real 6.1 kernel), and the corrected case working.
import { describe, expect, it } from "vitest";
import { articleAsWritten, doneRight, netlinkClaims } from "../src/index.js";

describe("the article's netlink case as written", () => {
  const text = articleAsWritten().join("\n");

  it("N1: protocol 32 does not exist: insmod ENOMEM, socket() EPROTONOSUPPORT", () => {
    expect(text).toContain('init_module("netlink_custom") = -1 ENOMEM (Cannot allocate memory)');
    expect(text).toContain("socket failed: Protocol not supported");
  });

  it("N2: the 32-byte copy of a 30-byte literal is a fortify BUG; the module is stuck", () => {
    expect(text).toContain(
      "kernel BUG: detected buffer overflow in memcpy: 32 bytes read from a 30-byte object",
    );
    expect(text).toContain("the module stays COMING (rmmod: Device or resource busy)");
  });

  it("N3, N4: the broadcast from module_init is -ESRCH, and the model catches the free that follows", () => {
    expect(text).toContain("pr_err: netlink_broadcast failed: -3");
    expect(text).toMatch(
      /the model catches the second free: EFAULT: kfree_skb: use after free of skb#\d+ \(freed by consume_skb\)/,
    );
  });

  it("N5, N6: groups only sizes the protocol; a non-root bind to a group is EPERM", () => {
    expect(text).toContain("raised to 32");
    expect(text).toContain("bind failed: Operation not permitted");
  });

  it("N7, N8, N9: a 46-byte NLMSG_DONE in a 48-byte datagram from (0, 0x0); nl_pid 0 autobinds", () => {
    expect(text).toContain("type 3 (NLMSG_DONE), flags 0, nlmsg_len 46 in a 48-byte datagram");
    expect(text).toContain('"Device status changed: online"');
    expect(text).toContain("with error 1769366852");
    expect(text).toContain("source address (portid 0, groups 0x0)");
    expect(text).toMatch(/autobinds the socket to port \d+ \(its pid\)/);
  });
});

describe("the case done right", () => {
  const text = doneRight().join("\n");

  it("an unprivileged listener receives the multicast with its group; nothing is left after rmmod", () => {
    expect(text).toContain("reached nobody (-3, -ESRCH), treated as success");
    expect(text).toContain("the listener gets type 0x10, nlmsg_len 48 in 48 bytes:");
    expect(text).toContain('"Device status changed: online" from (portid 0, groups 0x1), PKTINFO group 1');
    expect(text).toContain("bind(0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000001}, 12) = 0");
    expect(text).toContain("rmmod: delete_module = 0; skbs alive: 0; netlink sockets left: 0");
  });
});

describe("the article's other netlink claims", () => {
  const text = netlinkClaims().join("\n");

  it("N10: the skb waits in the queue (rmem 832); the send limit is sk_sndbuf − 32 (EMSGSIZE), no sysctl", () => {
    expect(text).toContain("(rmem 832 of 212992)");
    expect(text).toContain("sendto(212961 bytes) = -1 Message too long");
  });

  it("N11: two messages in one skb arrive in one recvmsg; M22: nl_groups 5 is groups 1 and 3", () => {
    expect(text).toContain("48 bytes holding 2 messages, against 24 bytes and 1 message before");
    expect(text).toContain("bind(nl_groups = 5) joins groups 1 and 3,");
  });
});
