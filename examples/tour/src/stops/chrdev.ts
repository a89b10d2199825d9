// Stop 5, @kbridge/chrdev: a driver module registers a character device, a process opens it, reads it, configures
// it with an ioctl, maps it, and rmmod is refused while the mapping holds the file — as the real kernel refuses it.
import {
  ChrdevRegistry,
  type File,
  Inode,
  type IoctlCommand,
  IoctlTable,
  ioctlName,
  type Module,
  ModuleLoader,
  O_RDWR,
  Vfs,
} from "@kbridge/chrdev";
import { _IOW, MKDEV, strerror, struct, u32 } from "@kbridge/uapi";
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
import type { Stop } from "../tour.js";

const rate_cfg = struct("rate_cfg", { hz: u32 });
const SENSOR_SET_RATE = _IOW("S", 1, rate_cfg);

function lines(): string[] {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  const chrdevs = new ChrdevRegistry();
  const modules = new ModuleLoader();
  const vfs = new Vfs(vmm, chrdevs);
  let rate = 10;
  let major = 0;
  const page = vmm.phys.alloc_pages(GFP_KERNEL, 0);
  const table = new IoctlTable(vmm, [
    {
      name: "SENSOR_SET_RATE",
      cmd: SENSOR_SET_RATE,
      arg: rate_cfg,
      handler: (_f, v) => {
        rate = (v as { hz: number }).hz;
        return 0;
      },
    } as IoctlCommand,
  ]);
  const mod = modules.init_module({
    name: "sensor",
    init: () => {
      const fops = {
        owner: modules.find_module("sensor") as Module,
        read: (_f: File, buf: number, count: number, ppos: { pos: number }) => {
          const text = new TextEncoder().encode(`rate=${rate}\n`).subarray(ppos.pos);
          const n = Math.min(count, text.length);
          if (vmm.copy_to_user(buf, text, n) !== 0) return -14;
          ppos.pos += n;
          return n;
        },
        unlocked_ioctl: table.unlocked_ioctl,
        mmap: (_f: File, vma: Vma) => vma.vm_mm.remap_pfn_range(vma, vma.vm_start, page, 4096),
      };
      major = chrdevs.register_chrdev(0, "sensor", fops, fops.owner);
      return Math.min(major, 0); // a negative errno fails the load
    },
    exit: () => chrdevs.unregister_chrdev(major, "sensor"),
  }) as Module;
  const out = [
    `insmod sensor: register_chrdev(0, "sensor", &fops) took the dynamic major ${major};`,
    `  /proc/devices: ${chrdevs.procDevices().trimEnd().split("\n").slice(1).join(", ").trim()}`,
  ];
  const f = vfs.open(new Inode(MKDEV(major, 0)), O_RDWR) as File;
  const buf = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  vmm.userWrite(buf, rate_cfg.encode({ hz: 50 }));
  const rc = vfs.ioctl(f, SENSOR_SET_RATE, buf);
  const r = vfs.read(f, buf, 64); // a Promise only when the driver sleeps; this one never does
  const n = typeof r === "number" ? r : 0;
  out.push(
    `open("/dev/sensor") holds ${mod.refcount} references on the module (cdev owner + fops owner);`,
    `  ioctl(fd, 0x${SENSOR_SET_RATE.toString(16)} = _IOW('S', 1, 4 bytes), &{hz: 50}) = ${rc}; read() = ${n}: "${new TextDecoder().decode(vmm.userRead(buf, n)).trimEnd()}"`,
    `  ioctl(fd, 0x5401) = ${vfs.ioctl(f, 0x5401, buf)} (${ioctlName(0x5401)} means nothing to this driver: -ENOTTY)`,
  );
  const map = vfs.mmap(mm, f, 0, 4096, PROT_READ, MAP_SHARED);
  vfs.close(f);
  const busy = modules.delete_module("sensor");
  out.push(
    "",
    "the source article's pitfall, rmmod while the buffer is mapped: the process closed the fd, but its mapping",
    `  holds the file, so delete_module("sensor") = ${busy} (${strerror(-busy)}) — refused, not a use-after-free`,
  );
  mm.munmap(map, 4096);
  const gone = modules.delete_module("sensor");
  const left = chrdevs.procDevices().trimEnd().split("\n").length - 1;
  out.push(
    `  after munmap: delete_module("sensor") = ${gone}, and /proc/devices lists ${left} character devices.`,
  );
  return out;
}

/** The chrdev stop of the tour. */
export const chrdevStop: Stop = {
  title: "@kbridge/chrdev: a device, its ioctls, and rmmod while mapped",
  lines,
};
