// The host back end on this machine's real mechanisms, with tiny counts (no timing assertions: only that each
// scenario ran, produced its samples, recorded where it ran, and — when pinned — gave the process its CPUs back).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HOST_SCENARIOS, hostCopy, hostSupported, runHost } from "../src/host.js";

const allowed = () => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const cpuCount = (allowed() ?? "0").split(",").reduce((n, r) => {
  const [a, b = a] = r.split("-").map(Number) as [number, number?];
  return n + b - a + 1;
}, 0);

describe("the host back end", () => {
  it("runs every host scenario (each pattern, two sizes) and summarizes its samples", {
    timeout: 60_000,
  }, async () => {
    let runs = 0;
    for (const h of HOST_SCENARIOS)
      for (const pattern of h.patterns)
        for (const size of h.mechanism === "sysfs" ? [16, 64] : [64, 4096]) {
          const what = `${h.mechanism} ${pattern} ${size}`;
          const r = await runHost({
            mechanism: h.mechanism,
            pattern,
            size,
            count: 5,
            samples: 2,
            receivers: 3,
          });
          runs++;
          expect(r.ns.n, what).toBe(2);
          expect(r.ns.median, what).toBeGreaterThan(0);
          expect(r.ns.min, what).toBeLessThanOrEqual(r.ns.max);
          expect(r.placement.pinned, what).toBeUndefined();
          expect(r.placement.self === undefined || Number.isInteger(r.placement.self), what).toBe(true);
          // Two sides: the peer's CPU is recorded too.
          if (pattern === "ping-pong") expect(Number.isInteger(r.placement.peer), what).toBe(true);
          expect(r.note.length, what).toBeGreaterThan(10);
        }
    expect(runs).toBe(2 * 13);
  });

  it.skipIf(!hasTaskset || cpuCount < 2)(
    "pins both sides to one CPU or to two with taskset, and gives the process its CPUs back",
    { timeout: 60_000 },
    async () => {
      const before = allowed();
      for (const mechanism of ["pipe", "unix-stream", "shm-futex"] as const) {
        const same = await runHost(
          { mechanism, pattern: "ping-pong", size: 64, count: 5, samples: 2 },
          { pin: "same" },
        );
        expect(same.placement.pinned).toBe("same");
        expect(same.placement.peer, mechanism).toBe(same.placement.self);
        const split = await runHost(
          { mechanism, pattern: "ping-pong", size: 64, count: 5, samples: 2 },
          { pin: "split" },
        );
        expect(split.placement.pinned).toBe("split");
        expect(split.placement.peer, mechanism).not.toBe(split.placement.self);
        expect(allowed()).toBe(before);
      }
    },
  );

  it("a peer process that dies mid-run fails the run with EIO; nothing waits forever", {
    timeout: 60_000,
  }, async () => {
    const run = runHost({ mechanism: "pipe", pattern: "ping-pong", size: 64, count: 1_000_000, samples: 5 });
    // Find this process's benchmark peers (their command line carries the peer program) and kill them.
    const peers = () =>
      readdirSync(`/proc/${process.pid}/task`)
        .flatMap((t) => readFileSync(`/proc/${process.pid}/task/${t}/children`, "utf8").trim().split(/\s+/))
        .filter((p) => p !== "")
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("const serve");
          } catch {
            return false;
          }
        });
    let victims: string[] = [];
    for (let i = 0; i < 100 && victims.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      victims = peers();
    }
    expect(victims.length).toBeGreaterThan(0);
    for (const p of victims) process.kill(Number(p), "SIGKILL");
    await expect(run).rejects.toThrow(/EIO: runHost: the peer process exited \(null\) during the run/);
  });

  it("a real 4 MiB copy_to_user (pread from tmpfs)", async () => {
    const s = await hostCopy(4 << 20, 2, 2);
    expect(s.n).toBe(2);
    expect(s.median).toBeGreaterThan(0);
    await expect(hostCopy(0, 1)).rejects.toThrow(/size 0/);
    await expect(hostCopy(64, 1, 0)).rejects.toThrow(/samples 0/);
  });

  it("refuses what Node cannot reach, saying why, and bad counts", async () => {
    const s = (mechanism: Parameters<typeof hostSupported>[0]["mechanism"], pattern = "one-way" as const) =>
      hostSupported({ mechanism, pattern, size: 64, count: 1 });
    expect(s("mmap")).toMatch(/cannot mmap/);
    expect(s("unix-dgram")).toMatch(/node:dgram is UDP only/);
    expect(s("netlink")).toMatch(/AF_NETLINK/);
    expect(s("ioctl")).toMatch(/ioctl/);
    expect(hostSupported({ mechanism: "shm-futex", pattern: "one-way", size: 64, count: 1 })).toMatch(
      /runs ping-pong, fan-out on the host/,
    );
    expect(hostSupported({ mechanism: "sysfs", pattern: "one-way", size: 65, count: 1 })).toMatch(/up to 64/);
    expect(hostSupported({ mechanism: "read", pattern: "one-way", size: 64, count: 1 }, "split")).toMatch(
      /one side/,
    );
    await expect(runHost({ mechanism: "netlink", pattern: "one-way", size: 64, count: 1 })).rejects.toThrow(
      /EOPNOTSUPP/,
    );
    await expect(runHost({ mechanism: "pipe", pattern: "ping-pong", size: 64, count: 0 })).rejects.toThrow(
      /count 0/,
    );
    await expect(
      runHost({ mechanism: "pipe", pattern: "ping-pong", size: 64, count: 1 }, { pin: "sideways" as "same" }),
    ).rejects.toThrow(/pin sideways/);
    for (const receivers of [0, 1.5, 33])
      await expect(
        runHost({ mechanism: "pipe", pattern: "fan-out", size: 64, count: 1, receivers }),
      ).rejects.toThrow(new RegExp(`EINVAL.*receivers ${receivers} is not 1\\.\\.32`));
    await expect(runHost(null as unknown as Parameters<typeof runHost>[0])).rejects.toThrow(/EINVAL/);
    expect(() =>
      hostSupported({ mechanism: "pigeon" as "pipe", pattern: "one-way", size: 1, count: 1 }),
    ).toThrow(/EINVAL.*mechanism pigeon/);
  });
});
