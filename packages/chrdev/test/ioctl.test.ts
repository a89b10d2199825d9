// The ioctl framework: direction/size checks, copies through the vmm, compat callers, collisions, and every number of
// vectors/uapi/ioctl-numbers.json decoded by name.
import { readFileSync } from "node:fs";
import { _IO, _IOC, _IOR, _IOW, _IOWR, long, MKDEV, struct, u32 } from "@kbridge/uapi";
import { MAP_32BIT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Cdev,
  ChrdevRegistry,
  type File,
  findIoctlCollisions,
  Inode,
  IOCTL_NAMES,
  type IoctlCommand,
  IoctlTable,
  ioctlName,
  O_RDWR,
  Vfs,
} from "../src/index.js";

// A sensor's configuration: { rate: u32, window: long } is 16 bytes on x86-64 and 8 on i386.
const sensor_cfg = struct("sensor_cfg", { rate: u32, window: long });
const SENSOR_GET = _IOR("S", 1, sensor_cfg);
const SENSOR_SET = _IOW("S", 2, sensor_cfg);
const SENSOR_SWAP = _IOWR("S", 3, sensor_cfg);
const SENSOR_RESET = _IO("S", 4);

function setup() {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  let cfg = { rate: 100, window: 8n };
  const commands: IoctlCommand<{ rate: number; window: bigint }>[] = [
    { name: "SENSOR_GET", cmd: SENSOR_GET, arg: sensor_cfg, handler: () => ({ ret: 0, value: cfg }) },
    {
      name: "SENSOR_SET",
      cmd: SENSOR_SET,
      arg: sensor_cfg,
      handler: (_f, v) => {
        if (v!.rate === 0) return -22;
        cfg = v!;
        return 0;
      },
    },
    {
      name: "SENSOR_SWAP",
      cmd: SENSOR_SWAP,
      arg: sensor_cfg,
      handler: (_f, v) => {
        const old = cfg;
        cfg = v!;
        return { ret: 0, value: old };
      },
    },
    {
      name: "SENSOR_RESET",
      cmd: SENSOR_RESET,
      handler: (_f, _v, arg) => {
        cfg = { rate: arg, window: 0n };
        return 0;
      },
    },
  ];
  const table = new IoctlTable(vmm, commands as IoctlCommand[]);
  const chrdevs = new ChrdevRegistry();
  chrdevs.cdev_add(
    new Cdev({ unlocked_ioctl: table.unlocked_ioctl, compat_ioctl: table.compat_ioctl }),
    MKDEV(60, 0),
    1,
  );
  const vfs = new Vfs(vmm, chrdevs);
  const f = vfs.open(new Inode(MKDEV(60, 0)), O_RDWR) as File;
  const ubuf = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  return { vmm, vfs, f, ubuf, table, cfg: () => cfg };
}

describe("IoctlTable", () => {
  it("copies in for _IOW, out for _IOR, both for _IOWR; _IO gets arg raw; unknown numbers are -ENOTTY", () => {
    const { vmm, vfs, f, ubuf, cfg } = setup();
    expect(vfs.ioctl(f, SENSOR_GET, ubuf)).toBe(0);
    expect(sensor_cfg.decode(vmm.userRead(ubuf, 16))).toEqual({ rate: 100, window: 8n });
    vmm.userWrite(ubuf, sensor_cfg.encode({ rate: 5, window: 2n }));
    expect(vfs.ioctl(f, SENSOR_SET, ubuf)).toBe(0);
    expect(cfg()).toEqual({ rate: 5, window: 2n });
    vmm.userWrite(ubuf, sensor_cfg.encode({ rate: 0, window: 0n }));
    expect(vfs.ioctl(f, SENSOR_SET, ubuf)).toBe(-22); // the handler's errno
    vmm.userWrite(ubuf, sensor_cfg.encode({ rate: 7, window: 7n }));
    expect(vfs.ioctl(f, SENSOR_SWAP, ubuf)).toBe(0);
    expect(sensor_cfg.decode(vmm.userRead(ubuf, 16))).toEqual({ rate: 5, window: 2n });
    expect(vfs.ioctl(f, SENSOR_RESET, 42)).toBe(0);
    expect(cfg().rate).toBe(42);
    expect(vfs.ioctl(f, _IOR("S", 9, 4), ubuf)).toBe(-25);
  });

  it("a bad user pointer is -EFAULT, and an _IOR result is not half written", () => {
    const { vfs, f, ubuf } = setup();
    expect(vfs.ioctl(f, SENSOR_SET, 0)).toBe(-14);
    expect(vfs.ioctl(f, SENSOR_GET, ubuf + 4090)).toBe(-14); // 6 bytes fit, 10 do not
  });

  it("a 32-bit caller uses its own number (8-byte struct) through compat_ioctl, with compat_ptr()", () => {
    const { vmm, f, table, cfg } = setup();
    // A 32-bit process's memory is below 4 GiB (MAP_32BIT here); compat_ptr() keeps the low 32 bits of arg.
    const ubuf = vmm.current!.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT);
    const SENSOR_SET32 = _IOW("S", 2, 8);
    expect(SENSOR_SET32).not.toBe(SENSOR_SET);
    // i386 layout: u32 rate at 0, 32-bit long window at 4.
    vmm.userWrite(ubuf, Uint8Array.of(9, 0, 0, 0, 3, 0, 0, 0));
    expect(table.compat_ioctl(f, SENSOR_SET32, ubuf + 2 ** 32 * 0x10)).toBe(0); // high bits of a 32-bit arg are noise
    expect(cfg()).toEqual({ rate: 9, window: 3n });
    expect(table.compat_ioctl(f, SENSOR_SET, ubuf)).toBe(-515); // the 64-bit number means nothing to compat
  });

  it("refuses a number whose size disagrees with its type, and duplicate numbers; finds collisions across drivers", () => {
    const vmm = new Vmm({ ram: 4 << 20 });
    expect(
      () => new IoctlTable(vmm, [{ name: "BAD", cmd: _IOR("S", 1, 8), arg: sensor_cfg, handler: () => 0 }]),
    ).toThrow(/encodes 8 bytes, the argument type has 16/);
    const a: IoctlCommand = { name: "A", cmd: SENSOR_RESET, handler: () => 0 };
    expect(() => new IoctlTable(vmm, [a, { ...a, name: "B" }])).toThrow(/EEXIST/);
    expect(
      findIoctlCollisions({
        sensor: [a],
        other: [
          { ...a, name: "OTHER_RESET" },
          { name: "X", cmd: 1, handler: () => 0 },
        ],
      }),
    ).toEqual([{ cmd: SENSOR_RESET, names: ["sensor:A", "other:OTHER_RESET"] }]);
  });
});

describe("ioctl names", () => {
  it("every number of vectors/uapi/ioctl-numbers.json is reproduced from its fields and decoded to its name", () => {
    const vector = JSON.parse(
      readFileSync(new URL("../../../vectors/uapi/ioctl-numbers.json", import.meta.url), "utf8"),
    ) as { name: string; value: string; dir: number; type: number; nr: number; size: number }[];
    for (const e of vector) {
      // Reproduced from its fields with _IOC, and named back from its number.
      expect(_IOC(e.dir, e.type, e.nr, e.size) >>> 0).toBe(Number(e.value));
      expect(ioctlName(Number(e.value))?.split("/")).toContain(e.name);
    }
    expect(IOCTL_NAMES.size).toBe(new Set(vector.map((e) => e.value)).size);
    expect(ioctlName(0x5401)).toBe("TCGETS");
    expect(ioctlName(0x541b)).toBe("FIONREAD/SIOCINQ");
    expect(ioctlName(0xdeadbeef)).toBeUndefined();
  });
});
