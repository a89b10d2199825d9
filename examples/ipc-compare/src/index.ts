// The source article's comparison table, computed: the same stream of messages moved from a producer to a consumer
// over each mechanism on the simulated kernel, counting what actually happens — system calls (each one a
// user→kernel→user crossing), bytes moved by copy_to_user/copy_from_user, and the copies of the data they amount to.
import { type File, type Module, O_RDONLY, O_RDWR } from "@kbridge/chrdev";
import {
  AF_NETLINK,
  AF_UNIX,
  FUTEX_WAIT,
  FUTEX_WAKE,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK,
  type NetlinkSock,
  NL_CFG_F_NONROOT_RECV,
  O_CREAT,
  SOCK_RAW,
  SOCK_STREAM,
  shm_open,
} from "@kbridge/kernel";
import { nlmsgEnd, nlmsgPut } from "@kbridge/netlink-codec";
import { MKDEV } from "@kbridge/uapi";
import { GFP_KERNEL, MAP_SHARED, PROT_READ, PROT_WRITE, type Vma } from "@kbridge/vmm";

/** The size of each message: one that fits every mechanism (a sysfs attribute holds at most PAGE_SIZE − 1). */
export const MESSAGE = 4000;
/** How many messages each mechanism moves. */
export const COUNT = 50;

/** What one mechanism cost for the whole stream. */
export interface Row {
  /** The mechanism. */
  readonly mechanism: string;
  /** System calls per message (each a user→kernel→user crossing). */
  readonly syscalls: number;
  /** Bytes moved by copy_to_user / copy_from_user per message (data and headers, addresses, msghdrs). */
  readonly bytes: number;
  /** Copies of the data per message: bytes moved / message size, rounded. */
  readonly copies: number;
  /** Whether the consumer got every message intact. */
  readonly intact: boolean;
  /** Where the data waits in between. */
  readonly buffer: string;
  /** What the source article's table claims for the copies. */
  readonly article: string;
}

// The article's "数据拷贝次数" column, per mechanism.
const ARTICLE: Readonly<Record<string, string>> = {
  pipe: "2",
  "unix stream socket": "2 (0 with SCM_RIGHTS)",
  "netlink, process to process": "1, no buffer",
  "netlink, kernel multicast": "1, no buffer",
  "read() of a device": "-",
  "ioctl of a device": "1",
  "mmap of a device page": "0",
  "shared memory + futex": "0",
  "sysfs attribute": "2 (page cache)",
};

const payload = (i: number) => new Uint8Array(MESSAGE).fill(0x41 + (i % 26));

// Runs `transfer` COUNT times on `k` and measures it: the trace entries and the uaccess bytes of the loop only.
function measure(k: Kernel, mechanism: string, buffer: string, transfer: (i: number) => Uint8Array): Row {
  const t0 = k.trace.length;
  const b0 = k.vmm.uaccessStats().bytesCopied;
  let intact = true;
  for (let i = 0; i < COUNT; i++) {
    const got = transfer(i);
    if (got.length !== MESSAGE || got[0] !== 0x41 + (i % 26) || got[MESSAGE - 1] !== 0x41 + (i % 26))
      intact = false;
  }
  const syscalls = (k.trace.length - t0) / COUNT;
  const bytes = (k.vmm.uaccessStats().bytesCopied - b0) / COUNT;
  return {
    mechanism,
    syscalls,
    bytes,
    copies: Math.round(bytes / MESSAGE),
    intact,
    buffer,
    article: ARTICLE[mechanism] ?? "-",
  };
}

function boot(): { k: Kernel; a: Libc; b: Libc } {
  const k = new Kernel({ traceLimit: 1_000_000 });
  return { k, a: new Libc(k, k.spawn({ comm: "producer" })), b: new Libc(k, k.spawn({ comm: "consumer" })) };
}

function pipe(): Row {
  const { k, a, b } = boot();
  const [r, w] = a.pipe() as [number, number];
  const child = new Libc(k, k.fork(a.task)); // the consumer shares the pipe through fork
  a.close(r);
  child.close(w);
  void b;
  const src = a.malloc(MESSAGE);
  const dst = child.malloc(MESSAGE);
  return measure(k, "pipe", "pipe buffer pages", (i) => {
    a.poke(src, payload(i));
    k.sys.write(a.task, w, src, MESSAGE);
    k.sys.read(child.task, r, dst, MESSAGE);
    return child.peek(dst, MESSAGE);
  });
}

function unixStream(): Row {
  const { k, a } = boot();
  const [s0, s1] = a.socketpair(AF_UNIX, SOCK_STREAM) as [number, number];
  const child = new Libc(k, k.fork(a.task));
  a.close(s1);
  child.close(s0);
  const src = a.malloc(MESSAGE);
  const dst = child.malloc(MESSAGE);
  return measure(k, "unix stream socket", "skb in the peer's queue", (i) => {
    a.poke(src, payload(i));
    k.sys.write(a.task, s0, src, MESSAGE);
    k.sys.read(child.task, s1, dst, MESSAGE);
    return child.peek(dst, MESSAGE);
  });
}

function netlinkUserToUser(): Row {
  const { k, a, b } = boot();
  const rx = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
  b.bind(rx, {});
  const tx = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
  const to = a.malloc(12);
  a.poke(to, Uint8Array.of(16, 0, 0, 0, ...le32(b.task.pid), 0, 0, 0, 0));
  const src = a.malloc(MESSAGE);
  const dst = b.malloc(MESSAGE);
  return measure(k, "netlink, process to process", "skb in the receiver's queue", (i) => {
    a.poke(src, payload(i));
    k.sys.sendto(a.task, tx, src, MESSAGE, 0, to, 12);
    k.sys.recvfrom(b.task, rx, dst, MESSAGE, MSG_DONTWAIT);
    return b.peek(dst, MESSAGE);
  });
}

function netlinkKernelToUser(): Row {
  const { k, b } = boot();
  const sk = k.netlink.netlink_kernel_create(25, { flags: NL_CFG_F_NONROOT_RECV }) as NetlinkSock;
  const rx = b.socket(AF_NETLINK, SOCK_RAW, 25);
  b.bind(rx, { nl_groups: 1 });
  const dst = b.malloc(MESSAGE + 16);
  return measure(k, "netlink, kernel multicast", "skb in the listener's queue", (i) => {
    const skb = k.netlink.nlmsg_new(MESSAGE);
    const nlh = nlmsgPut(skb, 0, 0, 0x10, MESSAGE, 0)!;
    skb.buffer.set(payload(i), nlh + 16); // the kernel builds it in place: no crossing
    nlmsgEnd(skb, nlh);
    k.netlink.nlmsg_multicast(sk, skb, 0, 1);
    k.sys.recvfrom(b.task, rx, dst, MESSAGE + 16, MSG_DONTWAIT);
    return b.peek(dst + 16, MESSAGE);
  });
}

// A device whose driver hands the current message out by read(), by an ioctl, or through a mapped page.
function device(k: Kernel): { data: Uint8Array; set: (i: number) => void } {
  const page = k.vmm.phys.alloc_pages(GFP_KERNEL, 0);
  const data = k.vmm.kmem.view(k.vmm.kmem.page_address(page), 4096);
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  insmod.init_module({
    name: "msgdev",
    init: () => {
      const owner = k.modules.find_module("msgdev") as Module;
      const major = k.chrdevs.register_chrdev(
        0,
        "msgdev",
        {
          owner,
          read: (_f: File, buf: number, count: number) => {
            const n = Math.min(count, MESSAGE);
            return k.vmm.copy_to_user(buf, data.subarray(0, n), n) === 0 ? n : -14;
          },
          unlocked_ioctl: (_f: File, _cmd: number, arg: number) =>
            k.vmm.copy_to_user(arg, data.subarray(0, MESSAGE), MESSAGE) === 0 ? 0 : -14,
          mmap: (_f: File, vma: Vma) => vma.vm_mm.remap_pfn_range(vma, vma.vm_start, page, 4096),
        },
        owner,
      );
      k.mknod("msgdev", MKDEV(major, 0));
      return 0;
    },
  });
  return { data, set: (i) => data.set(payload(i)) };
}

function readPath(): Row {
  const { k, b } = boot();
  const dev = device(k);
  const fd = b.open("/dev/msgdev", O_RDONLY) as number;
  const dst = b.malloc(MESSAGE);
  return measure(k, "read() of a device", "the driver's kernel buffer", (i) => {
    dev.set(i);
    k.sys.read(b.task, fd, dst, MESSAGE);
    return b.peek(dst, MESSAGE);
  });
}

function ioctlPath(): Row {
  const { k, b } = boot();
  const dev = device(k);
  const fd = b.open("/dev/msgdev", O_RDONLY) as number;
  const dst = b.malloc(MESSAGE);
  return measure(k, "ioctl of a device", "the driver's kernel buffer", (i) => {
    dev.set(i);
    k.sys.ioctl(b.task, fd, 0x80000000 | (MESSAGE << 16) | 0x4d01, dst);
    return b.peek(dst, MESSAGE);
  });
}

function mmapPath(): Row {
  const { k, b } = boot();
  const dev = device(k);
  const fd = b.open("/dev/msgdev", O_RDONLY) as number;
  const view = b.mmap(0, 4096, PROT_READ, MAP_SHARED, fd);
  return measure(k, "mmap of a device page", "the page itself (mapped once)", (i) => {
    dev.set(i); // the device (or the kernel) writes the page
    return b.peek(view, MESSAGE); // the process loads from its mapping
  });
}

function shmFutex(): Row {
  const { k, a, b } = boot();
  const fa = shm_open(a, "/stream", O_CREAT | O_RDWR, 0o666);
  a.ftruncate(fa, 8192);
  const fb = shm_open(b, "/stream", O_RDWR);
  const pa = a.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fa);
  const pb = b.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fb);
  // Word 0 of the second page counts messages; the consumer waits for it to change, the producer wakes it.
  return measure(k, "shared memory + futex", "the shared pages", (i) => {
    a.poke(pa, payload(i));
    a.poke(pa + 4096, Uint8Array.from(le32(i + 1)));
    k.sys.futex(a.task, pa + 4096, FUTEX_WAKE, 1);
    k.sys.futex(b.task, pb + 4096, FUTEX_WAIT, i); // the count moved on: EAGAIN, no sleep
    return b.peek(pb, MESSAGE);
  });
}

function sysfsPath(): Row {
  const { k, b } = boot();
  let current = payload(0);
  k.sysfs.createFile("demo", "msg0", "message", {
    mode: 0o444,
    show: (buf) => {
      buf.set(current);
      return MESSAGE;
    },
  });
  const path = b.malloc(64);
  b.poke(path, new TextEncoder().encode("/sys/class/demo/msg0/message\0"));
  const dst = b.malloc(MESSAGE);
  return measure(k, "sysfs attribute", "a page filled by show()", (i) => {
    current = payload(i);
    const fd = k.sys.open(b.task, path, O_RDONLY) as number;
    k.sys.read(b.task, fd, dst, MESSAGE);
    k.sys.close(b.task, fd);
    return b.peek(dst, MESSAGE);
  });
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

/** Every mechanism, measured. */
export function compare(): Row[] {
  return [
    pipe(),
    unixStream(),
    netlinkUserToUser(),
    netlinkKernelToUser(),
    readPath(),
    ioctlPath(),
    mmapPath(),
    shmFutex(),
    sysfsPath(),
  ];
}

/** The table as text. */
export function compareLines(): string[] {
  const rows = compare();
  const w = Math.max(...rows.map((r) => r.mechanism.length));
  const aw = Math.max(16, ...rows.map((r) => r.article.length));
  return [
    `${COUNT} messages of ${MESSAGE} bytes from a producer to a consumer, per message:`,
    "",
    `${"mechanism".padEnd(w)}  syscalls  copies  bytes copied  ${"the article says".padEnd(aw)}  data waits in`,
    ...rows.map(
      (r) =>
        `${r.mechanism.padEnd(w)}  ${String(r.syscalls).padStart(8)}  ${String(r.copies).padStart(6)}  ${String(r.bytes).padStart(12)}  ${r.article.padEnd(aw)}  ${r.buffer}${r.intact ? "" : "  (DATA LOST)"}`,
    ),
    "",
    "(each system call is one user→kernel→user crossing; bytes copied counts copy_to_user/copy_from_user: the data,",
    " and the addresses and headers that go with it; mmap and shared memory move the data by the processes' own",
    " loads and stores, which cross nothing)",
    "where the article's table is wrong: netlink has an intermediate buffer (the skb waits in the receiver's queue,",
    " charged to its rcvbuf) and costs 2 copies between processes; sysfs and procfs fill a kernel buffer with show()",
    " and copy it once, with no page cache; SCM_RIGHTS passes descriptors, not data (the data still takes 2 copies);",
    " shared memory copies nothing but still needs system calls to wait and wake.",
  ];
}

/** Prints the example. */
export function runExample(print: (line: string) => void): void {
  for (const l of compareLines()) print(l);
}
