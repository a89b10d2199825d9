// Character device numbers and cdevs: fs/char_dev.c (__register_chrdev_region, find_dynamic_major,
// register_chrdev_region, alloc_chrdev_region, unregister_chrdev_region, __register_chrdev, cdev_init/cdev_add/
// cdev_del, chrdev_show for /proc/devices) and drivers/base/map.c (kobj_map: the smallest covering range wins).

import { KernelError, MAJOR, MINOR, MINORMASK, MKDEV } from "@kbridge/uapi";

/** `CHRDEV_MAJOR_MAX`: char majors are 0..511. */
export const CHRDEV_MAJOR_MAX = 512;
/** `CHRDEV_MAJOR_HASH_SIZE`: the chrdevs[] hash (slot = major % 255). */
export const CHRDEV_MAJOR_HASH_SIZE = 255;
/** `CHRDEV_MAJOR_DYN_END`: dynamic majors go down from 254 to here. */
export const CHRDEV_MAJOR_DYN_END = 234;
/** `CHRDEV_MAJOR_DYN_EXT_START`: then from 511 … */
export const CHRDEV_MAJOR_DYN_EXT_START = 511;
/** `CHRDEV_MAJOR_DYN_EXT_END`: … down to 384. */
export const CHRDEV_MAJOR_DYN_EXT_END = 384;

/**
 * The char majors Documentation/admin-guide/devices.txt sets aside for LOCAL/EXPERIMENTAL USE (60-63, 120-127): a
 * driver under development may take one statically without colliding with a real device.
 */
export const LOCAL_EXPERIMENTAL_CHAR_MAJORS: readonly number[] = Object.freeze([
  60, 61, 62, 63, 120, 121, 122, 123, 124, 125, 126, 127,
]);

/** A registered range of device numbers (`struct char_device_struct`). */
export interface ChrdevRegion {
  /** The major. */
  readonly major: number;
  /** The first minor. */
  readonly baseminor: number;
  /** How many minors. */
  readonly minorct: number;
  /** The name /proc/devices shows (at most 63 characters, as the kernel's `char name[64]`). */
  readonly name: string;
}

/**
 * `struct cdev`: a character device's operations and owner, made live over a range of device numbers by
 * {@link ChrdevRegistry.cdev_add}. The operations type is the caller's (the VFS layer defines what it dispatches).
 */
export class Cdev<Ops = unknown> {
  /** `cdev->ops`. */
  ops: Ops;
  /** `cdev->owner` (a module, or undefined for built-in code). */
  owner: unknown;
  /** `cdev->dev`, set by cdev_add. */
  dev = 0;
  /** `cdev->count`, set by cdev_add. */
  count = 0;
  /**
   * @internal the kobject's reference count: 1 from cdev_init/cdev_alloc (dropped by cdev_del), +1 per open file
   * (cdev_get, dropped by cdev_put in __fput). At 0 the kobject is released and cdev_purge() clears the i_cdev of the
   * inodes that cached it.
   */
  kref = 1;
  /** @internal cdev_del was called (a second one would put a reference the cdev no longer has) */
  deleted = false;

  /** `cdev_init(cdev, fops)`. */
  constructor(ops: Ops, owner?: unknown) {
    this.ops = ops;
    this.owner = owner;
  }
}

function dev_t(op: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
    throw new KernelError("EINVAL", `dev_t ${String(v)} is not a 32-bit device number`, { op });
  return v;
}

function count(op: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff)
    throw new KernelError("EINVAL", `count ${String(v)} is not an unsigned int`, { op });
  return v;
}

/**
 * The kernel's table of character device numbers and live cdevs, with fs/char_dev.c's rules: static and dynamic
 * majors (254 down to 234, then 511 down to 384, as `find_dynamic_major` scans its hash), overlapping ranges refused
 * with -EBUSY, ranges split per major, exact-match unregistration, and `/proc/devices`. Its `pr_err` lines go to
 * `log` (or to the `printk` given, e.g. a Vmm's).
 */
export class ChrdevRegistry {
  /** The lines printed with pr_err (when no printk was given). */
  readonly log: string[] = [];
  readonly #printk: (line: string) => void;
  readonly #slots: ChrdevRegion[][] = Array.from({ length: CHRDEV_MAJOR_HASH_SIZE }, () => []);
  // kobj_map: live cdevs by range, looked up smallest range first.
  readonly #map: { dev: number; range: number; cdev: Cdev }[] = [];
  // char_device_struct->cdev: the cdev __register_chrdev made for a region.
  readonly #cdevOf = new WeakMap<ChrdevRegion, Cdev>();

  /** @param options - where pr_err lines go (this registry's `log` by default) */
  constructor(options: { printk?: (line: string) => void } = {}) {
    this.#printk = options.printk ?? ((line) => this.log.push(line));
  }

  // find_dynamic_major()
  #dynamicMajor(): number {
    for (let i = CHRDEV_MAJOR_HASH_SIZE - 1; i >= CHRDEV_MAJOR_DYN_END; i--)
      if (this.#slots[i]!.length === 0) return i;
    for (let i = CHRDEV_MAJOR_DYN_EXT_START; i >= CHRDEV_MAJOR_DYN_EXT_END; i--)
      if (!this.#slots[i % CHRDEV_MAJOR_HASH_SIZE]!.some((cd) => cd.major === i)) return i;
    return -16;
  }

  // __register_chrdev_region(): the region, or a negative errno.
  #register(major: number, baseminor: number, minorct: number, name: string): ChrdevRegion | number {
    if (major >= CHRDEV_MAJOR_MAX) {
      this.#printk(
        `CHRDEV "${name}" major requested (${major}) is greater than the maximum (${CHRDEV_MAJOR_MAX - 1})`,
      );
      return -22;
    }
    if (minorct > MINORMASK + 1 - baseminor) {
      this.#printk(
        `CHRDEV "${name}" minor range requested (${baseminor}-${baseminor + minorct - 1}) is out of range of maximum range (0-${MINORMASK}) for a single major`,
      );
      return -22;
    }
    if (major === 0) {
      const m = this.#dynamicMajor();
      if (m < 0) {
        this.#printk(`CHRDEV "${name}" dynamic allocation region is full`);
        return m;
      }
      major = m;
    }
    const slot = this.#slots[major % CHRDEV_MAJOR_HASH_SIZE]!;
    let at = 0;
    for (; at < slot.length; at++) {
      const cur = slot[at]!;
      if (cur.major < major) continue;
      if (cur.major > major) break;
      if (cur.baseminor + cur.minorct <= baseminor) continue;
      if (cur.baseminor >= baseminor + minorct) break;
      return -16; // overlap: -EBUSY
    }
    const cd: ChrdevRegion = { major, baseminor, minorct, name: name.slice(0, 63) };
    slot.splice(at, 0, cd);
    return cd;
  }

  #unregister(major: number, baseminor: number, minorct: number): ChrdevRegion | undefined {
    const slot = this.#slots[major % CHRDEV_MAJOR_HASH_SIZE]!;
    const i = slot.findIndex(
      (cd) => cd.major === major && cd.baseminor === baseminor && cd.minorct === minorct,
    );
    return i < 0 ? undefined : slot.splice(i, 1)[0];
  }

  /**
   * `register_chrdev_region(from, count, name)`: claims `count` numbers from `from`, one region per major it spans.
   * Returns 0, or -EINVAL / -EBUSY (the pieces already claimed are released).
   */
  register_chrdev_region(from: number, count_: number, name: string): 0 | -16 | -22 {
    const op = "register_chrdev_region";
    const start = dev_t(op, from);
    const to = start + count(op, count_);
    if (typeof name !== "string") throw new KernelError("EINVAL", "name is not a string", { op });
    let n = start;
    for (; n < to; ) {
      const next = Math.min((MAJOR(n) + 1) * 2 ** 20, to);
      const r = this.#register(MAJOR(n), MINOR(n), next - n, name);
      if (typeof r === "number") {
        for (let m = start; m < n; ) {
          const nx = (MAJOR(m) + 1) * 2 ** 20;
          this.#unregister(MAJOR(m), MINOR(m), nx - m);
          m = nx;
        }
        return r as -16 | -22;
      }
      n = next;
    }
    return 0;
  }

  /**
   * `alloc_chrdev_region(&dev, baseminor, count, name)`: a dynamic major; `{ ret: 0, dev: MKDEV(major, baseminor) }`
   * or `{ ret: -EBUSY | -EINVAL }`.
   */
  alloc_chrdev_region(
    baseminor: number,
    count_: number,
    name: string,
  ): { ret: 0; dev: number } | { ret: -16 | -22 } {
    const op = "alloc_chrdev_region";
    if (!Number.isInteger(baseminor) || baseminor < 0 || baseminor > MINORMASK)
      throw new KernelError("EINVAL", `baseminor ${String(baseminor)} is not a minor`, { op });
    if (typeof name !== "string") throw new KernelError("EINVAL", "name is not a string", { op });
    const r = this.#register(0, baseminor, count(op, count_), name);
    if (typeof r === "number") return { ret: r as -16 | -22 };
    return { ret: 0, dev: MKDEV(r.major, r.baseminor) };
  }

  /** `unregister_chrdev_region(from, count)`: releases exactly matching regions; anything else is silently kept. */
  unregister_chrdev_region(from: number, count_: number): void {
    const op = "unregister_chrdev_region";
    const start = dev_t(op, from);
    const to = start + count(op, count_);
    for (let n = start; n < to; ) {
      const next = Math.min((MAJOR(n) + 1) * 2 ** 20, to);
      this.#unregister(MAJOR(n), MINOR(n), next - n);
      n = next;
    }
  }

  /**
   * `register_chrdev(major, name, fops)` (`__register_chrdev(major, 0, 256, …)`): minors 0..255 and a cdev with
   * `fops`. Returns the allocated major when `major` is 0, else 0; or a negative errno.
   */
  register_chrdev<Ops>(major: number, name: string, fops: Ops, owner?: unknown): number {
    const op = "register_chrdev";
    if (!Number.isInteger(major) || major < 0)
      throw new KernelError("EINVAL", `major ${String(major)} is not a major`, { op });
    if (typeof name !== "string") throw new KernelError("EINVAL", "name is not a string", { op });
    const r = this.#register(major, 0, 256, name);
    if (typeof r === "number") return r;
    // __register_chrdev(): cdev->owner = fops->owner (an explicit `owner` overrides it).
    const cdev = new Cdev(fops, owner ?? (fops as { owner?: unknown } | null)?.owner);
    const rc = this.cdev_add(cdev, MKDEV(r.major, 0), 256);
    if (rc !== 0) {
      cdev.kref = 0; // kobject_put(&cdev->kobj)
      this.#unregister(r.major, 0, 256);
      return rc;
    }
    this.#cdevOf.set(r, cdev); // cd->cdev = cdev
    return major === 0 ? r.major : 0;
  }

  /**
   * `unregister_chrdev(major, name)` (`__unregister_chrdev(major, 0, 256, name)`): releases minors 0..255 of `major`
   * and, when register_chrdev made that region, deletes its cdev (`cd->cdev`) — never a cdev someone else added.
   */
  unregister_chrdev(major: number, name: string): void {
    void name; // the kernel ignores it too
    const cd = this.#unregister(major, 0, 256);
    if (cd === undefined) return;
    const cdev = this.#cdevOf.get(cd);
    if (cdev !== undefined) this.cdev_del(cdev);
  }

  /**
   * `cdev_add(cdev, dev, count)`: makes the cdev live for `count` numbers from `dev` (it does not check that they were
   * registered). `dev` 0 (WHITEOUT_DEV) is -EBUSY with a WARN.
   */
  cdev_add(cdev: Cdev, dev: number, count_: number): 0 | -16 {
    const op = "cdev_add";
    if (!(cdev instanceof Cdev)) throw new KernelError("EINVAL", "not a Cdev", { op });
    const d = dev_t(op, dev);
    const n = count(op, count_);
    cdev.dev = d;
    cdev.count = n;
    if (d === 0) {
      this.#printk("WARNING: fs/char_dev.c cdev_add: WARN_ON(dev == WHITEOUT_DEV)");
      return -16;
    }
    let at = 0;
    while (at < this.#map.length && this.#map[at]!.range < n) at++;
    this.#map.splice(at, 0, { dev: d, range: n, cdev });
    return 0;
  }

  /**
   * `cdev_del(cdev)`: cdev_unmap (new lookups of its numbers fail from now on) and kobject_put. Files already open
   * keep their operations, and an inode that cached the cdev still opens it while such a file exists; after the last
   * close the kobject is released and cdev_purge() forgets it in every inode (opens are -ENXIO).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a second cdev_del of the same cdev (a refcount underflow)
   */
  cdev_del(cdev: Cdev): void {
    const op = "cdev_del";
    if (!(cdev instanceof Cdev)) throw new KernelError("EINVAL", "not a Cdev", { op });
    if (cdev.deleted) throw new KernelError("EINVAL", "the cdev was already deleted", { op });
    const i = this.#map.findIndex((m) => m.cdev === cdev);
    if (i >= 0) this.#map.splice(i, 1);
    cdev.deleted = true;
    if (cdev.kref > 0) cdev.kref--;
  }

  /** The live cdev for a device number (kobj_lookup: the smallest range that covers it), or undefined (-ENXIO). */
  lookup(dev: number): Cdev | undefined {
    const d = dev_t("kobj_lookup", dev);
    return this.#map.find((m) => d >= m.dev && d < m.dev + m.range)?.cdev;
  }

  /** The registered regions, in /proc/devices order. */
  regions(): ChrdevRegion[] {
    const out: ChrdevRegion[] = [];
    for (let major = 0; major < CHRDEV_MAJOR_MAX; major++)
      for (const cd of this.#slots[major % CHRDEV_MAJOR_HASH_SIZE]!) if (cd.major === major) out.push(cd);
    return out;
  }

  /** The character part of `/proc/devices` (fs/proc/devices.c + chrdev_show: `%3d %s` per region). */
  procDevices(): string {
    return `Character devices:\n${this.regions()
      .map((cd) => `${String(cd.major).padStart(3)} ${cd.name}\n`)
      .join("")}`;
  }
}
