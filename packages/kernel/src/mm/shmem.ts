// POSIX shared memory: tmpfs mounted at /dev/shm (mm/shmem.c), the open() rules of fs/namei.c for it, ftruncate
// (fs/open.c do_sys_ftruncate → shmem_setattr), unlink (fs/namei.c do_unlinkat → may_delete → shmem_unlink) and
// glibc's shm_open / shm_unlink wrappers (posix/shm-directory.c, sysdeps/pthread/shm_open.c, shm_unlink.c).
// A shmem inode's page cache is a map from page index to frame; every mapping's ->fault hands those frames out, so
// MAP_SHARED mappings in different processes see the same bytes, and MAP_PRIVATE ones copy on write (the vmm's
// do_cow_fault / do_wp_page).

import { KernelError, utf8Decode, utf8Encode } from "@kbridge/uapi";
import {
  __GFP_ZERO,
  GFP_HIGHUSER,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  type MmapFile,
  type MmStruct,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  VM_EXEC,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_MAYSHARE,
  VM_READ,
  VM_WRITE,
  type Vma,
  type VmOperations,
} from "@kbridge/vmm";
import type { Cred } from "../cred.js";
import { type FileCaller, FMODE_READ, FMODE_WRITE, type IovIter, KFile, type KFileOps } from "../fs/file.js";
import { CAP_FOWNER, generic_permission, MAY_READ, MAY_WRITE } from "../fs/permission.js";
import { pipefs, unlink_fifo } from "../fs/pipe.js";
import type { Kernel, Task } from "../kernel.js";
import type { Libc } from "../libc.js";

const PAGE = 4096;
const ENOENT = -2;
const EBADF = -9;
const ENOMEM = -12;
const EACCES = -13;
const EFAULT = -14;
const EEXIST = -17;
const ENOTDIR = -20;
const EISDIR = -21;
const EINVAL = -22;
const ENOSPC = -28;
const ENXIO = -6;
const EPERM = -1;
const ENAMETOOLONG = -36;

/** `O_CREAT` (0o100). */
export const O_CREAT = 0o100;
/** `O_EXCL` (0o200). */
export const O_EXCL = 0o200;
/** `O_TRUNC` (0o1000). */
export const O_TRUNC = 0o1000;
/** `O_APPEND` (0o2000). */
export const O_APPEND = 0o2000;
/** `O_DIRECTORY` (0o200000). */
export const O_DIRECTORY = 0o200000;
/** `O_NOFOLLOW` (0o400000). */
export const O_NOFOLLOW = 0o400000;
/** `NAME_MAX` (255): the longest file-name component (simple_lookup's ENAMETOOLONG). */
export const NAME_MAX = 255;
/** `SEEK_DATA` (3). */
export const SEEK_DATA = 3;
/** `SEEK_HOLE` (4). */
export const SEEK_HOLE = 4;
/** The mount point. */
export const SHM_MOUNT = "/dev/shm";

// mode bits of the /dev/shm directory as systemd mounts it: root, 01777 (sticky, world-writable).
const SHM_DIR = { mode: 0o1777, uid: 0, gid: 0, dir: true } as const;

/**
 * A tmpfs inode (`struct shmem_inode_info` with its `struct inode`): owner, mode, `i_size`, the page cache, the
 * link count (1 while /dev/shm names it) and the open files (a `struct file` stays open while a descriptor or a
 * mapping holds it). The pages go back to the allocator when the last of these goes (shmem_evict_inode).
 */
export class ShmemInode {
  /** `i_ino`. */
  readonly ino: number;
  /** The name in /dev/shm (kept after unlink for `(deleted)`). */
  readonly name: string;
  /** Permission bits. */
  readonly mode: number;
  /** `i_uid`. */
  readonly uid: number;
  /** `i_gid`. */
  readonly gid: number;
  /** `i_size`. */
  size = 0;
  /** `i_nlink`: 1 while named, 0 after unlink. */
  nlink = 1;
  /** @internal page index → frame (the page cache's reference) */
  readonly pages = new Map<number, number>();
  /** @internal open `struct file`s (a file mapped after close() still counts) */
  files = 0;
  /** @internal the VMAs mapping the inode (i_mmap), for truncate's unmap_mapping_range */
  readonly vmas = new Set<Vma>();
  /** @internal the file system */
  readonly fs: ShmFs;
  /** @internal `shmem_vm_ops` bound to this inode */
  readonly vmOps: VmOperations;

  /** @internal */
  constructor(fs: ShmFs, ino: number, name: string, mode: number, uid: number, gid: number) {
    this.fs = fs;
    this.ino = ino;
    this.name = name;
    this.mode = mode;
    this.uid = uid;
    this.gid = gid;
    this.vmOps = {
      // shmem_fault() → shmem_get_folio_gfp(SGP_CACHE): a page at or past i_size is -EINVAL → VM_FAULT_SIGBUS.
      fault: (vmf) => {
        if (vmf.pgoff * PAGE >= this.size) return -VM_FAULT_SIGBUS;
        const pfn = this.fs.getPage(this, vmf.pgoff);
        if (pfn === ENOSPC) return -VM_FAULT_SIGBUS; // vmf_error(-ENOSPC)
        if (pfn < 0) return -VM_FAULT_OOM;
        this.fs.kernel.vmm.phys.get_page(pfn);
        return pfn;
      },
      open: (vma) => {
        this.vmas.add(vma);
      },
      close: (vma) => {
        this.vmas.delete(vma);
      },
    };
  }
}

/**
 * One open of a shared-memory object (`struct file` on tmpfs) as mmap sees it: FMODE_READ / FMODE_WRITE, the path
 * /proc/<pid>/maps shows (`/dev/shm/x`, or `/dev/shm/x (deleted)` after unlink), and the file references VMAs hold
 * (get_file / fput), so the file — and the object — outlive close() while mapped.
 */
export class ShmOpenFile implements MmapFile {
  /** The inode. */
  readonly inode: ShmemInode;
  /** FMODE_READ. */
  readonly readable: boolean;
  /** FMODE_WRITE. */
  readonly writable: boolean;
  /** The device /proc/<pid>/maps shows. */
  readonly dev: readonly [number, number];
  #refs = 1;

  /** @internal */
  constructor(inode: ShmemInode, fmode: number) {
    this.inode = inode;
    this.readable = (fmode & FMODE_READ) !== 0;
    this.writable = (fmode & FMODE_WRITE) !== 0;
    this.dev = inode.fs.dev;
    inode.files++;
  }

  /** The inode number. */
  get ino(): number {
    return this.inode.ino;
  }

  /** `d_path()`: `/dev/shm/<name>`, with ` (deleted)` once unlinked. */
  get path(): string {
    return `${SHM_MOUNT}/${this.inode.name}${this.inode.nlink === 0 ? " (deleted)" : ""}`;
  }

  /** `get_file()`: a VMA holds the file. */
  get_file(): void {
    this.#refs++;
  }

  /** `fput()`: a VMA or the descriptor table let go; the last reference runs `__fput`. */
  fput(): void {
    if (--this.#refs > 0) return;
    this.inode.files--;
    this.inode.fs.maybeEvict(this.inode);
  }

  /** `shmem_mmap()`: the VMA's pages come from the inode's page cache through `shmem_vm_ops`. */
  mmap(vma: Vma): void {
    vma.vm_ops = this.inode.vmOps;
    this.inode.vmas.add(vma);
  }
}

/** Options of {@link mountShm}. */
export interface ShmOptions {
  /** The tmpfs size limit in bytes (`size=`; by default half the RAM, shmem_default_max_blocks). */
  readonly size?: number;
  /** The umask applied to O_CREAT modes (the model's tasks have none of their own; 0o022 by default). */
  readonly umask?: number;
  /** The anonymous device number /proc/<pid>/maps shows (`[0, 25]` by default). */
  readonly dev?: readonly [number, number];
}

/** The tmpfs instance at /dev/shm: names, inodes, the page budget. Made by {@link mountShm}. */
export class ShmFs {
  /** The kernel. */
  readonly kernel: Kernel;
  /** The device number. */
  readonly dev: readonly [number, number];
  /** The umask of O_CREAT. */
  readonly umask: number;
  /** `max_blocks`: pages the mount may hold. */
  readonly maxPages: number;
  readonly #names = new Map<string, ShmemInode>();
  readonly #live = new Set<ShmemInode>();
  #used = 0;
  #ino = 1;

  /** @internal use mountShm */
  constructor(kernel: Kernel, options: ShmOptions = {}) {
    this.kernel = kernel;
    this.dev = options.dev ?? [0, 25];
    this.umask = options.umask ?? 0o022;
    const ram = kernel.vmm.phys.ranges.reduce((s, r) => s + r.size, 0);
    const size = options.size ?? ram / 2;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new KernelError("EINVAL", `size ${String(size)} is not a byte count`, { op: "mountShm" });
    this.maxPages = Math.floor(size / PAGE);
  }

  /** Frames the page caches of every live object hold — 0 when nothing leaked. */
  get pagesInUse(): number {
    return this.#used;
  }

  /** Objects alive: named, or unlinked but still open or mapped. */
  get objects(): number {
    return this.#live.size;
  }

  /** The names in /dev/shm. */
  names(): string[] {
    return [...this.#names.keys()];
  }

  /** The inode named `name`, if any. */
  lookup(name: string): ShmemInode | undefined {
    return this.#names.get(name);
  }

  /**
   * `shmem_get_folio(SGP_WRITE/SGP_CACHE)`: the frame of page `index`, zero-filled when new; -ENOSPC past the
   * mount's size (shmem_inode_acct_blocks), -ENOMEM without memory.
   * @internal
   */
  getPage(inode: ShmemInode, index: number): number {
    const have = inode.pages.get(index);
    if (have !== undefined) return have;
    if (this.#used >= this.maxPages) return ENOSPC;
    let pfn: number;
    try {
      pfn = this.kernel.vmm.phys.alloc_pages(GFP_HIGHUSER | __GFP_ZERO, 0);
    } catch {
      return ENOMEM;
    }
    inode.pages.set(index, pfn);
    this.#used++;
    return pfn;
  }

  /** @internal shmem_evict_inode(): the last name and the last open file went; the pages go back. */
  maybeEvict(inode: ShmemInode): void {
    if (inode.nlink > 0 || inode.files > 0 || !this.#live.has(inode)) return;
    this.#freePages(inode, 0);
    this.#live.delete(inode);
  }

  #freePages(inode: ShmemInode, fromIndex: number): void {
    const phys = this.kernel.vmm.phys;
    for (const [idx, pfn] of [...inode.pages]) {
      if (idx < fromIndex) continue;
      inode.pages.delete(idx);
      phys.put_page(pfn);
      this.#used--;
    }
  }

  /**
   * `shmem_setattr(ATTR_SIZE)`: a new `i_size`. Shrinking zeroes the tail of the partial page, unmaps every page
   * from the new page-aligned end on from every mapping — private copies too, as truncate_pagecache's
   * unmap_mapping_range(even_cows=1) — and frees them; a later access there is SIGBUS. Returns 0.
   * The model unmaps by munmap + MAP_FIXED re-mmap of the VMA tail (the vmm has no zap_page_range for callers).
   */
  setSize(inode: ShmemInode, length: number): number {
    const old = inode.size;
    inode.size = length;
    if (length >= old) return 0;
    const keep = Math.ceil(length / PAGE);
    const tail = length % PAGE;
    if (tail !== 0) {
      const pfn = inode.pages.get(keep - 1);
      if (pfn !== undefined) {
        const phys = this.kernel.vmm.phys;
        const o = phys.pfnOffset(pfn);
        phys.ram.fill(0, o + tail, o + PAGE);
      }
    }
    for (const vma of [...inode.vmas]) this.#unmapFrom(vma, keep);
    this.#freePages(inode, keep);
    return 0;
  }

  // unmap_mapping_range(holebegin, 0, even_cows=1) for one VMA.
  #unmapFrom(vma: Vma, firstPage: number): void {
    const pages = (vma.vm_end - vma.vm_start) / PAGE;
    if (vma.vm_pgoff + pages <= firstPage) return;
    const skip = Math.max(0, firstPage - vma.vm_pgoff);
    const start = vma.vm_start + skip * PAGE;
    const len = vma.vm_end - start;
    const mm: MmStruct = vma.vm_mm;
    const file = vma.vm_file as ShmOpenFile;
    const f = vma.vm_flags;
    const prot =
      (f & VM_READ ? PROT_READ : 0) | (f & VM_WRITE ? PROT_WRITE : 0) | (f & VM_EXEC ? PROT_EXEC : 0);
    const flags = (f & VM_MAYSHARE ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED;
    file.get_file(); // hold the file across the munmap
    try {
      mm.munmap(start, len);
      mm.mmap(start, len, prot, flags, file, (vma.vm_pgoff + skip) * PAGE);
    } catch {
      // The hole stays unmapped: a later access is SIGSEGV instead of SIGBUS.
    } finally {
      file.fput();
    }
  }

  /**
   * `path_openat()` for a path under /dev/shm with tmpfs's lookup and create (fs/namei.c open_last_lookups,
   * do_open, may_open, handle_truncate; mm/shmem.c shmem_create): O_CREAT|O_DIRECTORY is EINVAL; a component
   * longer than NAME_MAX is ENAMETOOLONG; a missing name without O_CREAT ENOENT; an existing one with
   * O_CREAT|O_EXCL EEXIST; the mode bits against the caller (EACCES; a file created by this open is not checked);
   * O_TRUNC empties an existing file. The new file's mode is `mode & ~umask`, its owner the caller.
   */
  open(path: string, flags: number, mode: number, caller: FileCaller): KFile | number {
    if (flags & O_CREAT && flags & O_DIRECTORY) return EINVAL; // build_open_flags() since 6.4
    const rest = path.slice(SHM_MOUNT.length);
    const slash = rest.endsWith("/") && rest.length > 1;
    const comps = rest.split("/").filter((c) => c !== "" && c !== ".");
    const acc = flags & 3;
    const accMode =
      (acc === 0 ? MAY_READ : acc === 1 ? MAY_WRITE : MAY_READ | MAY_WRITE) |
      (flags & O_TRUNC ? MAY_WRITE : 0);
    if (comps.length === 0) {
      // The directory itself: may_open() refuses writing it; O_CREAT on an existing directory is EISDIR.
      if (flags & O_CREAT || accMode & MAY_WRITE) return EISDIR;
      return new KFile(DIR_OPS, FMODE_READ, flags, this);
    }
    for (const c of comps) if (utf8Encode(c).length > NAME_MAX) return ENAMETOOLONG;
    if (comps.includes("..")) return ENOENT;
    const name = comps[0]!;
    let inode = this.#names.get(name);
    if (comps.length > 1) return inode === undefined ? ENOENT : ENOTDIR;
    if (slash) {
      if (flags & O_CREAT) return EISDIR;
      return inode === undefined ? ENOENT : ENOTDIR;
    }
    let created = false;
    if (inode === undefined) {
      if ((flags & O_CREAT) === 0) return ENOENT;
      // may_o_create(): write and search permission on /dev/shm (01777: everyone).
      inode = new ShmemInode(
        this,
        ++this.#ino,
        name,
        mode & 0o7777 & ~this.umask,
        caller.cred.uid,
        caller.cred.gid,
      );
      this.#names.set(name, inode);
      this.#live.add(inode);
      created = true;
    } else {
      if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return EEXIST;
      if (flags & O_DIRECTORY) return ENOTDIR;
      if (!generic_permission(caller.cred, inode, accMode)) return EACCES;
    }
    const fmode = (acc + 1) & 3; // OPEN_FMODE()
    const of = new ShmOpenFile(inode, fmode);
    const f = new KFile(SHM_OPS, fmode, flags & ~(O_CREAT | O_EXCL | O_TRUNC), of);
    if (!created && flags & O_TRUNC) this.setSize(inode, 0);
    return f;
  }

  /**
   * `do_unlinkat()` of `/dev/shm/<name>`: ENAMETOOLONG, ENOENT, ENOTDIR / EISDIR for slashes, then may_delete's
   * sticky-directory rule (only the file's owner, the directory's owner or CAP_FOWNER: EPERM), then shmem_unlink
   * drops the name. The object lives on while open or mapped.
   */
  unlink(path: string, cred: Cred): number {
    const rest = path.slice(SHM_MOUNT.length);
    const slash = rest.endsWith("/") && rest.length > 1;
    const comps = rest.split("/").filter((c) => c !== "" && c !== ".");
    if (comps.length === 0) return cred.uid === 0 ? EISDIR : EACCES; // /dev is root's 0755
    for (const c of comps) if (utf8Encode(c).length > NAME_MAX) return ENAMETOOLONG;
    const inode = this.#names.get(comps[0]!);
    if (comps.length > 1 || comps.includes("..")) return inode === undefined ? ENOENT : ENOTDIR;
    if (inode === undefined) return ENOENT;
    if (slash) return ENOTDIR;
    // check_sticky(): the directory is sticky (01777).
    if (cred.uid !== inode.uid && cred.uid !== SHM_DIR.uid && !cred.capable(CAP_FOWNER)) return EPERM;
    this.#names.delete(inode.name);
    inode.nlink = 0;
    this.maybeEvict(inode);
    return 0;
  }
}

function shm(file: KFile): ShmOpenFile {
  return file.private as ShmOpenFile;
}

// /dev/shm opened as a directory: reading it is EISDIR (generic_read_dir); getdents is not modelled.
const DIR_OPS: KFileOps = {
  read: () => EISDIR,
  llseek: () => 0,
  name: () => SHM_MOUNT,
};

/**
 * `shmem_file_operations`: read_iter (shmem_file_read_iter: holes read as zeros), write_iter
 * (generic_perform_write through shmem_write_begin), llseek (shmem_file_llseek with SEEK_DATA / SEEK_HOLE), mmap
 * (shmem_mmap) and the release of the descriptor table's reference.
 */
const SHM_OPS: KFileOps = {
  read(file: KFile, to: IovIter): number {
    const inode = shm(file).inode;
    const phys = inode.fs.kernel.vmm.phys;
    let pos = file.pos;
    let done = 0;
    while (to.count > 0 && pos < inode.size) {
      const off = pos % PAGE;
      const chunk = Math.min(PAGE - off, to.count, inode.size - pos);
      const pfn = inode.pages.get(Math.floor(pos / PAGE));
      const o = pfn === undefined ? -1 : phys.pfnOffset(pfn) + off;
      const got = to.copyOut(o < 0 ? new Uint8Array(chunk) : phys.ram.subarray(o, o + chunk));
      pos += got;
      done += got;
      if (got < chunk) break;
    }
    file.pos = pos;
    return done > 0 || to.count === 0 || pos >= inode.size ? done : EFAULT;
  },

  write(file: KFile, from: IovIter): number {
    const inode = shm(file).inode;
    const fs = inode.fs;
    const phys = fs.kernel.vmm.phys;
    if (from.count === 0) return 0;
    let pos = file.flags & O_APPEND ? inode.size : file.pos;
    let done = 0;
    let err = 0;
    while (from.count > 0) {
      const off = pos % PAGE;
      const buf = new Uint8Array(Math.min(PAGE - off, from.count));
      const got = from.copyIn(buf);
      if (got === 0) {
        err = EFAULT;
        break;
      }
      const pfn = fs.getPage(inode, Math.floor(pos / PAGE));
      if (pfn < 0) {
        err = pfn;
        break;
      }
      phys.ram.set(buf.subarray(0, got), phys.pfnOffset(pfn) + off);
      pos += got;
      done += got;
      if (pos > inode.size) inode.size = pos;
      if (got < buf.length) {
        err = EFAULT;
        break;
      }
    }
    file.pos = pos;
    return done > 0 ? done : err;
  },

  llseek(file: KFile, offset: number, whence: number): number {
    const inode = shm(file).inode;
    let pos: number;
    if (whence === SEEK_DATA || whence === SEEK_HOLE) {
      // shmem_file_llseek() → mapping_seek_hole_data(): a cached page is data.
      if (offset < 0 || offset >= inode.size) return ENXIO;
      let idx = Math.floor(offset / PAGE);
      const last = Math.ceil(inode.size / PAGE);
      const want = whence === SEEK_DATA;
      while (idx < last && inode.pages.has(idx) !== want) idx++;
      if (idx >= last) {
        if (want) return ENXIO;
        pos = inode.size;
      } else pos = Math.max(offset, idx * PAGE);
    } else if (whence === 0) pos = offset;
    else if (whence === 1) pos = file.pos + offset;
    else if (whence === 2) pos = inode.size + offset;
    else return EINVAL;
    // vfs_setpos(): no negative position.
    if (pos < 0 || !Number.isSafeInteger(pos)) return EINVAL;
    file.pos = pos;
    return pos;
  },

  mmap(
    file: KFile,
    mm: MmStruct,
    addr: number,
    length: number,
    prot: number,
    flags: number,
    offset: number,
  ): number {
    try {
      return mm.mmap(addr, length, prot, flags, shm(file), offset);
    } catch (e) {
      if (e instanceof KernelError) return -e.errno;
      throw e;
    }
  },

  release(file: KFile): void {
    shm(file).fput();
  },

  name(file: KFile): string {
    return shm(file).path;
  },
};

const FS = new WeakMap<Kernel, ShmFs>();

/**
 * Mounts tmpfs at /dev/shm on `kernel` (`mount -t tmpfs -o mode=1777 tmpfs /dev/shm`): open() of
 * `/dev/shm/<name>` is `shm_open`. Returns the file system (its {@link ShmFs.pagesInUse} is the leak counter).
 * @throws {@link @kbridge/uapi!KernelError} EBUSY when /dev/shm is mounted already
 */
export function mountShm(kernel: Kernel, options: ShmOptions = {}): ShmFs {
  const fs = new ShmFs(kernel, options);
  kernel.mount(SHM_MOUNT, (path, flags, mode, caller) => fs.open(path, flags, mode, caller));
  FS.set(kernel, fs);
  return fs;
}

/** The tmpfs mounted on `kernel` by {@link mountShm}, if any. */
export function shmFs(kernel: Kernel): ShmFs | undefined {
  return FS.get(kernel);
}

// The entry of a system call made here rather than in Syscalls: the task is current, its page tables loaded.
function enter(k: Kernel, t: Task, op: string): void {
  if (t === null || typeof t !== "object" || typeof t.exited !== "boolean")
    throw new KernelError("EINVAL", "not a Task", { syscall: op });
  if (t.exited) throw new KernelError("ESRCH", `task ${t.pid} has exited`, { syscall: op });
  if (k.vmm.current !== t.mm) k.vmm.switch_mm(t.mm);
  k.current = t;
}

function int(op: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v))
    throw new KernelError("EINVAL", `${name} ${String(v)} is not an integer`, { syscall: op });
}

/**
 * `ftruncate(fd, length)` (do_sys_ftruncate): a negative length is EINVAL, a closed fd EBADF; a file that is not a
 * tmpfs regular file, or not open for writing, EINVAL; then shmem_setattr ({@link ShmFs.setSize}).
 * Regular files of other file systems (procfs) are not modelled (EINVAL).
 */
export function sys_ftruncate(k: Kernel, t: Task, fd: number, length: number): number {
  enter(k, t, "ftruncate");
  int("ftruncate", "fd", fd);
  int("ftruncate", "length", length);
  const ret = ((): number => {
    if (length < 0) return EINVAL;
    const f = t.fds[fd];
    if (f === undefined) return EBADF;
    if (f.object.kind !== "kfile" || !(f.object.file.private instanceof ShmOpenFile)) return EINVAL;
    const kf = f.object.file;
    if ((kf.mode & FMODE_WRITE) === 0) return EINVAL;
    const inode = shm(kf).inode;
    return inode.fs.setSize(inode, length);
  })();
  k.record(t, "ftruncate", () => [String(fd), String(length)], ret);
  return ret;
}

/**
 * `unlink(path)` (do_unlinkat): the path from user memory (EFAULT, ENAMETOOLONG past PATH_MAX, ENOENT when empty);
 * `/dev/shm/<name>` goes to {@link ShmFs.unlink}; a devtmpfs node `/dev/<name>` may be removed by root (EACCES for
 * others: /dev is 0755 root). Other paths are not modelled: ENOENT.
 */
export function sys_unlink(k: Kernel, t: Task, pathPtr: number): number {
  enter(k, t, "unlink");
  let shown = `0x${Number(pathPtr).toString(16)}`;
  const ret = ((): number => {
    const buf = new Uint8Array(4096);
    const n = k.vmm.strncpy_from_user(buf, pathPtr, 4096);
    if (n < 0) return n;
    if (n === 4096) return ENAMETOOLONG;
    if (n === 0) return ENOENT;
    const path = utf8Decode(buf, 0, n);
    shown = JSON.stringify(path);
    const fs = FS.get(k);
    if (fs !== undefined && (path === SHM_MOUNT || path.startsWith(`${SHM_MOUNT}/`)))
      return fs.unlink(path, t.cred);
    if (k.devtmpfs.has(path))
      return t.cred.uid === 0 || t.cred.capable(1) ? k.unlinkDev(path.slice(5)) : EACCES;
    if (pipefs(k).fifos.has(path)) return unlink_fifo(k, path);
    return ENOENT;
  })();
  k.record(t, "unlink", () => [shown], ret);
  return ret;
}

// __shm_get_name(): leading slashes skipped; empty, a '/' inside, or too long for its buffer
// (sizeof "/dev/shm/" + sizeof "sem." + NAME_MAX = 270 bytes) is an error.
function shmName(name: string): string | undefined {
  const n = name.replace(/^\/+/, "");
  if (n.length === 0 || n.includes("/") || utf8Encode(n).length + 10 > 270) return undefined;
  return `${SHM_MOUNT}/${n}`;
}

/**
 * glibc's `shm_open(name, oflag, mode)` run by `libc`'s process: glibc's own checks first — leading slashes are
 * skipped; an empty name, a name with a '/' inside, or one too long for glibc's name buffer is EINVAL without a
 * system call —, then `open("/dev/shm/<name>", oflag | O_NOFOLLOW | O_CLOEXEC, mode)`, where the kernel's rules
 * apply (ENOENT, EEXIST, EACCES, ENAMETOOLONG past NAME_MAX); glibc turns the kernel's EISDIR into EINVAL.
 * Returns the fd, or -1 with `libc.errno`.
 */
export function shm_open(libc: Libc, name: string, oflag: number, mode = 0o600): number {
  const path = shmName(name);
  if (path === undefined) {
    libc.errno = 22;
    return -1;
  }
  const fd = libc.open(path, oflag | O_NOFOLLOW | 0o2000000, mode);
  if (fd instanceof Promise)
    throw new KernelError("EINVAL", "a tmpfs open does not sleep", { op: "shm_open" });
  if (fd === -1 && libc.errno === 21) libc.errno = 22;
  return fd;
}

/**
 * glibc's `shm_unlink(name)`: a name glibc refuses is ENOENT; then `unlink("/dev/shm/<name>")`, whose EPERM (the
 * sticky directory) glibc reports as EACCES. Returns 0, or -1 with `libc.errno`.
 */
export function shm_unlink(libc: Libc, name: string): number {
  const path = shmName(name);
  if (path === undefined) {
    libc.errno = 2;
    return -1;
  }
  const s = utf8Encode(path);
  const p = libc.malloc(s.length + 1);
  libc.poke(p, Uint8Array.from([...s, 0]));
  const r = sys_unlink(libc.kernel, libc.task, p);
  if (r < 0) {
    libc.errno = r === EPERM ? 13 : -r;
    return -1;
  }
  return 0;
}
