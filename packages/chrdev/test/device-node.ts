// The setup the VFS tests share: a machine with a process, one cdev at 60:0 with the given operations, its device
// node, and 8 KiB of the process's memory for buffers.
import { MKDEV } from "@kbridge/uapi";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, Vmm } from "@kbridge/vmm";
import { Cdev, ChrdevRegistry, File, type FileOperations, Inode, Vfs } from "../src/index.js";

/** A machine with a live cdev at 60:0 (`fops`), its node, and a user buffer. */
export function setup(fops: FileOperations) {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  const chrdevs = new ChrdevRegistry();
  const cdev = new Cdev(fops);
  chrdevs.cdev_add(cdev, MKDEV(60, 0), 1);
  const vfs = new Vfs(vmm, chrdevs);
  const node = new Inode(MKDEV(60, 0));
  const buf = mm.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  return { vmm, mm, chrdevs, cdev, vfs, node, buf };
}

/** The File of a successful open (an errno is a test failure). */
export const opened = (v: File | number): File => {
  if (!(v instanceof File)) throw new Error(`open failed: ${v}`);
  return v;
};
