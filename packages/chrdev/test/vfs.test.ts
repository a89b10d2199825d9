// The VFS rules for a character device (spec §4.4-4.5): missing methods, misuse, open modes, ioctl pre-dispatch,
// mmap checks, cdev_del with an open file.
import { MKDEV } from "@kbridge/uapi";
import { MAP_SHARED, PROT_READ, PROT_WRITE, type Vma, type Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLLMASK,
  ENOIOCTLCMD,
  FIGETBSZ,
  FIOCLEX,
  FIONBIO,
  FIOQSIZE,
  File,
  type FileOperations,
  Inode,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SEEK_SET,
} from "../src/index.js";
import { opened, setup } from "./device-node.js";

describe("an empty file_operations", () => {
  it("open succeeds; read/write -EINVAL; ioctl -ENOTTY; lseek -ESPIPE; poll DEFAULT_POLLMASK; mmap ENODEV", () => {
    const { vfs, node, mm, buf } = setup({});
    const f = opened(vfs.open(node, O_RDWR));
    expect(vfs.read(f, buf, 10)).toBe(-22);
    expect(vfs.write(f, buf, 10)).toBe(-22);
    expect(vfs.ioctl(f, 0x12345678, 0)).toBe(-25);
    expect(vfs.llseek(f, 0, SEEK_SET)).toBe(-29);
    expect(vfs.poll(f)).toBe(DEFAULT_POLLMASK);
    expect(() => vfs.mmap(mm, f, 0, 4096, PROT_READ, MAP_SHARED)).toThrow(/ENODEV/);
    expect(vfs.close(f)).toBe(0);
    expect(vfs.close(f)).toBe(-9);
  });
});

describe("read and write", () => {
  const fops: FileOperations = {
    read(file, buf, count, ppos) {
      const data = new TextEncoder().encode("sensor:42\n");
      const n = Math.min(count, data.length - ppos.pos);
      if (n <= 0) return 0;
      const left = vmmOf(file).copy_to_user(buf, data.subarray(ppos.pos, ppos.pos + n), n);
      if (left === n) return -14;
      ppos.pos += n - left;
      return n - left;
    },
    write: (_file, _buf, count) => count,
  };
  const vmms = new WeakMap<File, Vmm>();
  const vmmOf = (f: File) => vmms.get(f)!;

  it("check order: EBADF for the wrong mode, EFAULT before the driver, short reads advance f_pos", () => {
    const { vmm, vfs, node, buf } = setup(fops);
    const ro = opened(vfs.open(node, O_RDONLY));
    vmms.set(ro, vmm);
    expect(vfs.write(ro, buf, 4)).toBe(-9);
    expect(vfs.read(ro, 0xffff_8000_0000_0000n, 4)).toBe(-14); // access_ok fails before the driver
    expect(vfs.read(ro, buf, 6)).toBe(6);
    expect(ro.f_pos).toBe(6);
    expect(vfs.read(ro, buf + 6, 100)).toBe(4);
    expect(new TextDecoder().decode(vmm.userRead(buf, 10))).toBe("sensor:42\n");
    expect(vfs.read(ro, buf, 100)).toBe(0);
    const wo = opened(vfs.open(node, O_WRONLY));
    expect(vfs.read(wo, buf, 1)).toBe(-9);
    expect(vfs.write(wo, 0, 0)).toBe(0); // write(fd, NULL, 0) → 0
  });
});

describe("ioctl", () => {
  it("FIONBIO sets O_NONBLOCK from user memory, FIOCLEX, FIOQSIZE -ENOTTY, FIGETBSZ, -ENOIOCTLCMD → -ENOTTY", () => {
    const seen: number[] = [];
    const { vmm, vfs, node, buf } = setup({
      unlocked_ioctl: (_f, cmd) => {
        seen.push(cmd);
        return cmd === 0x1234 ? 7 : -ENOIOCTLCMD;
      },
    });
    const f = opened(vfs.open(node, O_RDWR));
    vmm.put_user(buf, 1, 4);
    expect(vfs.ioctl(f, FIONBIO, buf)).toBe(0);
    expect(f.f_flags & O_NONBLOCK).toBe(O_NONBLOCK);
    vmm.put_user(buf, 0, 4);
    vfs.ioctl(f, FIONBIO, buf);
    expect(f.f_flags & O_NONBLOCK).toBe(0);
    expect(vfs.ioctl(f, FIONBIO, 0)).toBe(-14); // get_user of a NULL int
    expect(vfs.ioctl(f, FIOCLEX, 0)).toBe(0);
    expect(f.cloexec).toBe(true);
    expect(vfs.ioctl(f, FIOQSIZE, buf)).toBe(-25);
    expect(vfs.ioctl(f, FIGETBSZ, buf)).toBe(0);
    expect(vmm.get_user(buf, 4).val).toBe(4096);
    expect(vfs.ioctl(f, 0x1234, 0)).toBe(7);
    expect(vfs.ioctl(f, 0x5678, 0)).toBe(-25);
    expect(seen).toEqual([0x1234, 0x5678]); // the pre-dispatched ones never reach the driver
  });
});

describe("mmap", () => {
  it("PROT_WRITE on a shared mapping of a read-only open is EACCES before the driver; the driver's error is mmap's", () => {
    let calls = 0;
    const { vfs, node, mm } = setup({
      mmap: (_f, vma: Vma) => {
        calls++;
        return vma.vm_pgoff > 0 ? -22 : 0;
      },
    });
    const ro = opened(vfs.open(node, O_RDONLY));
    expect(() => vfs.mmap(mm, ro, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED)).toThrow(/EACCES/);
    expect(calls).toBe(0);
    expect(vfs.mmap(mm, ro, 0, 4096, PROT_READ, MAP_SHARED)).toBeGreaterThan(0);
    expect(() => vfs.mmap(mm, ro, 0, 4096, PROT_READ, MAP_SHARED, 4096)).toThrow(/EINVAL/);
    expect(calls).toBe(2);
  });
});

describe("open", () => {
  it("no cdev is -ENXIO; ->open's error is open's; after cdev_del an inode that cached its cdev still opens", () => {
    const { vfs, node, chrdevs, cdev } = setup({
      open: (_i, f) => ((f.f_flags & O_NONBLOCK) !== 0 ? -11 : 0),
    });
    expect(vfs.open(new Inode(MKDEV(61, 0)), O_RDONLY)).toBe(-6);
    expect(vfs.open(node, O_RDONLY | O_NONBLOCK)).toBe(-11);
    opened(vfs.open(node, O_RDONLY)); // caches i_cdev
    chrdevs.cdev_del(cdev);
    expect(vfs.open(node, O_RDONLY)).toBeInstanceOf(File);
    expect(vfs.open(new Inode(MKDEV(60, 0)), O_RDONLY)).toBe(-6); // a fresh lookup fails
  });
});

describe("compat ioctl and FIOASYNC", () => {
  it("a 32-bit caller reaches ->compat_ioctl (absent: -ENOTTY); FIOASYNC calls ->fasync when the state changes", () => {
    const calls: string[] = [];
    const { vmm, vfs, node, buf } = setup({
      unlocked_ioctl: () => 1,
      compat_ioctl: (_f, _cmd, arg) => {
        calls.push(`compat ${arg.toString(16)}`);
        return 2;
      },
      fasync: (_fd, _f, on) => {
        calls.push(`fasync ${on}`);
        return 0;
      },
    });
    const f = opened(vfs.open(node, O_RDWR));
    expect(vfs.ioctl(f, 0x1234, 0x1_0000_0010)).toBe(1);
    expect(vfs.ioctl(f, 0x1234, 0x1_0000_0010, true)).toBe(2);
    vmm.put_user(buf, 1, 4);
    expect(vfs.ioctl(f, 0x5452, buf)).toBe(0); // FIOASYNC on
    expect(vfs.ioctl(f, 0x5452, buf)).toBe(0); // no change: ->fasync not called again
    vmm.put_user(buf, 0, 4);
    expect(vfs.ioctl(f, 0x5452, buf)).toBe(0);
    expect(calls).toEqual(["compat 10", "fasync true", "fasync false"]);
    const { vfs: vfs2, node: node2, buf: buf2, vmm: vmm2 } = setup({});
    const g = opened(vfs2.open(node2, O_RDWR));
    expect(vfs2.ioctl(g, 0x1234, 0, true)).toBe(-25);
    vmm2.put_user(buf2, 1, 4);
    expect(vfs2.ioctl(g, 0x5452, buf2)).toBe(-25); // no ->fasync
  });
});
