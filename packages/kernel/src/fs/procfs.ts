// procfs (fs/proc: generic.c proc_create_seq, inode.c proc_reg_*, base.c /proc/<pid> and /proc/self,
// task_mmu.c /proc/<pid>/maps) and the attribute files of sysfs (fs/sysfs/file.c over fs/kernfs/file.c), both
// read through seq_file.

import { KernelError, utf8Encode } from "@kbridge/uapi";
import type { Kernel, Task } from "../kernel.js";
import { type FileCaller, FMODE_READ, FMODE_WRITE, type IovIter, KFile, type KFileOps } from "./file.js";
import { CAP_SYS_PTRACE, generic_permission, MAY_READ, MAY_WRITE } from "./permission.js";
import { ErrPtr, SeqFile, seqFileOps, seqLines } from "./seq-file.js";

const PAGE = 4096;
const ENOENT = -2;
const EIO = -5;
const EACCES = -13;
const EFAULT = -14;
const ENODEV = -19;
const ENOTDIR = -20;
const EISDIR = -21;
const EINVAL = -22;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_DIRECTORY = 0o200000;

function accMode(flags: number): number {
  const acc = flags & 3;
  return (
    (acc === 0 ? MAY_READ : acc === 1 ? MAY_WRITE : MAY_READ | MAY_WRITE) | (flags & O_TRUNC ? MAY_WRITE : 0)
  );
}

// A directory of a pseudo file system: read is EISDIR (generic_read_dir), writing or creating is EISDIR at open.
function openDir(name: string, flags: number): KFile | number {
  if (flags & O_CREAT || accMode(flags) & MAY_WRITE) return EISDIR;
  return new KFile({ read: () => EISDIR, llseek: () => 0, name: () => name }, FMODE_READ, flags, undefined);
}

function split(path: string, mount: string): { comps: string[]; slash: boolean } {
  const rest = path.slice(mount.length);
  return {
    comps: rest.split("/").filter((c) => c !== "" && c !== "."),
    slash: rest.length > 1 && rest.endsWith("/"),
  };
}

/** `ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS)`: the same uid and gid, or CAP_SYS_PTRACE. */
export function ptrace_may_access(caller: FileCaller, task: Task): boolean {
  if (caller.tgid === task.tgid) return true;
  if (caller.cred.uid === task.cred.uid && caller.cred.gid === task.cred.gid) return true;
  return caller.cred.capable(CAP_SYS_PTRACE);
}

// proc_reg_write() → pde_write(): an entry without ->proc_write is EIO.
const pdeWrite = (): number => EIO;

/**
 * `/proc` on `kernel`: `/proc/devices` (the character devices), `/proc/modules`, `/proc/net/netlink`, and for
 * every live task `/proc/<pid>` with `maps`; `/proc/self` is the caller's own directory. The global files are
 * root's, mode 0444 (proc_create_seq with mode 0): a write open by another user is EACCES; root's open succeeds and
 * its write() is EIO (pde_write without ->proc_write). `/proc/<pid>/maps` is 0444 and owned by the task's user;
 * opening another user's maps is EACCES (proc_maps_open → mm_access → ptrace_may_access), a write() by root EINVAL
 * (no ->write: no FMODE_CAN_WRITE); an unknown or exited pid is ENOENT; a task that exits while its maps file is
 * open reads as empty (m_start finds no mm).
 * @throws {@link @kbridge/uapi!KernelError} EBUSY when /proc is mounted already
 */
export function mountProc(kernel: Kernel): void {
  kernel.mount("/proc", (path, flags, _mode, caller) => procOpen(kernel, path, flags, caller));
}

function procOpen(k: Kernel, path: string, flags: number, caller: FileCaller): KFile | number {
  if (flags & O_CREAT && flags & O_DIRECTORY) return EINVAL;
  const { comps, slash } = split(path, "/proc");
  if (comps.length === 0) return openDir("/proc", flags);
  const global: Record<string, () => string> = {
    devices: () => k.chrdevs.procDevices(),
    modules: () => k.modules.procModules(),
    "net/netlink": () => k.netlink.procNetNetlink(),
  };
  const joined = comps.join("/");
  if (joined === "net") return openDir("/proc/net", flags);
  const text = global[joined];
  if (text !== undefined) {
    if (slash) return ENOTDIR;
    if (flags & O_DIRECTORY) return ENOTDIR;
    if (!generic_permission(caller.cred, { mode: 0o444, uid: 0, gid: 0 }, accMode(flags))) return EACCES;
    const m = seqLines(text);
    return new KFile(seqFileOps(`/proc/${joined}`, { write: pdeWrite }), (flags + 1) & 3, flags, m);
  }
  const head = comps[0] === "self" ? String(caller.tgid) : comps[0]!;
  if (!/^[1-9][0-9]*$/.test(head)) return ENOENT;
  const task = k.tasks.get(Number(head));
  if (task === undefined || task.exited) return ENOENT;
  if (comps.length === 1) return openDir(`/proc/${head}`, flags);
  if (comps.length > 2 || comps[1] !== "maps") return ENOENT;
  if (slash || flags & O_DIRECTORY) return ENOTDIR;
  if (
    !generic_permission(caller.cred, { mode: 0o444, uid: task.cred.uid, gid: task.cred.gid }, accMode(flags))
  )
    return EACCES;
  if (!ptrace_may_access(caller, task)) return EACCES;
  const m = seqLines(() => (task.exited || task.mm.dead ? null : task.mm.maps()));
  return new KFile(seqFileOps(`/proc/${head}/maps`), (flags + 1) & 3, flags, m);
}

/**
 * A sysfs attribute as a driver declares it (`struct device_attribute` with `DEVICE_ATTR_RW` and friends): its
 * mode and the `show` / `store` callbacks. `show` fills `buf` (PAGE_SIZE bytes, zeroed) and returns the count —
 * use {@link sysfs_emit} — or a negative errno; `store` gets the bytes written (at most PAGE_SIZE, followed by a
 * NUL in `buf`) and returns how many it consumed or a negative errno.
 */
export interface SysfsAttribute {
  /** The permission bits (0444, 0644, 0200 …); the owner is root. */
  readonly mode: number;
  /** `->show(dev, attr, buf)`. */
  readonly show?: (buf: Uint8Array) => number;
  /** `->store(dev, attr, buf, count)`. */
  readonly store?: (buf: Uint8Array, count: number) => number;
}

/**
 * `sysfs_emit(buf, fmt, ...)`: writes `text` at the start of the PAGE_SIZE buffer, at most PAGE_SIZE - 1 bytes
 * (vscnprintf keeps room for the NUL); returns the bytes written.
 */
export function sysfs_emit(buf: Uint8Array, text: string): number {
  const b = utf8Encode(text).subarray(0, Math.min(PAGE - 1, buf.length - 1));
  buf.set(b);
  buf[b.length] = 0;
  return b.length;
}

/** An attribute file in sysfs (a kernfs node with its active state). */
export class SysfsNode {
  /** The path, `/sys/class/<class>/<dev>/<attr>`. */
  readonly path: string;
  /** The attribute. */
  readonly attr: SysfsAttribute;
  /** False once removed (kernfs_drain: `kernfs_get_active` fails from then on). */
  active = true;
  /** Times `show` ran. */
  shows = 0;

  /** @internal */
  constructor(path: string, attr: SysfsAttribute) {
    this.path = path;
    this.attr = attr;
  }
}

/** sysfs at /sys: the attribute files drivers create. Made by {@link mountSys}. */
export class SysFs {
  readonly #nodes = new Map<string, SysfsNode>();
  #open = 0;

  /** Open attribute files (0 when every one was closed). */
  get openFiles(): number {
    return this.#open;
  }

  /**
   * `device_create_file()`: the attribute `/sys/class/<cls>/<dev>/<name>`.
   * @throws {@link @kbridge/uapi!KernelError} EEXIST for a taken path (sysfs_warn_dup), EINVAL for a bad name or
   * mode, or an attribute without show and store
   */
  createFile(cls: string, dev: string, name: string, attr: SysfsAttribute): SysfsNode {
    for (const c of [cls, dev, name])
      if (typeof c !== "string" || !/^[A-Za-z0-9_.:-]{1,255}$/.test(c) || c === "." || c === "..")
        throw new KernelError("EINVAL", `${JSON.stringify(c)} is not a file name`, {
          op: "device_create_file",
        });
    if (!Number.isInteger(attr?.mode) || attr.mode < 0 || attr.mode > 0o777)
      throw new KernelError("EINVAL", "mode is not 0..0777", { op: "device_create_file" });
    if (attr.show === undefined && attr.store === undefined)
      throw new KernelError("EINVAL", "an attribute needs show or store", { op: "device_create_file" });
    const path = `/sys/class/${cls}/${dev}/${name}`;
    if (this.#nodes.has(path))
      throw new KernelError("EEXIST", `${path} exists`, { op: "device_create_file" });
    const node = new SysfsNode(path, attr);
    this.#nodes.set(path, node);
    return node;
  }

  /**
   * `device_remove_file()` → `kernfs_remove()`: the path is gone (ENOENT for new opens) and files still open get
   * ENODEV from read and write. Returns 0, or -ENOENT when it does not exist.
   */
  removeFile(path: string): number {
    const node = this.#nodes.get(path);
    if (node === undefined) return ENOENT;
    node.active = false;
    this.#nodes.delete(path);
    return 0;
  }

  /** @internal open() under /sys */
  open(path: string, flags: number, caller: FileCaller): KFile | number {
    if (flags & O_CREAT && flags & O_DIRECTORY) return EINVAL;
    const { comps, slash } = split(path, "/sys");
    const node = this.#nodes.get(`/sys/${comps.join("/")}`);
    if (node === undefined) {
      const prefix = `/sys/${comps.join("/")}/`;
      const dir = comps.length === 0 || [...this.#nodes.keys()].some((p) => p.startsWith(prefix));
      if (comps.length === 1 && comps[0] === "class") return openDir("/sys/class", flags);
      return dir ? openDir(`/sys/${comps.join("/")}`, flags) : ENOENT;
    }
    if (slash || flags & O_DIRECTORY) return ENOTDIR;
    const attr = node.attr;
    if (!generic_permission(caller.cred, { mode: attr.mode, uid: 0, gid: 0 }, accMode(flags))) return EACCES;
    // kernfs_fop_open() with KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK: the mode and the operations must allow the access
    // even for root.
    const fmode = (flags + 1) & 3;
    if (fmode & FMODE_WRITE && ((attr.mode & 0o222) === 0 || attr.store === undefined)) return EACCES;
    if (fmode & FMODE_READ && ((attr.mode & 0o444) === 0 || attr.show === undefined)) return EACCES;
    const m = new SeqFile<true>(
      {
        // kernfs_seq_start(): kernfs_get_active() fails after removal → ERR_PTR(-ENODEV); then single_start().
        start: (_m, pos) => (!node.active ? new ErrPtr(ENODEV) : pos.value === 0 ? true : null),
        next: (_m, _v, pos) => {
          pos.value++;
          return null;
        },
        show: (sf) => {
          // sysfs_kf_seq_show(): a PAGE_SIZE buffer, zeroed; a count of PAGE_SIZE or more is cut to PAGE_SIZE - 1.
          const room = sf.getBuf();
          if (room.length < PAGE) {
            sf.commit(-1);
            return 0;
          }
          const buf = room.subarray(0, PAGE);
          buf.fill(0);
          node.shows++;
          let count = attr.show!(buf);
          if (count < 0) return count;
          if (count >= PAGE) count = PAGE - 1;
          sf.commit(count);
          return 0;
        },
      },
      node,
    );
    this.#open++;
    const ops: KFileOps = seqFileOps(node.path, {
      // kernfs_fop_write_iter(): at most PAGE_SIZE bytes (no atomic_write_len for sysfs attributes), copied and
      // NUL-terminated; ENODEV after removal; sysfs_kf_write(): 0 bytes is 0, else ->store's return.
      write: (file: KFile, from: IovIter) => {
        const len = Math.min(from.count, PAGE);
        const buf = new Uint8Array(len + 1);
        if (from.copyIn(buf.subarray(0, len)) !== len) return EFAULT;
        if (!node.active) return ENODEV;
        const r = len === 0 ? 0 : attr.store!(buf, len);
        if (r > 0) file.pos += r;
        return r;
      },
      release: () => {
        this.#open--;
      },
    });
    return new KFile(ops, fmode, flags, m);
  }
}

/**
 * Mounts sysfs at /sys on `kernel` and returns it; drivers add attribute files with {@link SysFs.createFile}.
 * @throws {@link @kbridge/uapi!KernelError} EBUSY when /sys is mounted already
 */
export function mountSys(kernel: Kernel): SysFs {
  const fs = new SysFs();
  kernel.mount("/sys", (path, flags, _mode, caller) => fs.open(path, flags, caller));
  return fs;
}
