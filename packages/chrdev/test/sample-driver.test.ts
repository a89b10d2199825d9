// A sample driver end to end: a sensor module with a ring buffer of samples, ioctls and write() to configure it, mmap of its
// sample page, poll and a read that sleeps until a sample comes (or -EAGAIN with O_NONBLOCK), driven by a process
// through a vmm address space; the module cannot be unloaded while a file is open and can after close.
import { _IOR, _IOW, MKDEV, struct, u32 } from "@kbridge/uapi";
import {
  GFP_KERNEL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  type Vma,
  Vmm,
} from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  ChrdevRegistry,
  EPOLLIN,
  EPOLLRDNORM,
  type File,
  type FileOperations,
  Inode,
  type IoctlCommand,
  IoctlTable,
  type Module,
  ModuleLoader,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  PollTable,
  poll_wait,
  Vfs,
  WaitQueueHead,
} from "../src/index.js";

const cfg_t = struct("sensor_cfg", { hz: u32, depth: u32 });
const SENSOR_GET_CFG = _IOR("S", 1, cfg_t);
const SENSOR_SET_CFG = _IOW("S", 2, cfg_t);

function machine() {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  const chrdevs = new ChrdevRegistry();
  const modules = new ModuleLoader();
  const vfs = new Vfs(vmm, chrdevs);
  // The driver's state.
  const ring: number[] = [];
  let cfg = { hz: 10, depth: 4 };
  const wq = new WaitQueueHead();
  const page = vmm.phys.alloc_pages(GFP_KERNEL, 0);
  let major = 0;
  const table = new IoctlTable(vmm, [
    { name: "SENSOR_GET_CFG", cmd: SENSOR_GET_CFG, arg: cfg_t, handler: () => ({ ret: 0, value: cfg }) },
    {
      name: "SENSOR_SET_CFG",
      cmd: SENSOR_SET_CFG,
      arg: cfg_t,
      handler: (_f, v) => {
        const c = v as typeof cfg;
        if (c.depth === 0 || c.depth > 64) return -22;
        cfg = c;
        return 0;
      },
    },
  ] as IoctlCommand[]);
  // Reads one sample (4 bytes, little-endian) per call; sleeps while the ring is empty.
  const readSample = (buf: number, count: number): number => {
    if (count < 4) return -22;
    const v = ring.shift()!;
    return vmm.put_user(buf, v, 4) === 0 ? 4 : -14;
  };
  const mod = modules.init_module({
    name: "sensor",
    init: () => {
      const fops: FileOperations = {
        owner: modules.find_module("sensor") as Module,
        read: (file: File, buf: number, count: number) => {
          if (ring.length > 0) return readSample(buf, count);
          if (file.f_flags & O_NONBLOCK) return -11;
          const slept = wq.wait_event_interruptible(() => ring.length > 0);
          return typeof slept === "number"
            ? readSample(buf, count)
            : slept.then((r) => (r < 0 ? r : readSample(buf, count)));
        },
        // A write sets the sampling rate from a decimal string ("250\n"), as `echo 250 > /dev/sensor` would.
        write: (_f: File, buf: number, count: number) => {
          const text = new Uint8Array(Math.min(count, 16));
          if (vmm.copy_from_user(text, buf, text.length) !== 0) return -14;
          const hz = Number.parseInt(new TextDecoder().decode(text), 10);
          if (!(hz > 0)) return -22;
          cfg = { ...cfg, hz };
          return count;
        },
        poll: (_f: File, pt) => {
          poll_wait(wq, pt);
          return ring.length > 0 ? EPOLLIN | EPOLLRDNORM : 0;
        },
        unlocked_ioctl: table.unlocked_ioctl,
        mmap: (_f: File, vma: Vma) => vma.vm_mm.remap_pfn_range(vma, vma.vm_start, page, 4096),
      };
      major = chrdevs.register_chrdev(0, "sensor", fops, fops.owner);
      return Math.min(major, 0);
    },
    exit: () => chrdevs.unregister_chrdev(major, "sensor"),
  }) as Module;
  // The device's interrupt: a new sample, written to the ring and to the shared page.
  const sample = (v: number) => {
    ring.push(v);
    if (ring.length > cfg.depth) ring.shift();
    vmm.phys.view(page * 4096, 4).set(new Uint8Array(new Uint32Array([v]).buffer));
    wq.wake_up_interruptible();
  };
  const node = new Inode(MKDEV(254, 0));
  const ubuf = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  return { vmm, mm, vfs, modules, mod, node, ubuf, sample, wq, cfg: () => cfg };
}

describe("the sensor driver, driven by a process", () => {
  it("ioctl, poll, non-blocking and blocking reads, mmap, and module unload only after close", async () => {
    const { vmm, mm, vfs, modules, mod, node, ubuf, sample, wq, cfg } = machine();
    const f = vfs.open(node, O_RDONLY | O_NONBLOCK) as File;
    expect(mod.refcount).toBe(2);
    // ioctl: read the configuration, set a new one, refuse a bad one.
    expect(vfs.ioctl(f, SENSOR_GET_CFG, ubuf)).toBe(0);
    expect(cfg_t.decode(vmm.userRead(ubuf, 8))).toEqual({ hz: 10, depth: 4 });
    vmm.userWrite(ubuf, cfg_t.encode({ hz: 100, depth: 2 }));
    expect(vfs.ioctl(f, SENSOR_SET_CFG, ubuf)).toBe(0);
    expect(cfg()).toEqual({ hz: 100, depth: 2 });
    vmm.userWrite(ubuf, cfg_t.encode({ hz: 1, depth: 0 }));
    expect(vfs.ioctl(f, SENSOR_SET_CFG, ubuf)).toBe(-22);
    // write(): the rate as text; a read-only open cannot write, a read-write one can.
    vmm.userWrite(ubuf, new TextEncoder().encode("250\n"));
    expect(vfs.write(f, ubuf, 4)).toBe(-9);
    const w = vfs.open(node, O_RDWR) as File;
    expect(vfs.write(w, ubuf, 4)).toBe(4);
    expect(cfg().hz).toBe(250);
    vmm.userWrite(ubuf, new TextEncoder().encode("abc"));
    expect(vfs.write(w, ubuf, 3)).toBe(-22);
    vfs.close(w);
    // Nothing to read yet: O_NONBLOCK gives -EAGAIN, and poll says not readable.
    expect(vfs.read(f, ubuf, 4)).toBe(-11);
    let woke = 0;
    const pt = new PollTable(() => woke++);
    expect(vfs.poll(f, pt)).toBe(0);
    sample(41);
    expect(woke).toBe(1);
    expect(vfs.poll(f, pt)).toBe(EPOLLIN | EPOLLRDNORM);
    pt.free();
    expect(vfs.read(f, ubuf, 4)).toBe(4);
    expect(vmm.get_user(ubuf, 4).val).toBe(41);
    // A blocking read sleeps until the device delivers.
    f.f_flags &= ~O_NONBLOCK;
    const pending = vfs.read(f, ubuf, 4);
    expect(pending).toBeInstanceOf(Promise);
    expect(wq.sleepers).toBe(1);
    sample(42);
    expect(await pending).toBe(4);
    expect(vmm.get_user(ubuf, 4).val).toBe(42);
    // A signal ends a sleep with -EINTR.
    const interrupted = vfs.read(f, ubuf, 4);
    wq.signal();
    expect(await interrupted).toBe(-4);
    // The ring keeps the last `depth` samples.
    for (const v of [1, 2, 3]) sample(v);
    expect(vfs.read(f, ubuf, 4)).toBe(4);
    expect(vmm.get_user(ubuf, 4).val).toBe(2);
    // mmap of the sample page: the process sees the latest sample without a read.
    const view = vfs.mmap(mm, f, 0, 4096, PROT_READ, MAP_SHARED);
    sample(77);
    expect(vmm.get_user(view, 4).val).toBe(77);
    // Unload: refused while the file is open or mapped, done after close and munmap.
    expect(modules.delete_module("sensor")).toBe(-11);
    vfs.close(f);
    expect(modules.delete_module("sensor")).toBe(-11); // the mapping still holds the file
    mm.munmap(view, 4096);
    expect(mod.refcount).toBe(0);
    expect(modules.delete_module("sensor")).toBe(0);
    expect(vfs.open(node, O_RDONLY)).toBe(-6); // the device is gone
  });
});
