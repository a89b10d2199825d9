// fs/char_dev.c: regions, the dynamic-major order, overlaps, splitting per major, exact unregistration, cdevs,
// /proc/devices (spec §4.2-4.4).
import { MKDEV } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import { Cdev, ChrdevRegistry, LOCAL_EXPERIMENTAL_CHAR_MAJORS } from "../src/index.js";

describe("dynamic majors", () => {
  it("come from 254 down to 234, then 511 down to 384 (find_dynamic_major)", () => {
    const r = new ChrdevRegistry();
    const majors: number[] = [];
    for (let i = 0; i < 24; i++) {
      const got = r.alloc_chrdev_region(0, 1, `d${i}`);
      expect(got.ret).toBe(0);
      if (got.ret === 0) majors.push(got.dev >> 20);
    }
    expect(majors.slice(0, 3)).toEqual([254, 253, 252]);
    expect(majors.slice(19, 24)).toEqual([235, 234, 511, 510, 509]);
  });

  it("a static major 489 (hash slot 234) makes 234 unavailable for the first scan", () => {
    const r = new ChrdevRegistry();
    expect(r.register_chrdev_region(MKDEV(489, 0), 1, "high")).toBe(0);
    for (let m = 254; m >= 235; m--) r.register_chrdev_region(MKDEV(m, 0), 1, `s${m}`);
    const got = r.alloc_chrdev_region(0, 1, "next");
    expect(got).toEqual({ ret: 0, dev: MKDEV(511, 0) });
  });

  it("a full dynamic range is -EBUSY with the kernel's pr_err", () => {
    const r = new ChrdevRegistry();
    for (let i = 0; i < 21 + 128; i++) r.alloc_chrdev_region(0, 1, `d${i}`);
    expect(r.alloc_chrdev_region(0, 1, "late")).toEqual({ ret: -16 });
    expect(r.log).toEqual(['CHRDEV "late" dynamic allocation region is full']);
  });
});

describe("static regions", () => {
  it("overlaps on one major are -EBUSY; disjoint ranges coexist; a range spanning majors is split", () => {
    const r = new ChrdevRegistry();
    expect(r.register_chrdev_region(MKDEV(60, 0), 16, "a")).toBe(0);
    expect(r.register_chrdev_region(MKDEV(60, 8), 16, "b")).toBe(-16);
    expect(r.register_chrdev_region(MKDEV(60, 16), 16, "c")).toBe(0);
    expect(r.register_chrdev_region(MKDEV(61, 0xffffe), 4, "span")).toBe(0);
    expect(r.procDevices()).toBe("Character devices:\n 60 a\n 60 c\n 61 span\n 62 span\n");
  });

  it("a failing piece rolls back the pieces before it", () => {
    const r = new ChrdevRegistry();
    r.register_chrdev_region(MKDEV(121, 0), 1, "taken");
    expect(r.register_chrdev_region(MKDEV(120, 0xfffff), 2, "x")).toBe(-16);
    expect(r.procDevices()).toBe("Character devices:\n121 taken\n");
  });

  it("major >= 512 and too many minors are -EINVAL with the kernel's messages", () => {
    const r = new ChrdevRegistry();
    expect(r.register_chrdev_region(MKDEV(512, 0), 1, "big")).toBe(-22);
    expect(r.alloc_chrdev_region(10, 0x100000, "many")).toEqual({ ret: -22 });
    expect(r.log).toEqual([
      'CHRDEV "big" major requested (512) is greater than the maximum (511)',
      'CHRDEV "many" minor range requested (10-1048585) is out of range of maximum range (0-1048575) for a single major',
    ]);
  });

  it("unregister_chrdev_region removes exact matches only; names are cut to 63 characters", () => {
    const r = new ChrdevRegistry();
    r.register_chrdev_region(MKDEV(62, 0), 4, "n".repeat(80));
    r.unregister_chrdev_region(MKDEV(62, 0), 2); // not the same range: nothing happens
    expect(r.regions()).toEqual([{ major: 62, baseminor: 0, minorct: 4, name: "n".repeat(63) }]);
    r.unregister_chrdev_region(MKDEV(62, 0), 4);
    expect(r.regions()).toEqual([]);
  });
});

describe("register_chrdev and cdevs", () => {
  it("register_chrdev returns the dynamic major or 0, reserves 256 minors and makes a live cdev", () => {
    const r = new ChrdevRegistry();
    const fops = { name: "fops" };
    const major = r.register_chrdev(0, "article", fops);
    expect(major).toBe(254);
    expect(r.register_chrdev(60, "exp", fops)).toBe(0);
    expect(r.lookup(MKDEV(254, 255))?.ops).toBe(fops);
    expect(r.lookup(MKDEV(254, 256))).toBeUndefined();
    expect(r.register_chrdev(60, "again", fops)).toBe(-16);
    r.unregister_chrdev(254, "article");
    expect(r.lookup(MKDEV(254, 0))).toBeUndefined();
    expect(r.procDevices()).toBe("Character devices:\n 60 exp\n");
  });

  it("cdev_add does not need a region; the smallest covering range wins; WHITEOUT_DEV is -EBUSY; cdev_del", () => {
    const r = new ChrdevRegistry();
    const wide = new Cdev("wide");
    const narrow = new Cdev("narrow");
    expect(r.cdev_add(wide, MKDEV(200, 0), 16)).toBe(0);
    expect(r.cdev_add(narrow, MKDEV(200, 4), 1)).toBe(0);
    expect(r.lookup(MKDEV(200, 4))).toBe(narrow);
    expect(r.lookup(MKDEV(200, 5))).toBe(wide);
    expect([wide.dev, wide.count]).toEqual([MKDEV(200, 0), 16]);
    expect(r.cdev_add(new Cdev("w"), 0, 1)).toBe(-16);
    expect(r.log).toEqual(["WARNING: fs/char_dev.c cdev_add: WARN_ON(dev == WHITEOUT_DEV)"]);
    r.cdev_del(narrow);
    expect(r.lookup(MKDEV(200, 4))).toBe(wide);
  });

  it("bad arguments are EINVAL", () => {
    const r = new ChrdevRegistry();
    expect(() => r.register_chrdev_region(-1, 1, "x")).toThrow(/EINVAL/);
    expect(() => r.register_chrdev_region(0, 1.5, "x")).toThrow(/EINVAL/);
    expect(() => r.alloc_chrdev_region(0x100000, 1, "x")).toThrow(/EINVAL/);
    expect(() => r.cdev_add({} as never, 1, 1)).toThrow(/EINVAL/);
    expect(() => r.register_chrdev(-3, "x", {})).toThrow(/EINVAL/);
  });
});

describe("register_chrdev_region with major 0", () => {
  it("silently takes a dynamic major the caller cannot learn (the spec's note on fs/char_dev.c)", () => {
    const r = new ChrdevRegistry();
    expect(r.register_chrdev_region(MKDEV(0, 5), 2, "sneaky")).toBe(0);
    expect(r.regions()).toEqual([{ major: 254, baseminor: 5, minorct: 2, name: "sneaky" }]);
  });
});

describe("the local/experimental majors (devices.txt)", () => {
  it("are 60-63 and 120-127, outside the dynamic ranges, and free on a fresh registry", () => {
    expect(LOCAL_EXPERIMENTAL_CHAR_MAJORS).toEqual([60, 61, 62, 63, 120, 121, 122, 123, 124, 125, 126, 127]);
    const r = new ChrdevRegistry();
    for (const m of LOCAL_EXPERIMENTAL_CHAR_MAJORS) expect(r.register_chrdev(m, `exp${m}`, {})).toBe(0);
    expect(r.alloc_chrdev_region(0, 1, "dyn")).toEqual({ ret: 0, dev: MKDEV(254, 0) });
  });
});
