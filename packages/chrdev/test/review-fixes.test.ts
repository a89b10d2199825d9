// Regressions for behaviour checked against Linux 6.12: fs/char_dev.c (__register_chrdev, __unregister_chrdev,
// cdev_del/cdev_purge), fs/open.c (do_dentry_open), fs/read_write.c (ksys_lseek, rw_verify_area), fs/ioctl.c, and the
// IoctlTable's view mode and compat numbers.
import { _IO, _IOR, _IOWR, long, MKDEV, struct, u32 } from "@kbridge/uapi";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Cdev,
  ChrdevRegistry,
  ERESTARTSYS,
  type File,
  type FileOperations,
  Inode,
  type IoctlCommand,
  IoctlTable,
  type Module,
  ModuleLoader,
  O_RDONLY,
  O_RDWR,
  SEEK_SET,
  Vfs,
} from "../src/index.js";
import { opened, setup } from "./device-node.js";

describe("cdev lifetime (cdev_del + cdev_purge)", () => {
  it("a cached i_cdev opens while a file is open, and is forgotten after the last close (-ENXIO)", () => {
    const { vfs, node, chrdevs, cdev } = setup({});
    const a = opened(vfs.open(node, O_RDONLY));
    chrdevs.cdev_del(cdev);
    const b = opened(vfs.open(node, O_RDONLY)); // kobject still alive: cdev_get succeeds
    vfs.close(a);
    vfs.close(b);
    expect(vfs.open(node, O_RDONLY)).toBe(-6);
    expect(node.i_cdev).toBeUndefined();
    expect(() => chrdevs.cdev_del(cdev)).toThrow(/EINVAL/);
  });
});

describe("register_chrdev", () => {
  it("sets cdev->owner = fops->owner: an open pins the module twice", () => {
    const loader = new ModuleLoader();
    const chrdevs = new ChrdevRegistry();
    let major = 0;
    const mod = loader.init_module({ name: "m", init: () => 0, exit: () => {} }) as Module;
    const fops: FileOperations = { owner: mod };
    major = chrdevs.register_chrdev(0, "m", fops);
    const vfs = new Vfs(new Vmm({ ram: 4 << 20 }), chrdevs);
    const f = opened(vfs.open(new Inode(MKDEV(major, 0)), O_RDONLY));
    expect(mod.refcount).toBe(2);
    vfs.close(f);
    expect(mod.refcount).toBe(0);
  });

  it("unregister_chrdev deletes only the cdev register_chrdev made (cd->cdev)", () => {
    const chrdevs = new ChrdevRegistry();
    expect(chrdevs.register_chrdev_region(MKDEV(60, 0), 256, "mine")).toBe(0);
    const cdev = new Cdev({});
    chrdevs.cdev_add(cdev, MKDEV(60, 0), 256);
    chrdevs.unregister_chrdev(60, "mine");
    expect(chrdevs.procDevices()).toBe("Character devices:\n");
    expect(chrdevs.lookup(MKDEV(60, 1))).toBe(cdev);
    expect(() => chrdevs.register_chrdev(0, 5 as unknown as string, {})).toThrow(/EINVAL/);
  });
});

describe("open", () => {
  it("a positive ->open return is -EINVAL (do_dentry_open's WARN_ON_ONCE) with both module references dropped", () => {
    const loader = new ModuleLoader();
    const mod = loader.init_module({ name: "p", exit: () => {} }) as Module;
    const { vfs, node, cdev } = setup({ owner: mod, open: () => 1 });
    cdev.owner = mod;
    expect(vfs.open(node, O_RDONLY)).toBe(-22);
    expect(mod.refcount).toBe(0);
  });

  it("FMODE_LSEEK follows the f_op installed when ->open returns", () => {
    const seekable: FileOperations = { llseek: (_f, off) => off };
    const { vfs, node } = setup({
      open: (_i, f) => {
        f.f_op = seekable; // replace_fops()
        return 0;
      },
    });
    const f = opened(vfs.open(node, O_RDONLY));
    expect(vfs.llseek(f, 5, SEEK_SET)).toBe(5);
  });
});

describe("lseek, read, ioctl", () => {
  it("ksys_lseek checks whence before vfs_llseek's -ESPIPE; a bad offset is a KernelError", () => {
    const { vfs, node } = setup({});
    const f = opened(vfs.open(node, O_RDONLY));
    expect(vfs.llseek(f, 0, 7)).toBe(-22);
    expect(vfs.llseek(f, 0, SEEK_SET)).toBe(-29);
    expect(() => vfs.llseek(f, 0.5, SEEK_SET)).toThrow(/EINVAL/);
  });

  it("rw_verify_area: a negative f_pos is -EINVAL before the driver", () => {
    let calls = 0;
    const { vfs, node, buf } = setup({ read: () => ++calls });
    const f = opened(vfs.open(node, O_RDONLY));
    f.f_pos = -1;
    expect(vfs.read(f, buf, 1)).toBe(-22);
    expect(calls).toBe(0);
  });

  it("an ioctl interrupted by a signal is -EINTR; a bad arg is a KernelError", () => {
    const { vfs, node } = setup({ unlocked_ioctl: () => -ERESTARTSYS });
    const f = opened(vfs.open(node, O_RDWR));
    expect(vfs.ioctl(f, 0x1234, 0)).toBe(-4);
    expect(() => vfs.ioctl(f, 0x1234, -1)).toThrow(/EINVAL/);
    expect(() => vfs.ioctl(f, 0x1234, 1.5)).toThrow(/EINVAL/);
  });
});

describe("IoctlTable", () => {
  const cfg = struct("cfg", { rate: u32, window: long });

  it("view mode: a re-entered command gets a fresh view, not a decoded value or undefined", () => {
    const vmm = new Vmm({ ram: 4 << 20 });
    const mm = vmm.mm_alloc();
    vmm.switch_mm(mm);
    const ubuf = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    let depth = 0;
    let table: IoctlTable;
    const CMD = _IOR("V", 1, cfg);
    const commands: IoctlCommand[] = [
      {
        name: "GET",
        cmd: CMD,
        arg: cfg,
        mode: "view",
        handler: (f, v, arg) => {
          const view = v as { rate: number };
          view.rate = 10 + depth;
          if (depth++ === 0) expect(table.unlocked_ioctl(f, CMD, arg + 16)).toBe(0);
          return 0;
        },
      },
    ];
    table = new IoctlTable(vmm, commands);
    expect(table.unlocked_ioctl({} as File, CMD, ubuf)).toBe(0);
    expect(vmm.get_user(ubuf, 4).val).toBe(10);
    expect(vmm.get_user(ubuf + 16, 4).val).toBe(11);
  });

  it("refuses commands whose 32-bit numbers collide, and a cmd that is not an unsigned int", () => {
    const vmm = new Vmm({ ram: 4 << 20 });
    const h = () => 0;
    const sl = struct("sl", { v: long });
    const si = struct("si", { v: u32 });
    // _IOR('C', 1, long) is 8 bytes natively, 4 on i386 — the same 32-bit number as _IOR('C', 1, u32).
    expect(
      () =>
        new IoctlTable(vmm, [
          { name: "L", cmd: _IOR("C", 1, sl), arg: sl, handler: h },
          { name: "I", cmd: _IOR("C", 1, si), arg: si, handler: h },
        ] as IoctlCommand[]),
    ).toThrow(/EEXIST/);
    expect(() => new IoctlTable(vmm, [{ name: "X", cmd: 1.5, handler: h }])).toThrow(/EINVAL/);
    expect(
      () =>
        new IoctlTable(vmm, [
          { name: "W", cmd: _IOWR("C", 2, cfg), arg: cfg, handler: h },
          { name: "N", cmd: _IO("C", 3), handler: h },
        ]),
    ).not.toThrow();
  });
});
