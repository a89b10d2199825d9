// Every scenario the model supports runs with a tiny count, delivers intact, and costs what the mechanism implies.
import { describe, expect, it } from "vitest";
import { MECHANISMS, PATTERNS, runModel, type Scenario, supported } from "../src/index.js";

const all: Scenario[] = MECHANISMS.flatMap((mechanism) =>
  PATTERNS.flatMap((pattern) =>
    [64, 4000].map((size) => ({
      mechanism,
      pattern,
      size,
      count: 3,
      samples: 2,
      receivers: pattern === "fan-out" ? 4 : 1,
    })),
  ),
).filter((s) => supported(s) === undefined);

describe("the model back end", () => {
  it("runs every supported scenario intact", () => {
    // Every mechanism has at least one pattern the model runs.
    expect(new Set(all.map((s) => s.mechanism))).toEqual(new Set(MECHANISMS));
    // One-way for all but multicast (10), ping-pong for the 6 with a way back, fan-out for all 11.
    expect(all.length).toBe(2 * 27);
    for (const s of all) {
      const r = runModel(s);
      expect(r.intact, `${s.mechanism} ${s.pattern} ${s.size}`).toBe(true);
      // Two timed samples (the warm-up is not one), summarized.
      expect(r.wall.n).toBe(2);
      expect(r.wall.min).toBeLessThanOrEqual(r.wall.median);
      expect(r.wall.median).toBeLessThanOrEqual(r.wall.max);
      expect(r.wall.max).toBeGreaterThan(0);
    }
  });

  it("counts what each mechanism implies, per message", () => {
    const one = (mechanism: Scenario["mechanism"], pattern: Scenario["pattern"] = "one-way", receivers = 1) =>
      runModel({ mechanism, pattern, size: 4000, count: 5, receivers });
    expect(one("pipe")).toMatchObject({ syscalls: 2, copies: 2, bytesCopied: 8000 });
    expect(one("pipe", "ping-pong")).toMatchObject({ syscalls: 4, copies: 4 });
    expect(one("fifo")).toMatchObject({ syscalls: 2, copies: 2, bytesCopied: 8000 });
    expect(one("fifo", "ping-pong")).toMatchObject({ syscalls: 4, copies: 4 });
    expect(one("unix-stream")).toMatchObject({ syscalls: 2, copies: 2 });
    expect(one("netlink")).toMatchObject({ syscalls: 2, copies: 2, bytesCopied: 8012 });
    expect(one("netlink-multicast", "fan-out", 8)).toMatchObject({ syscalls: 8, copies: 8 });
    expect(one("read")).toMatchObject({ syscalls: 1, copies: 1 });
    expect(one("ioctl")).toMatchObject({ syscalls: 1, copies: 1 });
    expect(one("mmap")).toMatchObject({ syscalls: 0, copies: 0, bytesCopied: 0 });
    expect(one("shm-futex")).toMatchObject({ syscalls: 2, copies: 0 });
    expect(one("sysfs")).toMatchObject({ syscalls: 3, copies: 1 });
    // Fan-out to 4: every unicast mechanism pays per receiver; multicast clones one skb (a copy out per receiver);
    // a mapping costs nothing; shared memory wakes all waiters with one FUTEX_WAKE.
    expect(one("pipe", "fan-out", 4)).toMatchObject({ syscalls: 8, copies: 8 });
    expect(one("netlink", "fan-out", 4)).toMatchObject({ syscalls: 8, copies: 8, bytesCopied: 4 * 8012 });
    expect(one("netlink-multicast", "fan-out", 4)).toMatchObject({ syscalls: 4, copies: 4 });
    expect(one("read", "fan-out", 4)).toMatchObject({ syscalls: 4, copies: 4 });
    expect(one("mmap", "fan-out", 4)).toMatchObject({ syscalls: 0, copies: 0 });
    expect(one("shm-futex", "fan-out", 4)).toMatchObject({ syscalls: 5, copies: 0 });
    expect(one("sysfs", "fan-out", 4)).toMatchObject({ syscalls: 12, copies: 4 });
  });

  it("4 MiB bulk transfers: a pipe or FIFO moves it in 64 KiB gulps (2 copies), a socket in send-buffer pieces, mmap copies nothing", () => {
    const pipe = runModel({ mechanism: "pipe", pattern: "one-way", size: 4 << 20, count: 1, samples: 1 });
    expect(pipe).toMatchObject({ intact: true, copies: 2, syscalls: 128 });
    const mmap = runModel({ mechanism: "mmap", pattern: "one-way", size: 4 << 20, count: 1, samples: 1 });
    expect(mmap).toMatchObject({ intact: true, copies: 0, syscalls: 0 });
    // A unix stream socket takes it in send-buffer-sized pieces; a FIFO like a pipe.
    const unix = runModel({
      mechanism: "unix-stream",
      pattern: "ping-pong",
      size: 4 << 20,
      count: 1,
      samples: 1,
    });
    expect(unix).toMatchObject({ intact: true, copies: 4 });
    expect(unix.syscalls).toBeGreaterThan(4);
    const fifo = runModel({ mechanism: "fifo", pattern: "one-way", size: 4 << 20, count: 1, samples: 1 });
    expect(fifo).toMatchObject({ intact: true, copies: 2, syscalls: 128 });
  });

  it("a run is a warm-up sample and the timed samples: the counted costs are the same per message", () => {
    // 3 × (4 + 1) messages: syscalls per message stay 2, whatever the number of samples.
    const r = runModel({ mechanism: "pipe", pattern: "one-way", size: 100, count: 3, samples: 4 });
    expect(r).toMatchObject({ syscalls: 2, bytesCopied: 200, intact: true });
    expect(r.wall.n).toBe(4);
    expect(r.wall.stable).toBe(r.wall.rme <= 5);
  });

  it("netlink multicast of sizes that are not a multiple of 4: the padded message arrives whole", () => {
    for (const size of [1, 63, 4001])
      expect(
        runModel({
          mechanism: "netlink-multicast",
          pattern: "fan-out",
          size,
          count: 2,
          samples: 1,
          receivers: 3,
        }),
        `size ${size}`,
      ).toMatchObject({ intact: true, syscalls: 3 });
  });

  it("refuses what a mechanism cannot do, and bad scenarios", () => {
    expect(() => supported(null as unknown as Scenario)).toThrow(/EINVAL.*scenario null is not an object/);
    expect(() => supported({ mechanism: "bogus" as "pipe", pattern: "one-way", size: 1, count: 1 })).toThrow(
      /EINVAL.*mechanism bogus/,
    );
    expect(supported({ mechanism: "mmap", pattern: "ping-pong", size: 64, count: 1 })).toMatch(/no way back/);
    expect(supported({ mechanism: "netlink-multicast", pattern: "one-way", size: 64, count: 1 })).toMatch(
      /multicast is fan-out/,
    );
    expect(() => runModel({ mechanism: "sysfs", pattern: "one-way", size: 5000, count: 1 })).toThrow(
      /at most 4095/,
    );
    expect(() => runModel({ mechanism: "pipe", pattern: "one-way", size: 0, count: 1 })).toThrow(/size 0/);
    expect(() => runModel({ mechanism: "pigeon" as "pipe", pattern: "one-way", size: 1, count: 1 })).toThrow(
      /pigeon/,
    );
    expect(() => runModel({ mechanism: "pipe", pattern: "one-way", size: 1, count: 1, samples: 0 })).toThrow(
      /samples 0 is not 1\.\.1000/,
    );
    expect(() =>
      runModel({ mechanism: "pipe", pattern: "one-way", size: 1, count: 1_000_000, samples: 1000 }),
    ).toThrow(/more than 10000000 messages/);
    expect(() =>
      runModel({ mechanism: "pipe", pattern: "fan-out", size: 1 << 20, count: 1, receivers: 65 }),
    ).toThrow(/receivers 65 × size 1048576 is more than the model's 64 MiB/);
    expect(() =>
      runModel({ mechanism: "pipe", pattern: "fan-out", size: 1, count: 1, receivers: 257 }),
    ).toThrow(/receivers 257 is not 1\.\.256/);
  });
});
