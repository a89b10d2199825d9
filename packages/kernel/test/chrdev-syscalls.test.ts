// A character device reached by path through the system calls: a module registers it, devtmpfs names it, a process
// opens /dev/sensor, reads, ioctls, maps its page; rmmod is refused while the page is mapped (EAGAIN), allowed after
// munmap; exit gives every frame back.
import { type File, type Module, O_RDONLY, O_RDWR } from "@kbridge/chrdev";
import { MKDEV } from "@kbridge/uapi";
import { GFP_KERNEL, MAP_SHARED, PROT_READ, PROT_WRITE, type Vma } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import { Kernel, Libc } from "../src/index.js";

function boot() {
  const k = new Kernel();
  const admin = new Libc(k, k.spawn({ comm: "insmod" }));
  const page = k.vmm.phys.alloc_pages(GFP_KERNEL, 0);
  k.vmm.kmem.view(k.vmm.kmem.page_address(page), 4096).set(new TextEncoder().encode("sample page"));
  let major = 0;
  const rc = admin.init_module({
    name: "sensor",
    init: () => {
      const owner = k.modules.find_module("sensor") as Module;
      const fops = {
        owner,
        read: (_f: File, buf: number, count: number, ppos: { pos: number }) => {
          const text = new TextEncoder().encode("rate=10\n").subarray(ppos.pos);
          const n = Math.min(count, text.length);
          if (k.vmm.copy_to_user(buf, text, n) !== 0) return -14;
          ppos.pos += n;
          return n;
        },
        mmap: (_f: File, vma: Vma) => vma.vm_mm.remap_pfn_range(vma, vma.vm_start, page, 4096),
      };
      major = k.chrdevs.register_chrdev(0, "sensor", fops, owner);
      if (major < 0) return major;
      k.mknod("sensor", MKDEV(major, 0));
      return 0;
    },
    exit: () => {
      k.chrdevs.unregister_chrdev(major, "sensor");
      k.unlinkDev("sensor");
      k.vmm.phys.__free_pages(page, 0);
    },
  });
  expect(rc).toBe(0);
  return { k, admin, major };
}

describe("a character device through system calls", () => {
  it("open by path, read, an unknown ioctl, mmap; rmmod refused while mapped, allowed after munmap", () => {
    const { k, admin, major } = boot();
    expect(major).toBe(254);
    const p = new Libc(k, k.spawn({ comm: "reader", uid: 1000 }));
    expect(p.open("/dev/nothing", O_RDWR)).toBe(-1);
    expect(p.errno).toBe(2);
    const fd = p.open("/dev/sensor", O_RDWR) as number;
    expect(fd).toBe(0);
    expect(p.read(fd, 64)).toEqual(new TextEncoder().encode("rate=10\n"));
    expect(p.ioctl(fd, 0x5401)).toBe(-1);
    expect(p.errno).toBe(25);
    expect(p.delete_module("sensor")).toBe(-1);
    expect(p.errno).toBe(1); // EPERM: no CAP_SYS_MODULE
    const addr = p.mmap(0, 4096, PROT_READ, MAP_SHARED, fd);
    expect(addr).toBeGreaterThan(0);
    expect(new TextDecoder().decode(p.peek(addr, 11))).toBe("sample page");
    expect(p.close(fd)).toBe(0);
    expect(admin.delete_module("sensor")).toBe(-1);
    expect(admin.errno).toBe(11); // the mapping holds the file, and the file the module
    expect(p.munmap(addr, 4096)).toBe(0);
    expect(admin.delete_module("sensor")).toBe(0);
    expect(p.open("/dev/sensor", O_RDWR)).toBe(-1);
    expect(k.traceText()).toContain('openat(AT_FDCWD, "/dev/sensor", 02) = 0');
    expect(k.traceText()).toContain(
      'delete_module("sensor", 0) = -1 EAGAIN (Resource temporarily unavailable)',
    );
  });

  it("PROT_WRITE on a shared map of an O_RDONLY fd is EACCES; a socket cannot be mapped (ENODEV) or seeked (ESPIPE)", () => {
    const { k } = boot();
    const p = new Libc(k, k.spawn());
    const fd = p.open("/dev/sensor", O_RDONLY) as number;
    expect(p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd)).toBe(-1);
    expect(p.errno).toBe(13);
    const s = p.socket(16, 3, 0);
    expect(p.mmap(0, 4096, PROT_READ, MAP_SHARED, s)).toBe(-1);
    expect(p.errno).toBe(19);
    expect(k.sys.lseek(p.task, s, 0, 0)).toBe(-29);
    expect(p.mmap(0, 4096, PROT_READ, MAP_SHARED, 9)).toBe(-1);
    expect(p.errno).toBe(9);
  });

  it("exit closes the device and unmaps it: the module unloads and the frames come back", () => {
    const { k, admin } = boot();
    const before = k.vmm.phys.stats().usedFrames;
    const p = new Libc(k, k.spawn());
    const fd = p.open("/dev/sensor", O_RDWR) as number;
    p.mmap(0, 4096, PROT_READ, MAP_SHARED, fd);
    k.exit(p.task, 0);
    expect(k.vmm.phys.stats().usedFrames).toBe(before);
    expect(admin.delete_module("sensor")).toBe(0);
  });
});
