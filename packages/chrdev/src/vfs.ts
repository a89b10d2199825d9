// The VFS side of a character device: struct file and struct file_operations (include/linux/fs.h), chrdev_open
// (fs/char_dev.c), vfs_read / vfs_write / vfs_llseek (fs/read_write.c), do_vfs_ioctl / vfs_ioctl (fs/ioctl.c),
// vfs_poll (include/linux/poll.h), the mmap path's file checks (mm/mmap.c do_mmap) and __fput (fs/file_table.c):
// what Linux returns when an operation is missing or misused.

import { type Addr, KernelError } from "@kbridge/uapi";
import type { MmapFile, MmStruct, Vma, Vmm } from "@kbridge/vmm";
import type { Cdev, ChrdevRegistry } from "./char-dev.js";
import { type Module, module_put, try_module_get } from "./module.js";
import { ERESTARTSYS, type PollTable } from "./wait.js";

/** `O_RDONLY`. */
export const O_RDONLY = 0o0;
/** `O_WRONLY`. */
export const O_WRONLY = 0o1;
/** `O_RDWR`. */
export const O_RDWR = 0o2;
/** `O_NONBLOCK`. */
export const O_NONBLOCK = 0o4000;
/** `FASYNC` (O_ASYNC): SIGIO on new data, set through FIOASYNC or fcntl. */
export const FASYNC = 0o20000;
/** `FMODE_READ`. */
export const FMODE_READ = 0x1;
/** `FMODE_WRITE`. */
export const FMODE_WRITE = 0x2;
/** `FMODE_LSEEK`: the file can seek (cleared when ->llseek is NULL, 6.0+). */
export const FMODE_LSEEK = 0x4;
/** `SEEK_SET`, `SEEK_CUR`, `SEEK_END`. */
export const SEEK_SET = 0;
/** `SEEK_CUR`. */
export const SEEK_CUR = 1;
/** `SEEK_END`. */
export const SEEK_END = 2;
/** `DEFAULT_POLLMASK`: EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM (0x145), for a file without ->poll. */
export const DEFAULT_POLLMASK = 0x145;
/** `MAX_RW_COUNT`: INT_MAX & PAGE_MASK; longer reads and writes are cut to it. */
export const MAX_RW_COUNT = 0x7ffff000;

/** The ioctls do_vfs_ioctl() handles before the driver sees them (include/uapi/asm-generic/ioctls.h, linux/fs.h). */
export const FIONCLEX = 0x5450;
/** `FIOCLEX`. */
export const FIOCLEX = 0x5451;
/** `FIONBIO`: set or clear O_NONBLOCK from an int at `arg`. */
export const FIONBIO = 0x5421;
/** `FIOASYNC`. */
export const FIOASYNC = 0x5452;
/** `FIOQSIZE`: -ENOTTY for a character device. */
export const FIOQSIZE = 0x5460;
/** `FIGETBSZ`: the block size of the file system (4096 for devtmpfs). */
export const FIGETBSZ = 2;
/** `ENOIOCTLCMD` (515): a driver's "not my ioctl", turned into -ENOTTY by vfs_ioctl. */
export const ENOIOCTLCMD = 515;

/**
 * `struct file_operations`: what a driver implements. Each returns what the kernel function returns: a byte count or
 * 0, or a negative errno. Buffers are user addresses in the current address space; a driver copies with the Vmm's
 * `copy_to_user` / `copy_from_user`. `ppos` is the file position the driver advances.
 */
export interface FileOperations {
  /** The module that owns the code (THIS_MODULE), if any: every open holds a reference on it. */
  readonly owner?: Module;
  /** `->open(inode, file)`: 0 or a negative errno. */
  open?(inode: Inode, file: File): number;
  /** `->release(inode, file)`. */
  release?(inode: Inode, file: File): number;
  /**
   * `->read(file, buf, count, ppos)`: a count or a negative errno, or a Promise of one when the task sleeps (a
   * {@link WaitQueueHead} wait).
   */
  read?(file: File, buf: number, count: number, ppos: { pos: number }): number | Promise<number>;
  /** `->write(file, buf, count, ppos)`, like read. */
  write?(file: File, buf: number, count: number, ppos: { pos: number }): number | Promise<number>;
  /** `->llseek(file, offset, whence)`: the new position or a negative errno. */
  llseek?(file: File, offset: number, whence: number): number;
  /** `->poll(file, pt)`: the ready mask; the driver calls `poll_wait(wq, pt)` for each queue it can be woken from. */
  poll?(file: File, pt: PollTable | undefined): number;
  /** `->unlocked_ioctl(file, cmd, arg)`. */
  unlocked_ioctl?(file: File, cmd: number, arg: number): number;
  /** `->compat_ioctl(file, cmd, arg)` for 32-bit callers. */
  compat_ioctl?(file: File, cmd: number, arg: number): number;
  /**
   * `->fasync(fd, file, on)`: turn SIGIO notification on or off; 0 or a negative errno (fasync_helper's work: the VFS
   * then sets or clears FASYNC in f_flags, as fasync_helper does).
   */
  fasync?(fd: number, file: File, on: boolean): number;
  /** `->mmap(file, vma)`: 0 or a negative errno (use `vma.vm_mm.remap_pfn_range` or set `vma.vm_ops`). */
  mmap?(file: File, vma: Vma): number;
}

/** `struct inode` of a device node: its device number and, once opened, its cdev (`i_cdev`). */
export class Inode {
  /** `i_rdev`. */
  readonly i_rdev: number;
  /** `i_cdev`, cached by the first successful open. */
  i_cdev: Cdev<FileOperations> | undefined;

  /** @param rdev - the device number of the node (`MKDEV(major, minor)`) */
  constructor(rdev: number) {
    this.i_rdev = rdev;
    this.i_cdev = undefined;
  }
}

/** `struct file`: one open of a device node. */
export class File {
  /** `f_op`: the cdev's operations from the open on. */
  f_op: FileOperations;
  /** `f_flags` (O_* as passed to open, O_NONBLOCK changeable). */
  f_flags: number;
  /** `f_mode` (FMODE_READ, FMODE_WRITE, FMODE_LSEEK). */
  f_mode: number;
  /** `f_pos`. */
  f_pos = 0;
  /** `private_data`: the driver's. */
  private_data: unknown;
  /** The inode. */
  readonly inode: Inode;
  /** Close-on-exec (an fd flag, set by FIOCLEX). */
  cloexec = false;
  /** @internal closed (the fd is gone) */
  closed = false;
  /** @internal references: the fd and every VMA that maps the file */
  refs = 1;

  /** @internal made by Vfs.open */
  constructor(inode: Inode, ops: FileOperations, flags: number) {
    this.inode = inode;
    this.f_op = ops;
    this.f_flags = flags;
    const acc = flags & 3;
    this.f_mode =
      (acc === O_RDONLY || acc === O_RDWR ? FMODE_READ : 0) |
      (acc === O_WRONLY || acc === O_RDWR ? FMODE_WRITE : 0);
    // do_dentry_open(): set before ->open, cleared after it when f_op has no ->llseek.
    this.f_mode |= FMODE_LSEEK;
  }
}

// cdev_put(): drop the kobject reference and the module reference cdev_get took.
function cdev_put(p: Cdev): void {
  if (p.kref > 0) p.kref--;
  module_put(p.owner as Module | undefined);
}

/**
 * The system-call side of character devices for one machine: `open` of a device node (chrdev_open), then read, write,
 * lseek, ioctl, poll, mmap and close with the VFS's checks and errnos in its order. User buffers are addresses in the
 * Vmm's current address space.
 */
export class Vfs {
  /** The machine. */
  readonly vmm: Vmm;
  /** The device numbers and cdevs. */
  readonly chrdevs: ChrdevRegistry;

  /**
   * @param vmm - the machine (user memory, access_ok)
   * @param chrdevs - the registry device nodes are looked up in
   */
  constructor(vmm: Vmm, chrdevs: ChrdevRegistry) {
    this.vmm = vmm;
    this.chrdevs = chrdevs;
  }

  /**
   * `open()` of a device node with `flags` (O_RDONLY/O_WRONLY/O_RDWR, O_NONBLOCK): chrdev_open finds the cdev (none:
   * -ENXIO; an inode that cached its cdev keeps it after cdev_del), takes its operations and calls `->open` if there
   * is one (its error is returned).
   */
  open(inode: Inode, flags: number): File | number {
    if (!(inode instanceof Inode)) throw new KernelError("EINVAL", "not an Inode", { syscall: "open" });
    if (!Number.isInteger(flags) || flags < 0)
      throw new KernelError("EINVAL", `flags ${String(flags)} are not open flags`, { syscall: "open" });
    // cdev_purge(): a cdev whose kobject was released (cdev_del and no open file) is no longer cached.
    if (inode.i_cdev !== undefined && inode.i_cdev.kref === 0) inode.i_cdev = undefined;
    const cdev = inode.i_cdev ?? this.chrdevs.lookup(inode.i_rdev);
    if (cdev === undefined) return -6; // -ENXIO
    // cdev_get(): a reference on cdev->owner and on the cdev's kobject; fops_get(): one on fops->owner. A module
    // going away: -ENXIO.
    const owner = cdev.owner as Module | undefined;
    if (cdev.kref === 0 || !try_module_get(owner)) return -6;
    cdev.kref++;
    inode.i_cdev = cdev as Cdev<FileOperations>;
    const ops = (cdev.ops ?? {}) as FileOperations;
    if (!try_module_get(ops.owner)) {
      cdev_put(cdev);
      return -6;
    }
    const file = new File(inode, ops, flags);
    let rc = file.f_op.open?.(inode, file) ?? 0;
    if (rc !== 0) {
      // chrdev_open: cdev_put; do_dentry_open's cleanup_all: WARN_ON_ONCE(error > 0) -> -EINVAL, fops_put(f->f_op).
      if (rc > 0) rc = -22;
      module_put(ops.owner);
      cdev_put(cdev);
      return rc === -ERESTARTSYS ? -4 : rc;
    }
    if (file.f_op.llseek === undefined) file.f_mode &= ~FMODE_LSEEK;
    return file;
  }

  #live(op: string, file: unknown): File {
    if (!(file instanceof File) || file.closed)
      throw new KernelError("EBADF", "not an open file", { syscall: op });
    return file;
  }

  /**
   * `read(fd, buf, count)` (vfs_read): -EBADF when not open for reading, -EINVAL without ->read, -EFAULT when the
   * buffer fails access_ok, count cut to MAX_RW_COUNT, then the driver; a positive result moves f_pos. A driver that
   * sleeps makes it a Promise; a sleep interrupted by a signal ends in -EINTR.
   */
  read(file: File, buf: Addr, count: number): number | Promise<number> {
    const f = this.#live("read", file);
    if ((f.f_mode & FMODE_READ) === 0) return -9;
    if (f.f_op.read === undefined) return -22;
    return this.#rw(f, buf, count, f.f_op.read.bind(f.f_op));
  }

  /** `write(fd, buf, count)` (vfs_write): as read, with FMODE_WRITE and ->write. */
  write(file: File, buf: Addr, count: number): number | Promise<number> {
    const f = this.#live("write", file);
    if ((f.f_mode & FMODE_WRITE) === 0) return -9;
    if (f.f_op.write === undefined) return -22;
    return this.#rw(f, buf, count, f.f_op.write.bind(f.f_op));
  }

  #rw(
    f: File,
    buf: Addr,
    count: number,
    op: (file: File, buf: number, count: number, ppos: { pos: number }) => number | Promise<number>,
  ): number | Promise<number> {
    if (!Number.isSafeInteger(count) || count < 0)
      throw new KernelError("EINVAL", `count ${String(count)} is not a size_t`, { syscall: "read/write" });
    if (!this.vmm.access_ok(buf, count)) return -14;
    // rw_verify_area(): a negative position without FMODE_UNSIGNED_OFFSET.
    if (f.f_pos < 0) return -22;
    const n = Math.min(count, MAX_RW_COUNT);
    const ppos = { pos: f.f_pos };
    const ret = op(f, Number(buf), n, ppos);
    const done = (r: number): number => {
      if (r > 0) f.f_pos = ppos.pos;
      // A sleep cut short by a signal: the syscall restarts or fails with -EINTR (no SA_RESTART in the model).
      return r === -ERESTARTSYS ? -4 : r;
    };
    return typeof ret === "number" ? done(ret) : ret.then(done);
  }

  /**
   * `lseek(fd, offset, whence)` (ksys_lseek: whence > SEEK_MAX is -EINVAL first; then vfs_llseek: -ESPIPE without
   * ->llseek (FMODE_LSEEK cleared), else the driver's).
   */
  llseek(file: File, offset: number, whence: number): number {
    const f = this.#live("lseek", file);
    if (!Number.isSafeInteger(offset))
      throw new KernelError("EINVAL", `offset ${String(offset)} is not an off_t`, { syscall: "lseek" });
    if (whence !== SEEK_SET && whence !== SEEK_CUR && whence !== SEEK_END && whence !== 3 && whence !== 4)
      return -22;
    if ((f.f_mode & FMODE_LSEEK) === 0 || f.f_op.llseek === undefined) return -29;
    return f.f_op.llseek(f, offset, whence);
  }

  /**
   * `poll()` (vfs_poll): the driver's mask, or DEFAULT_POLLMASK for a file without ->poll. With a poll table the
   * driver's queues are watched (see {@link PollTable}).
   */
  poll(file: File, pt?: PollTable): number {
    const f = this.#live("poll", file);
    return f.f_op.poll?.(f, pt) ?? DEFAULT_POLLMASK;
  }

  /**
   * `ioctl(fd, cmd, arg)`: do_vfs_ioctl handles FIOCLEX, FIONCLEX, FIONBIO (an int read from user memory at `arg`),
   * FIOASYNC (->fasync when the state changes, -ENOTTY without one), FIOQSIZE (-ENOTTY for a device) and FIGETBSZ
   * first; everything else goes to ->unlocked_ioctl — or ->compat_ioctl for a 32-bit caller (`compat` true,
   * compat_sys_ioctl) — whose absence is -ENOTTY and whose -ENOIOCTLCMD becomes -ENOTTY.
   */
  ioctl(file: File, cmd: number, arg: number, compat = false): number {
    const f = this.#live("ioctl", file);
    if (!Number.isInteger(cmd) || cmd < 0 || cmd > 0xffff_ffff)
      throw new KernelError("EINVAL", `cmd ${String(cmd)} is not an unsigned int`, { syscall: "ioctl" });
    if (!Number.isSafeInteger(arg) || arg < 0)
      throw new KernelError("EINVAL", `arg ${String(arg)} is not an unsigned long`, { syscall: "ioctl" });
    if (typeof compat !== "boolean")
      throw new KernelError("EINVAL", "compat is not a boolean", { syscall: "ioctl" });
    // compat_ptr(): a 32-bit caller's pointer is its low 32 bits.
    const uarg = compat ? arg % 2 ** 32 : arg;
    if (
      cmd === FIOCLEX ||
      cmd === FIONCLEX ||
      cmd === FIONBIO ||
      cmd === FIOASYNC ||
      cmd === FIOQSIZE ||
      cmd === FIGETBSZ
    )
      return this.#doVfsIoctl(f, cmd, uarg);
    // vfs_ioctl()
    const ops = f.f_op;
    let ret: number;
    if (compat) {
      if (ops.compat_ioctl === undefined) return -25;
      ret = ops.compat_ioctl(f, cmd, uarg);
    } else {
      if (ops.unlocked_ioctl === undefined) return -25;
      ret = ops.unlocked_ioctl(f, cmd, uarg);
    }
    if (ret === -ENOIOCTLCMD) return -25;
    // A sleep cut short by a signal: -EINTR at the syscall's return (no SA_RESTART in the model), as for read.
    return ret === -ERESTARTSYS ? -4 : ret;
  }

  // do_vfs_ioctl(): the commands the VFS answers itself.
  #doVfsIoctl(f: File, cmd: number, uarg: number): number {
    switch (cmd) {
      case FIOCLEX:
        f.cloexec = true;
        return 0;
      case FIONCLEX:
        f.cloexec = false;
        return 0;
      case FIONBIO: {
        const { ret, val } = this.vmm.get_user(uarg, 4);
        if (ret !== 0) return ret;
        if (val !== 0) f.f_flags |= O_NONBLOCK;
        else f.f_flags &= ~O_NONBLOCK;
        return 0;
      }
      case FIOASYNC: {
        // ioctl_fioasync()
        const { ret, val } = this.vmm.get_user(uarg, 4);
        if (ret !== 0) return ret;
        const on = val !== 0;
        if (on === ((f.f_flags & FASYNC) !== 0)) return 0;
        if (f.f_op.fasync === undefined) return -25;
        const rc = f.f_op.fasync(-1, f, on);
        if (rc < 0) return rc;
        if (on) f.f_flags |= FASYNC;
        else f.f_flags &= ~FASYNC;
        return 0;
      }
      case FIOQSIZE:
        return -25;
      default: // FIGETBSZ
        return this.vmm.put_user(uarg, 4096, 4);
    }
  }

  /**
   * `mmap(addr, length, prot, flags, fd, offset)` of a device file in `mm`: the mmap family's checks against the
   * file's open mode (PROT_WRITE on a shared mapping of a read-only file is EACCES), no ->mmap is ENODEV, and the
   * driver's error is mmap's.
   */
  mmap(
    mm: MmStruct,
    file: File,
    addr: Addr,
    length: Addr,
    prot: number,
    flags: number,
    offset: Addr = 0,
  ): number {
    const f = this.#live("mmap", file);
    const mmapFile: MmapFile = {
      readable: (f.f_mode & FMODE_READ) !== 0,
      writable: (f.f_mode & FMODE_WRITE) !== 0,
      // The VMA holds the file (vma->vm_file), so the module stays pinned while the mapping exists.
      get_file: () => {
        f.refs++;
      },
      fput: () => this.#fput(f),
      ...(f.f_op.mmap === undefined
        ? {}
        : {
            mmap: (vma: Vma) => {
              const rc = f.f_op.mmap!(f, vma);
              if (rc < 0) throw KernelError.fromReturn(rc, "the driver's mmap refused", { syscall: "mmap" });
            },
          }),
    };
    return mm.mmap(addr, length, prot, flags, mmapFile, offset);
  }

  /**
   * `close()`: drops the fd's reference; the last reference (the fd and every mapping of the file) ends in `__fput`:
   * `->release`, then the module references of the open. A second close is -EBADF.
   */
  close(file: File): number {
    if (!(file instanceof File) || file.closed) return -9;
    file.closed = true;
    this.#fput(file);
    return 0;
  }

  // fput() / __fput(): ->release, cdev_put(inode->i_cdev), fops_put(f_op) — once.
  #fput(f: File): void {
    if (f.refs <= 0) throw new KernelError("EBADF", "fput of a file already released", { op: "fput" });
    if (--f.refs > 0) return;
    f.f_op.release?.(f.inode, f);
    if (f.inode.i_cdev !== undefined) cdev_put(f.inode.i_cdev);
    module_put(f.f_op.owner);
  }
}
