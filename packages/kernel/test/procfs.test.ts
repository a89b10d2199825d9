// seq_file, /proc and sysfs attributes through the system calls: large files read in small chunks give the whole
// text exactly once, then EOF; /proc/self; permissions and write errors; a sysfs attribute's show / store, its
// EACCES rules and ENODEV after removal.
import { O_RDONLY, O_RDWR, O_WRONLY } from "@kbridge/chrdev";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import type { KFile } from "../src/fs/file.js";
import { sysfs_emit } from "../src/fs/procfs.js";
import { SeqFile } from "../src/fs/seq-file.js";
import { Kernel, Libc } from "../src/index.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | -1) => (b === -1 ? "<-1>" : new TextDecoder().decode(b));

function readAll(p: Libc, fd: number, chunk: number): { text: string; reads: number } {
  let text = "";
  let reads = 0;
  for (;;) {
    const b = p.read(fd, chunk) as Uint8Array | -1;
    if (b === -1) throw new Error(`read failed: errno ${p.errno}`);
    reads++;
    if (b.length === 0) return { text, reads };
    expect(b.length).toBeLessThanOrEqual(chunk);
    text += dec(b);
  }
}

describe("seq_file", () => {
  it("1000 records read 7 bytes at a time give the text exactly once; lseek re-walks; the buffer doubles", () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `record ${i}\n`);
    const big = "B".repeat(10000);
    const m = new SeqFile<number>({
      start: (_m, pos) => (pos.value <= 1000 ? pos.value : null),
      next: (_m, _v, pos) => (++pos.value <= 1000 ? pos.value : null),
      show: (sf, v) => {
        sf.puts(v === 1000 ? `${big}\n` : lines[v]!);
        return 0;
      },
    });
    const file = { pos: 0 } as KFile;
    let out = "";
    const mk = (n: number) => {
      const got: Uint8Array[] = [];
      return {
        get count() {
          return n - got.reduce((s, b) => s + b.length, 0);
        },
        copyOut(src: Uint8Array) {
          const c = src.slice(0, this.count);
          got.push(c);
          return c.length;
        },
        copyIn: () => 0,
        text: () => got.map((b) => dec(b)).join(""),
      };
    };
    for (;;) {
      const it = mk(7);
      const r = m.read(file, it);
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThanOrEqual(7);
      if (r === 0) break;
      out += it.text();
    }
    expect(out).toBe(`${lines.join("")}${big}\n`);
    expect(m.size).toBe(16384); // the 10001-byte record needed 4096 → 8192 → 16384
    expect(m.lseek(file, 0, 2)).toBe(-22); // SEEK_END
    expect(m.lseek(file, 9, 0)).toBe(9);
    const it = mk(10);
    expect(m.read(file, it)).toBe(10);
    expect(it.text()).toBe("record 1\nr"); // byte 9 is where record 1 starts
  });
});

describe("/proc", () => {
  function boot() {
    const k = new Kernel();
    // /proc is mounted at boot (Kernel's constructor).
    return k;
  }

  it("/proc/<pid>/maps with many mappings, read in 13-byte pieces, equals mm.maps(); EOF after; /proc/self", () => {
    const k = boot();
    const p = new Libc(k, k.spawn({ uid: 1000 }));
    for (let i = 0; i < 300; i++) {
      // PROT alternates so that no two neighbours merge
      expect(p.mmap(0, 4096, i % 2 ? PROT_READ : 0, MAP_PRIVATE | MAP_ANONYMOUS, -1)).toBeGreaterThan(0);
    }
    const fd = p.open(`/proc/${p.task.pid}/maps`, O_RDONLY) as number; // (its malloc maps the heap first)
    const want = p.task.mm.maps();
    expect(want.length).toBeGreaterThan(4096 * 3);
    expect(fd).toBeGreaterThanOrEqual(0);
    const { text, reads } = readAll(p, fd, 13);
    expect(text).toBe(want);
    expect(reads).toBe(Math.ceil(want.length / 13) + 1);
    expect(p.read(fd, 100)).toEqual(new Uint8Array(0));
    const self = p.open("/proc/self/maps", O_RDONLY) as number;
    expect(readAll(p, self, 4096).text).toBe(want);
    expect(p.open("/proc/99999/maps", O_RDONLY)).toBe(-1);
    expect(p.errno).toBe(2);
    expect(p.open("/proc/self/nothing", O_RDONLY)).toBe(-1);
    expect(p.errno).toBe(2);
  });

  it("another user's maps is EACCES; root's write is EINVAL; a task that exited reads as empty", () => {
    const k = boot();
    const p = new Libc(k, k.spawn({ uid: 1000 }));
    const q = new Libc(k, k.spawn({ uid: 1001 }));
    const root = new Libc(k, k.spawn());
    expect(q.open(`/proc/${p.task.pid}/maps`, O_RDONLY)).toBe(-1);
    expect(q.errno).toBe(13);
    const fd = root.open(`/proc/${p.task.pid}/maps`, O_RDWR) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(root.write(fd, enc("x"))).toBe(-1);
    expect(root.errno).toBe(22);
    k.exit(p.task);
    expect(root.read(fd, 100)).toEqual(new Uint8Array(0));
    expect(root.open(`/proc/${p.task.pid}/maps`, O_RDONLY)).toBe(-1);
    expect(root.errno).toBe(2);
  });

  it("/proc/devices, /proc/modules, /proc/net/netlink: the registries' text; writes EACCES or EIO", () => {
    const k = boot();
    k.chrdevs.register_chrdev(0, "sensor", {});
    const p = new Libc(k, k.spawn({ uid: 1000 }));
    const root = new Libc(k, k.spawn());
    expect(readAll(p, p.open("/proc/devices", O_RDONLY) as number, 5).text).toBe(k.chrdevs.procDevices());
    expect(k.chrdevs.procDevices()).toContain("sensor");
    expect(readAll(p, p.open("/proc/modules", O_RDONLY) as number, 5).text).toBe(k.modules.procModules());
    expect(readAll(p, p.open("/proc/net/netlink", O_RDONLY) as number, 9).text).toBe(
      k.netlink.procNetNetlink(),
    );
    expect(p.open("/proc/devices", O_WRONLY)).toBe(-1);
    expect(p.errno).toBe(13);
    const w = root.open("/proc/devices", O_WRONLY) as number;
    expect(root.write(w, enc("1 x\n"))).toBe(-1);
    expect(root.errno).toBe(5);
    expect(p.open("/proc", O_RDWR)).toBe(-1);
    expect(p.errno).toBe(21);
  });
});

describe("sysfs attributes", () => {
  it("show once per read pass, store with its return value, EACCES by mode and operations, ENODEV after removal", () => {
    const k = new Kernel();
    const sys = k.sysfs;
    let rate = 10;
    const stored: string[] = [];
    const node = sys.createFile("sensor", "sensor0", "rate", {
      mode: 0o644,
      show: (buf) => sysfs_emit(buf, `${rate}\n`),
      store: (buf, count) => {
        const s = dec(buf.subarray(0, count));
        stored.push(s);
        if (!/^\d+\n?$/.test(s)) return -22;
        rate = Number.parseInt(s, 10);
        return count;
      },
    });
    sys.createFile("sensor", "sensor0", "name", {
      mode: 0o444,
      show: (buf) => sysfs_emit(buf, "x".repeat(5000)),
    });
    const p = new Libc(k, k.spawn({ uid: 1000 }));
    const root = new Libc(k, k.spawn());
    const fd = p.open("/sys/class/sensor/sensor0/rate", O_RDONLY) as number;
    expect(p.read(fd, 1)).toEqual(enc("1"));
    rate = 99; // the rest of the first show's buffer comes out, no second show
    expect(p.read(fd, 10)).toEqual(enc("0\n"));
    expect(p.read(fd, 10)).toEqual(new Uint8Array(0));
    expect(node.shows).toBe(1);
    expect(p.open("/sys/class/sensor/sensor0/rate", O_WRONLY)).toBe(-1); // 0644, root's
    expect(p.errno).toBe(13);
    expect(root.open("/sys/class/sensor/sensor0/name", O_WRONLY)).toBe(-1); // no store, no w bit: even root
    expect(root.errno).toBe(13);
    const w = root.open("/sys/class/sensor/sensor0/rate", O_RDWR) as number;
    expect(root.write(w, enc("42\n"))).toBe(3);
    expect(rate).toBe(42);
    expect(root.write(w, enc("nope"))).toBe(-1);
    expect(root.errno).toBe(22);
    expect(root.write(w, enc("7".repeat(5000)))).toBe(4096); // kernfs passes PAGE_SIZE bytes at most
    expect(stored.at(-1)?.length).toBe(4096);
    // show's output is at most PAGE_SIZE - 1 bytes
    const n = p.open("/sys/class/sensor/sensor0/name", O_RDONLY) as number;
    expect(readAll(p, n, 1000).text.length).toBe(4095);
    expect(sys.removeFile("/sys/class/sensor/sensor0/rate")).toBe(0);
    expect(k.sys.lseek(p.task, fd, 0, 0)).toBe(0);
    expect(p.read(fd, 10)).toBe(-1);
    expect(p.errno).toBe(19);
    expect(root.write(w, enc("1"))).toBe(-1);
    expect(root.errno).toBe(19);
    expect(p.open("/sys/class/sensor/sensor0/rate", O_RDONLY)).toBe(-1);
    expect(p.errno).toBe(2);
    for (const f of [fd, n]) expect(p.close(f)).toBe(0);
    expect(root.close(w)).toBe(0);
    expect(sys.openFiles).toBe(0);
  });
});
