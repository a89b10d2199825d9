// An ioctl round trip through the framework — VFS dispatch, table lookup, copy 64 bytes in, the handler on a view of
// the kernel buffer, copy 64 bytes out — against the two copies alone, in the same run. (A real ioctl(FIONREAD) syscall costs about
// 109 ns on the project's reference VM: bench-results/ipc-baselines.md.)
import { _IOWR, array, MKDEV, struct, u32 } from "@kbridge/uapi";
import { MAP_ANONYMOUS, MAP_POPULATE, MAP_PRIVATE, PROT_READ, PROT_WRITE, Vmm } from "@kbridge/vmm";
import {
  Cdev,
  ChrdevRegistry,
  type File,
  Inode,
  type IoctlCommand,
  IoctlTable,
  O_RDWR,
  Vfs,
} from "../src/index.js";

const msg = struct("msg64", { words: array(u32, 16) }); // 64 bytes
const CMD = _IOWR("B", 1, msg);
const vmm = new Vmm({ ram: 16 << 20 });
const mm = vmm.mm_alloc();
vmm.switch_mm(mm);
const ubuf = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE);
const table = new IoctlTable(vmm, [
  { name: "ECHO", cmd: CMD, arg: msg, mode: "view", handler: () => 0 } as IoctlCommand,
]);
const chrdevs = new ChrdevRegistry();
chrdevs.cdev_add(new Cdev({ unlocked_ioctl: table.unlocked_ioctl }), MKDEV(60, 0), 1);
const vfs = new Vfs(vmm, chrdevs);
const file = vfs.open(new Inode(MKDEV(60, 0)), O_RDWR) as File;
const kbuf = new Uint8Array(64);

export default {
  group: "ioctl round trip, 64 bytes in and out",
  tasks: {
    "Vfs.ioctl → IoctlTable (dispatch, copies, view)": () => vfs.ioctl(file, CMD, ubuf),
    "copy_from_user + copy_to_user of 64 bytes (baseline)": () =>
      vmm.copy_from_user(kbuf, ubuf, 64) + vmm.copy_to_user(ubuf, kbuf, 64),
  },
  compare: [
    {
      name: "Vfs.ioctl → IoctlTable (dispatch, copies, view)",
      baseline: "copy_from_user + copy_to_user of 64 bytes (baseline)",
    },
  ],
};
