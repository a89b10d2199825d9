// The source article's comparison table, computed: the same stream of messages moved from a producer to a consumer
// over each mechanism on the simulated kernel, counting what actually happens — system calls (each one a
// user→kernel→user crossing), bytes moved by copy_to_user/copy_from_user, and the copies of the data they amount to.
import { runModel, type Scenario } from "@kbridge/ipc-bench";

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

// The mechanisms of the table, as the benchmark kit's model back end names them, and where the data waits.
const RUNS: readonly { name: string; scenario: Omit<Scenario, "size" | "count">; buffer: string }[] = [
  { name: "pipe", scenario: { mechanism: "pipe", pattern: "one-way" }, buffer: "pipe buffer pages" },
  {
    name: "unix stream socket",
    scenario: { mechanism: "unix-stream", pattern: "one-way" },
    buffer: "skb in the peer's queue",
  },
  {
    name: "netlink, process to process",
    scenario: { mechanism: "netlink", pattern: "one-way" },
    buffer: "skb in the receiver's queue",
  },
  {
    name: "netlink, kernel multicast",
    scenario: { mechanism: "netlink-multicast", pattern: "fan-out", receivers: 1 },
    buffer: "skb in the listener's queue",
  },
  {
    name: "read() of a device",
    scenario: { mechanism: "read", pattern: "one-way" },
    buffer: "the driver's kernel buffer",
  },
  {
    name: "ioctl of a device",
    scenario: { mechanism: "ioctl", pattern: "one-way" },
    buffer: "the driver's kernel buffer",
  },
  {
    name: "mmap of a device page",
    scenario: { mechanism: "mmap", pattern: "one-way" },
    buffer: "the page itself (mapped once)",
  },
  {
    name: "shared memory + futex",
    scenario: { mechanism: "shm-futex", pattern: "one-way" },
    buffer: "the shared pages",
  },
  {
    name: "sysfs attribute",
    scenario: { mechanism: "sysfs", pattern: "one-way" },
    buffer: "a page filled by show()",
  },
];

/** Every mechanism, measured (with the benchmark kit's model back end, `runModel`). */
export function compare(): Row[] {
  return RUNS.map(({ name, scenario, buffer }) => {
    const r = runModel({ ...scenario, size: MESSAGE, count: COUNT });
    return {
      mechanism: name,
      syscalls: r.syscalls,
      bytes: r.bytesCopied,
      copies: r.copies,
      intact: r.intact,
      buffer,
      article: ARTICLE[name] ?? "-",
    };
  });
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
