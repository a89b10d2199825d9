// The source article's case 2 — a character device whose module allocates a 4 MiB DMA buffer and lets a process map
// it — run on the simulated kernel twice: as written, with what the model reports for each mistake (rows M3, M6,
// M7, M9, M10, M16, M19 of the project's review of the article), and done right: a device with a DMA mask, an engine
// that writes the buffer, a process that maps it and reads what the device wrote, compared with read() +
// copy_to_user.
import { type File, type Module, O_RDONLY, O_RDWR } from "@kbridge/chrdev";
import {
  Device,
  DMA_BIT_MASK,
  DMA_FROM_DEVICE,
  type DmaCoherent,
  dma_alloc_coherent,
  dma_free_coherent,
  dma_map_single,
  dma_mapping_error,
  dma_mmap_coherent,
  dma_set_mask_and_coherent,
  dma_sync_single_for_cpu,
  dma_unmap_single,
} from "@kbridge/dma-device";
import { Kernel, Libc } from "@kbridge/kernel";
import { MKDEV, strerror } from "@kbridge/uapi";
import {
  GFP_KERNEL,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_IO,
  VM_PFNMAP,
  type Vma,
} from "@kbridge/vmm";

const MiB = 1 << 20;
/** The article's buffer: 4 MiB. */
export const DMA_BUF_SIZE = 4 * MiB;
/** The article's `MAJOR_NUM`. */
export const MAJOR_NUM = 240;
const NAME = "dma_mmap_dev";

// printk's %pad: a dma_addr_t as "0x" and 16 hex digits, so the article's "0x%pad" prints "0x0x…" (M19).
const pad = (a: bigint) => `0x${a.toString(16).padStart(16, "0")}`;
const err = (libc: Libc) => `${strerror(libc.errno)}`;

interface Driver {
  buf: DmaCoherent | null;
  dev: Device | null;
  major: number;
}

/**
 * The article's module: `register_chrdev(240)`, a `root_device_register()` device, a 4 MiB coherent buffer, and an
 * mmap that checks only the VMA's length and passes that length to dma_mmap_coherent. `kind` picks the device (the
 * article's root device, or a PCI device with a DMA mask) so the later mistakes can be shown too.
 */
function articleModule(k: Kernel, kind: "root" | "pci", log: string[]) {
  const d: Driver = { buf: null, dev: null, major: 0 };
  const def = {
    name: NAME,
    init: (): number => {
      const owner = k.modules.find_module(NAME) as Module;
      const fops = {
        owner,
        // .mmap = dma_mmap; no read, write, ioctl, llseek (M16)
        mmap: (_f: File, vma: Vma) => {
          const size = vma.vm_end - vma.vm_start;
          if (size > DMA_BUF_SIZE) {
            log.push("    pr_err: mmap size too large");
            return -22;
          }
          // vma->vm_flags |= VM_IO | VM_DONTEXPAND | VM_DONTDUMP: remap_pfn_range sets them itself (M8)
          const rc = dma_mmap_coherent(d.dev!, vma, d.buf!.cpu_addr, d.buf!.dma_handle, size); // the VMA's size (M9)
          if (rc < 0) log.push(`    pr_err: dma_mmap_coherent failed: ${rc}`);
          return rc;
        },
      };
      const ret = k.chrdevs.register_chrdev(MAJOR_NUM, NAME, fops, owner);
      if (ret < 0) {
        log.push(`    pr_err: register_chrdev failed: ${ret}`);
        return ret;
      }
      d.major = MAJOR_NUM;
      d.dev = new Device(k.vmm, NAME, kind);
      if (kind === "pci") dma_set_mask_and_coherent(d.dev, DMA_BIT_MASK(32));
      d.buf = dma_alloc_coherent(d.dev, DMA_BUF_SIZE, GFP_KERNEL);
      if (d.buf === null) {
        log.push("    pr_err: dma_alloc_coherent failed");
        k.chrdevs.unregister_chrdev(MAJOR_NUM, NAME);
        return -12;
      }
      log.push(`    pr_info: DMA mmap device initialized: phys=0x${pad(d.buf.dma_handle)}`);
      k.mknod(NAME, MKDEV(MAJOR_NUM, 0));
      return 0;
    },
    exit: () => {
      if (d.buf) dma_free_coherent(d.dev!, DMA_BUF_SIZE, d.buf.cpu_addr, d.buf.dma_handle);
      k.chrdevs.unregister_chrdev(MAJOR_NUM, NAME);
      k.unlinkDev(NAME);
    },
  };
  return { def, d };
}

/** The article's case as written, with what the model reports for each mistake. */
export function articleAsWritten(): string[] {
  const out: string[] = [];

  // M6: major 240 sits in the dynamic range.
  {
    const k = new Kernel();
    for (let i = 0; i < 15; i++) k.chrdevs.register_chrdev(0, `dyn${i}`, {});
    out.push(
      "M6  register_chrdev(240, …): 240 lies in the dynamic range 234–254. On a fresh boot it is free and works;",
      `    after 15 drivers took dynamic majors (254 down to 240) it is ${k.chrdevs.register_chrdev(MAJOR_NUM, NAME, {})} (-EBUSY).`,
    );
  }

  // M7 (and M19's printk never runs): the root device has no DMA mask.
  {
    const k = new Kernel();
    const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
    const log: string[] = [];
    const { def } = articleModule(k, "root", log);
    insmod.init_module(def);
    out.push(
      "",
      "M7  insmod: the buffer is allocated on a root_device_register() device, which has no DMA mask:",
      ...log,
      ...k.vmm.dmesg().map((l) => `    ${l}`),
      `    ${k.trace.at(-1)?.text}`,
    );
  }

  // The rest on a device with a mask, as the article's code would run once M7 is fixed.
  const k = new Kernel();
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  const log: string[] = [];
  const { def } = articleModule(k, "pci", log);
  out.push("", "with a PCI device and a 32-bit mask instead, the module loads:");
  insmod.init_module(def);
  out.push(...log.splice(0), '    M19: "0x%pad" prints 0x twice: %pad already adds it');

  const user = new Libc(k, k.spawn({ comm: "dma_user", uid: 0 }));
  const fd = user.open(`/dev/${NAME}`, O_RDWR) as number;
  // M16: the fops have only mmap.
  out.push(
    "",
    "M16 the article's fops have only .mmap, so the VFS answers the rest:",
    `    read() = ${user.read(fd, 64) === -1 ? `-1 ${err(user)}` : "?"}; ioctl(fd, 0x1234) = ${user.ioctl(fd, 0x1234) === -1 ? `-1 ${err(user)}` : "?"}; lseek = ${k.sys.lseek(user.task, fd, 0, 0)} (ESPIPE); poll mask ${k.vfs.poll((user.task.fds[fd]!.object as { file: File }).file).toString(16)} (DEFAULT_POLLMASK)`,
  );

  // M9: the mmap checks.
  const big = user.mmap(0, 8 * MiB, PROT_READ, MAP_SHARED, fd, 0);
  out.push(
    "",
    "M9  the driver's own size check, and dma_mmap_coherent given the VMA's length instead of the buffer's:",
  );
  out.push(
    `    mmap(8 MiB) = ${big === -1 ? `-1 ${err(user)}` : big} — the driver's check`,
    ...log.splice(0),
  );
  const off = user.mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 4096);
  out.push(
    `    mmap(4 KiB at offset 4 KiB, inside the 4 MiB buffer) = ${off === -1 ? `-1 ${err(user)}` : off}`,
    ...log.splice(0),
    "    (count = the VMA's 1 page, vm_pgoff 1 ≥ count: every map at a non-zero offset fails)",
  );
  const ro = user.open(`/dev/${NAME}`, O_RDONLY) as number;
  const w = user.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
  out.push(
    `    PROT_WRITE|MAP_SHARED on an O_RDONLY fd = ${w === -1 ? `-1 ${err(user)}` : w}, before the driver runs`,
  );
  user.close(ro);

  // M10: rmmod while mapped.
  const map = user.mmap(0, DMA_BUF_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  out.push("", `M10 the process maps the whole buffer (mmap = 0x${map.toString(16)}); rmmod:`);
  out.push(
    `    while the fd is open: delete_module = ${insmod.delete_module(NAME) === -1 ? `-1 ${err(insmod)}` : 0}`,
  );
  user.close(fd);
  out.push(
    `    after close, still mapped: delete_module = ${insmod.delete_module(NAME) === -1 ? `-1 ${err(insmod)}` : 0}`,
  );
  user.munmap(map, DMA_BUF_SIZE);
  out.push(`    after munmap: delete_module = ${insmod.delete_module(NAME)}`);
  out.push(
    "M24 and nothing in the article's module ever writes the buffer: there is no device engine at all.",
  );
  return out;
}

/**
 * The corrected device: a PCI device with a mask, a dynamic major, mmap with the kernel's own bound, a read() that
 * copies with copy_to_user, and an "engine" that writes the buffer over the bus; a process reads a frame both ways.
 */
export function doneRight(): string[] {
  const out: string[] = [];
  const k = new Kernel();
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  const dev = new Device(k.vmm, "0000:00:04.0");
  let buf: DmaCoherent | null = null;
  let major = 0;
  insmod.init_module({
    name: "dma_frame",
    init: () => {
      const owner = k.modules.find_module("dma_frame") as Module;
      const rc = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
      if (rc) return rc;
      buf = dma_alloc_coherent(dev, DMA_BUF_SIZE, GFP_KERNEL);
      if (buf === null) return -12;
      const b = buf;
      major = k.chrdevs.register_chrdev(
        0,
        "dma_frame",
        {
          owner,
          mmap: (_f: File, vma: Vma) => dma_mmap_coherent(dev, vma, b.cpu_addr, b.dma_handle, DMA_BUF_SIZE),
          read: (_f: File, ubuf: number, count: number, ppos: { pos: number }) => {
            const n = Math.max(0, Math.min(count, DMA_BUF_SIZE - ppos.pos));
            if (n === 0) return 0;
            const left = k.vmm.copy_to_user(ubuf, b.cpu_addr + BigInt(ppos.pos), n);
            if (left === n) return -14;
            ppos.pos += n - left;
            return n - left; // a short copy is a short read
          },
        },
        owner,
      );
      if (major < 0) return major;
      k.mknod("dma_frame", MKDEV(major, 0));
      return 0;
    },
    exit: () => {
      k.chrdevs.unregister_chrdev(major, "dma_frame");
      k.unlinkDev("dma_frame");
      if (buf) dma_free_coherent(dev, DMA_BUF_SIZE, buf.cpu_addr, buf.dma_handle);
    },
  });
  out.push(
    `insmod dma_frame: dma_set_mask_and_coherent(32 bits) = 0, a 4 MiB coherent buffer at bus address ${pad(buf!.dma_handle)}, dynamic major ${major}`,
  );
  const p = new Libc(k, k.spawn({ comm: "viewer", uid: 1000 }));
  const fd = p.open("/dev/dma_frame", O_RDONLY) as number;
  const view = p.mmap(0, DMA_BUF_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  const tail = p.mmap(0, 4096, PROT_READ, MAP_SHARED, fd, DMA_BUF_SIZE - 4096);
  const past = p.mmap(0, 8192, PROT_READ, MAP_SHARED, fd, DMA_BUF_SIZE - 4096);
  out.push(
    `viewer (uid 1000) maps it: whole = 0x${view.toString(16)}, last page (offset 4 MiB − 4 KiB) = 0x${tail.toString(16)}, two pages from there = ${past === -1 ? `-1 ${err(p)}` : past} (the kernel's bound)`,
  );

  // The device writes a frame over the bus.
  const frame = new Uint8Array(DMA_BUF_SIZE);
  for (let i = 0; i < frame.length; i += 4096) frame[i] = (i / 4096) & 0xff;
  frame.set(new TextEncoder().encode("frame 1"), 16);
  dev.busWrite(buf!.dma_handle, frame);
  const before = k.vmm.uaccessStats();
  const seen = new TextDecoder().decode(p.peek(view + 16, 7));
  const mid = p.peek(view + 4096 * 100, 1)[0];
  const afterMap = k.vmm.uaccessStats();
  const ubuf = p.mmap(0, DMA_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const r = k.sys.read(p.task, fd, ubuf, DMA_BUF_SIZE) as number;
  const afterRead = k.vmm.uaccessStats();
  out.push(
    `the device DMAs a 4 MiB frame; through the mapping the viewer reads "${seen}" and page 100's marker ${mid}:`,
    `  ${afterMap.bytesCopied - before.bytesCopied} bytes copied, ${afterMap.calls - before.calls} uaccess calls (its own loads)`,
    `the same frame with read(): ${r} bytes, ${afterRead.bytesCopied - afterMap.bytesCopied} bytes copied by copy_to_user, 1 system call`,
    'M12 so mmap saves one 4 MiB copy per frame, and the DMA is paid on both paths. The article\'s "12.3 ms per 4 MB"',
    "    copy_to_user is 0.34 GB/s; a real one takes 0.325 ms on this project's machine (ipc-baselines.md §0): its 15×",
    "    comes from that baseline, not from mmap.",
  );

  // A short read and EFAULT (M3): 100 writable bytes before a PROT_NONE page, on a new open (f_pos 0).
  const fd2 = p.open("/dev/dma_frame", O_RDONLY) as number;
  const two = p.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p.mmap(two + 4096, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  const short = k.sys.read(p.task, fd2, two + 4096 - 100, 4096) as number;
  const none = k.sys.read(p.task, fd2, two + 4096, 10) as number;
  out.push(
    `M3  read(4096) into 100 writable bytes before a PROT_NONE page = ${short} (copy_to_user left ${4096 - short} bytes: a short read);`,
    `    read(10) straight into the PROT_NONE page = ${none} (${strerror(-none)})`,
  );
  p.close(fd2);

  p.munmap(view, DMA_BUF_SIZE);
  p.munmap(tail, 4096);
  p.close(fd);
  k.exit(p.task);
  out.push(`rmmod dma_frame = ${insmod.delete_module("dma_frame")}`);
  return out;
}

/**
 * The article's §6.2 "sync" on a coherent buffer (with a DMA_FROM_CPU that does not exist) misses where syncs matter:
 * streaming DMA on a device that is not cache-coherent. A driver whose read() maps a kernel buffer FROM_DEVICE, lets
 * the device write it and copies it out without dma_sync_single_for_cpu hands the process stale bytes.
 */
export function missingSync(): string[] {
  const k = new Kernel();
  const dev = new Device(k.vmm, "0000:00:05.0", "pci", { coherent: false });
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
  const kbuf = k.vmm.kmem.kmalloc(4096);
  k.vmm.kmem.view(kbuf, 4096).fill(0x11); // what the CPU's cache holds from before
  let sync = false;
  let frameNo = 0;
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  let major = 0;
  insmod.init_module({
    name: "dma_stream",
    init: () => {
      const owner = k.modules.find_module("dma_stream") as Module;
      major = k.chrdevs.register_chrdev(
        0,
        "dma_stream",
        {
          owner,
          read: (_f: File, ubuf: number, count: number) => {
            const n = Math.min(count, 4096);
            const a = dma_map_single(dev, kbuf, 4096, DMA_FROM_DEVICE);
            if (dma_mapping_error(dev, a)) return -12;
            dev.busWrite(a, new Uint8Array(4096).fill(0xa0 + ++frameNo)); // the device's transfer
            if (sync) dma_sync_single_for_cpu(dev, a, 4096, DMA_FROM_DEVICE);
            const left = k.vmm.copy_to_user(ubuf, kbuf, n);
            dma_unmap_single(dev, a, 4096, DMA_FROM_DEVICE);
            return left === n ? -14 : n - left;
          },
        },
        owner,
      );
      k.mknod("dma_stream", MKDEV(major, 0));
      return 0;
    },
    exit: () => {
      k.chrdevs.unregister_chrdev(major, "dma_stream");
      k.unlinkDev("dma_stream");
    },
  });
  const p = new Libc(k, k.spawn({ comm: "reader" }));
  const fd = p.open("/dev/dma_stream", O_RDONLY) as number;
  const hex = (b: Uint8Array | -1 | Promise<Uint8Array | -1>) =>
    b instanceof Uint8Array ? `0x${(b[0] ?? 0).toString(16)}` : String(b);
  const stale = hex(p.read(fd, 16));
  sync = true;
  const fresh = hex(p.read(fd, 16));
  p.close(fd);
  k.exit(p.task);
  insmod.delete_module("dma_stream");
  return [
    "M11 the article syncs its coherent buffer (with a DMA_FROM_CPU that does not exist); syncs belong to streaming DMA:",
    "    a non-coherent device writes frame 0xa1 into a buffer mapped with dma_map_single(…, DMA_FROM_DEVICE);",
    `    read() without dma_sync_single_for_cpu copies the CPU's stale cache: the process reads ${stale};`,
    `    with the sync, the next frame arrives as written: ${fresh} (0xa2)`,
  ];
}

/**
 * The article's claims about uaccess and mappings that the model can show directly: the address-space split (M1),
 * access_ok (M2), the retry loop (M4), the "no page faults" atomic copy (M5), the VMA flags of a device mapping (M8)
 * and the page rounding of mmap (M13).
 */
export function uaccessClaims(): string[] {
  const k = new Kernel();
  const p = new Libc(k, k.spawn({ comm: "claims" }));
  const dev = new Device(k.vmm, "0000:00:06.0");
  dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32));
  const buf = dma_alloc_coherent(dev, 8192, GFP_KERNEL)!;
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  let vmaFlags = 0;
  let major = 0;
  insmod.init_module({
    name: "claims",
    init: () => {
      const owner = k.modules.find_module("claims") as Module;
      major = k.chrdevs.register_chrdev(
        0,
        "claims",
        {
          owner,
          mmap: (_f: File, vma: Vma) => {
            const rc = dma_mmap_coherent(dev, vma, buf.cpu_addr, buf.dma_handle, 8192);
            vmaFlags = vma.vm_flags;
            return rc;
          },
        },
        owner,
      );
      k.mknod("claims", MKDEV(major, 0));
      return 0;
    },
  });
  const fd = p.open("/dev/claims", O_RDWR) as number;
  const map = p.mmap(0, 8192, PROT_READ, MAP_SHARED, fd, 0);
  const out: string[] = [];
  out.push(
    `M1  the user part is the low half: the process's mapping is at 0x${map.toString(16)}; the kernel's view of`,
    `    the same buffer is at 0x${buf.cpu_addr.toString(16)} (the direct map, in the upper canonical half)`,
  );
  // M2: access_ok checks the range, not the mapping.
  const unmapped = 0x10000000;
  out.push(
    `M2  access_ok(ptr, size) has no VERIFY_WRITE since 5.0 and checks only the range: an unmapped user address passes (${k.vmm.access_ok(unmapped, 16)}),`,
    `    a kernel address fails (${k.vmm.access_ok(buf.cpu_addr, 16)})`,
  );
  // M4: the article's retry loop.
  const none = p.mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.vmm.switch_mm(p.task.mm);
  const src = new Uint8Array(64);
  const left = [1, 2, 3].map(() => k.vmm.copy_to_user(none, src, 64));
  out.push(
    `M4  "while (copy_to_user(…) > 0);" into a PROT_NONE page: each try returns ${left.join(", ")}, … — it never ends`,
  );
  // M5: the atomic copy does not fault pages in.
  const fresh = p.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  k.vmm.switch_mm(p.task.mm);
  const atomic = k.vmm.copy_to_user_nofault(fresh, src, 64);
  const normal = k.vmm.copy_to_user(fresh, src, 64);
  out.push(
    `M5  the "no page faults" copy into a page not touched yet: copy_to_user_nofault = ${atomic} (it fails instead of faulting`,
    `    the page in), copy_to_user = ${normal} (the fault is resolved, demand-zero)`,
  );
  const names = [
    [VM_IO, "VM_IO"],
    [VM_PFNMAP, "VM_PFNMAP"],
    [VM_DONTEXPAND, "VM_DONTEXPAND"],
    [VM_DONTDUMP, "VM_DONTDUMP"],
  ] as const;
  out.push(
    `M8  the driver sets no vm_flags: dma_mmap_coherent → remap_pfn_range sets ${names
      .filter(([f]) => vmaFlags & f)
      .map(([, n]) => n)
      .join(" | ")} itself; caching is the page protection's business`,
  );
  const before = k.vmm.phys.stats().usedFrames;
  const odd = p.mmap(0, 4097, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); // read-only: no merge with a neighbour
  const vma = p.task.mm.find_vma(odd)!;
  const allocated = k.vmm.phys.stats().usedFrames - before;
  out.push(
    `M13 mmap(4097 bytes) maps ${(vma.vm_end - vma.vm_start) / 4096} pages (the length is rounded up) and allocates ${allocated} frames until they are touched`,
  );
  return out;
}

/** Prints the example. */
export function runExample(print: (line: string) => void): void {
  print("The source article's DMA + mmap device, as written:");
  for (const l of articleAsWritten()) print(l);
  for (const l of missingSync()) print(l);
  for (const l of uaccessClaims()) print(l);
  print("");
  print("Done right:");
  for (const l of doneRight()) print(l);
}
