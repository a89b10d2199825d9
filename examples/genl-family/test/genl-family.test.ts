// What the example prints: the family resolved by name, and the kernel's exact answer to each bad request.
import { describe, expect, it } from "vitest";
import { genlFamilyLines } from "../src/index.js";

describe("a generic netlink family with a policy", () => {
  const text = genlFamilyLines().join("\n");

  it("registers with the first dynamic id and the first free group id, resolved by name through nlctrl", () => {
    expect(text).toContain('genl_register_family("kb_sensor") took id 19, group "events" id 2');
    expect(text).toContain('CTRL_CMD_GETFAMILY "kb_sensor" → family id 19, group "events" = 2');
  });

  it("answers bad requests with the validator's errno, message, offset and policy", () => {
    expect(text).toContain(
      'GET id 0 → error -34 ERANGE, "integer out of range", at offset 20, policy: u32 in 1..16',
    );
    expect(text).toContain('GET id as 2 bytes → error -22 EINVAL, "invalid attribute length", at offset 20');
    expect(text).toContain('GET with attribute 9 → error -22 EINVAL, "Unknown attribute type", at offset 28');
    expect(text).toContain("policy: nul-string of at most 15 bytes");
    expect(text).toContain('GET without an id → error -22 EINVAL, "sensor id missing", missing attribute 1');
    expect(text).toContain("command 7 → error -95 EOPNOTSUPP");
    expect(text).toContain("SET rate 50 as uid 1000 → error -1 EPERM");
    expect(text).toContain("family id 119 → error -2 ENOENT");
  });

  it("a privileged SET is acked and multicast to the group; after rmmod the family is gone", () => {
    expect(text).toContain(
      'root: SET id 3 rate 50 → ack 0; the "events" listener (joined: 0) got cmd 3 with rate 50',
    );
    expect(text).toContain('GET id 3 → reply: id 3, name "temp3", rate 50');
    expect(text).toContain('rmmod kb_sensor = 0; GETFAMILY "kb_sensor" now → -2 (ENOENT');
  });
});
