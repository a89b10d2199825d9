// Modules and the char-device path (kernel/module/main.c, spec §4.6): open pins the module twice (cdev owner and
// fops owner), a mapping holds the file after close, and delete_module refuses with 6.12's errnos.
import { MKDEV } from "@kbridge/uapi";
import { MAP_SHARED, PROT_READ, type Vma, Vmm } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  Cdev,
  ChrdevRegistry,
  type File,
  Inode,
  type Module,
  ModuleLoader,
  O_RDWR,
  Vfs,
} from "../src/index.js";

function setup() {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  const chrdevs = new ChrdevRegistry();
  const loader = new ModuleLoader();
  const vfs = new Vfs(vmm, chrdevs);
  const log: string[] = [];
  const page = vmm.phys.alloc_pages(0xcc0, 0);
  let cdev: Cdev | undefined;
  const mod = loader.init_module({
    name: "article_dma",
    init: () => {
      const fops = {
        owner: loader.find_module("article_dma") as Module,
        mmap: (_f: File, vma: Vma) => vma.vm_mm.remap_pfn_range(vma, vma.vm_start, page, 4096),
      };
      cdev = new Cdev(fops, fops.owner);
      chrdevs.register_chrdev_region(MKDEV(60, 0), 1, "article_dma");
      return chrdevs.cdev_add(cdev, MKDEV(60, 0), 1);
    },
    exit: () => {
      chrdevs.cdev_del(cdev!);
      chrdevs.unregister_chrdev_region(MKDEV(60, 0), 1);
      log.push("exit");
    },
  }) as Module;
  return { vmm, mm, vfs, loader, mod, log, node: new Inode(MKDEV(60, 0)) };
}

describe("rmmod while in use", () => {
  it("an open file holds two references; delete_module is -EWOULDBLOCK (EAGAIN) until close", () => {
    const { vfs, loader, mod, node, log } = setup();
    expect(mod.state).toBe("LIVE");
    const f = vfs.open(node, O_RDWR) as File;
    expect(mod.refcount).toBe(2); // cdev_get + fops_get
    expect(loader.delete_module("article_dma")).toBe(-11);
    expect(loader.procModules()).toBe("article_dma 0 2 - Live 0x0000000000000000\n");
    vfs.close(f);
    expect(mod.refcount).toBe(0);
    expect(loader.delete_module("article_dma")).toBe(0);
    expect(log).toEqual(["exit"]);
    expect(loader.delete_module("article_dma")).toBe(-2);
  });

  it("the source article's pitfall: rmmod while mapped is refused, because the mapping holds the file", () => {
    const { mm, vfs, loader, mod, node } = setup();
    const f = vfs.open(node, O_RDWR) as File;
    const addr = vfs.mmap(mm, f, 0, 4096, PROT_READ, MAP_SHARED);
    vfs.close(f); // the fd is gone; the VMA still holds the file
    expect(mod.refcount).toBe(2);
    expect(loader.delete_module("article_dma")).toBe(-11);
    mm.munmap(addr, 4096);
    expect(mod.refcount).toBe(0);
    expect(loader.delete_module("article_dma")).toBe(0);
  });
});

describe("delete_module's other errors and the load path", () => {
  it("EPERM without CAP_SYS_MODULE, ENOENT, EWOULDBLOCK for a used module, EBUSY without exit, EEXIST, init failure", () => {
    const loader = new ModuleLoader();
    const a = loader.init_module({ name: "a", init: () => 0, exit: () => {} }) as Module;
    const b = loader.init_module({ name: "b" }) as Module;
    const noexit = loader.init_module({ name: "noexit", init: () => 0 }) as Module;
    expect(loader.delete_module("a", 0, false)).toBe(-1);
    expect(loader.delete_module("zz")).toBe(-2);
    loader.use(b, a);
    expect(loader.delete_module("a")).toBe(-11);
    expect(loader.delete_module("noexit")).toBe(-16);
    expect(noexit.state).toBe("LIVE");
    expect(loader.init_module({ name: "a" })).toBe(-17);
    expect(loader.init_module({ name: "bad", init: () => -19 })).toBe(-19);
    expect(loader.find_module("bad")).toBeUndefined();
    expect(loader.delete_module("b")).toBe(0); // no init and no exit: removable
    expect(loader.delete_module("a")).toBe(0);
    expect(a.state).toBe("GONE");
    // A forced unload needs CONFIG_MODULE_FORCE_UNLOAD.
    const forcing = new ModuleLoader({ forceUnload: true });
    forcing.init_module({ name: "n", init: () => 0 });
    expect(forcing.delete_module("n", 0o1000)).toBe(0);
  });

  it("an open of a module that is going away is -ENXIO", () => {
    const { vfs, mod, node } = setup();
    mod.state = "GOING";
    expect(vfs.open(node, O_RDWR)).toBe(-6);
    expect(mod.refcount).toBe(0);
  });
});
