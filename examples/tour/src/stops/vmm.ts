// Stop 3, @kbridge/vmm: a buffer mapped and its page-table walk, a copy-on-write fault after fork, and a
// copy_to_user that stops at an unmapped page and returns the bytes it did not copy.
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, SignalError, Vmm } from "@kbridge/vmm";
import type { Stop } from "../tour.js";

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

// The flag letters of an x86-64 page-table entry, high bits first.
function pteFlags(e: bigint): string {
  const names: [bigint, string][] = [
    [1n << 63n, "NX"],
    [1n << 6n, "D"],
    [1n << 5n, "A"],
    [1n << 2n, "US"],
    [1n << 1n, "RW"],
    [1n, "P"],
  ];
  return names
    .filter(([bit]) => (e & bit) !== 0n)
    .map(([, n]) => n)
    .join(" ");
}

function lines(): string[] {
  const vmm = new Vmm({ ram: 16 << 20 });
  const freeAtBoot = vmm.phys.freeFrames;
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  const out: string[] = [];

  // mmap two pages; the first write faults in a zeroed frame and the walk shows the four levels.
  const buf = mm.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  vmm.userWrite(buf, new TextEncoder().encode("hello"));
  out.push(
    `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) = ${hex(buf)}; the first write faulted in a frame:`,
  );
  for (const s of mm.pgd.walk(buf).steps)
    out.push(
      `  ${s.level.padEnd(3)}[${String(s.index).padStart(3)}] @ ${hex(s.entryAddr).padEnd(8)} = ${s.entry.toString(16).padStart(16, "0")}  ${pteFlags(s.entry)}`,
    );

  // fork: both PTEs lose RW and share the frame; the child's write copies it.
  const child = mm.fork();
  const shared = mm.pgd.get(buf)!;
  vmm.switch_mm(child);
  vmm.userWrite(buf, new TextEncoder().encode("HELLO"));
  const childPte = child.pgd.get(buf)!;
  vmm.switch_mm(mm);
  const parentText = new TextDecoder().decode(vmm.userRead(buf, 5));
  out.push(
    "",
    `after fork() both PTEs map frame ${hex(Number((shared >> 12n) & 0xfffffffffn))} read-only (${pteFlags(shared)});`,
    `the child's write took a COW fault: its PTE now maps frame ${hex(Number((childPte >> 12n) & 0xfffffffffn))} (${pteFlags(childPte)}),`,
    `and the parent still reads "${parentText}" (cow copies: ${child.stats().cowCopies}).`,
  );

  // copy_to_user across a hole: it returns what it could NOT copy.
  mm.munmap(buf + 4096, 4096);
  const kbuf = vmm.kmem.kmalloc(256);
  const left = vmm.copy_to_user(buf + 4000, kbuf, 256);
  out.push(
    "",
    `munmap(${hex(buf + 4096)}, 4096), then copy_to_user(${hex(buf + 4000)}, kbuf, 256) = ${left}:`,
    `  ${256 - left} bytes fit before the hole; the return value is the ${left} bytes not copied, and read() would return ${256 - left}.`,
  );
  try {
    vmm.userRead(buf + 4096, 1);
  } catch (err) {
    if (err instanceof SignalError)
      out.push(`  user code touching the hole gets ${err.message.replace("EFAULT: page fault: ", "")}.`);
  }
  vmm.kmem.kfree(kbuf);
  child.mmput();
  mm.mmput();
  out.push(
    `  after both processes exit every frame is free again: ${vmm.phys.freeFrames === freeAtBoot ? "yes" : "NO"}.`,
  );
  return out;
}

/** The vmm stop of the tour. */
export const vmmStop: Stop = {
  title: "@kbridge/vmm: page tables in RAM, copy-on-write, copy_to_user",
  lines,
};
