// The host back end on this machine's real mechanisms, with tiny counts (no timing assertions: only that each
// scenario ran, produced samples and recorded where it ran).
import { describe, expect, it } from "vitest";
import { HOST_SCENARIOS, hostSupported, runHost } from "../src/host.js";

describe("the host back end", () => {
  it("runs every host scenario and summarizes its samples", { timeout: 60_000 }, async () => {
    for (const h of HOST_SCENARIOS) {
      const r = await runHost({ ...h, size: 64, count: 20 });
      expect(r.ns.n, h.mechanism).toBeGreaterThanOrEqual(20);
      expect(r.ns.median, h.mechanism).toBeGreaterThan(0);
      expect(r.ns.min).toBeLessThanOrEqual(r.ns.p99);
      expect(r.placement.self === undefined || Number.isInteger(r.placement.self)).toBe(true);
    }
  });

  it("refuses what it does not run", async () => {
    expect(hostSupported({ mechanism: "mmap", pattern: "one-way", size: 64, count: 1 })).toMatch(
      /host back end runs/,
    );
    await expect(runHost({ mechanism: "netlink", pattern: "one-way", size: 64, count: 1 })).rejects.toThrow(
      /EOPNOTSUPP/,
    );
    await expect(runHost({ mechanism: "pipe", pattern: "ping-pong", size: 64, count: 0 })).rejects.toThrow(
      /count 0/,
    );
  });
});
