// A pahole-style listing of a struct layout: members with offset and size, holes and trailing padding,
// in the format kernel engineers read from `pahole` (dwarves) output.

import { KernelError } from "./errno.js";
import { Layout } from "./struct.js";

const CACHELINE = 64;

/**
 * Prints a layout the way `pahole` prints a struct from DWARF: each member with `/* offset size *\/`,
 * the holes between members (`XXX 4 bytes hole, try to pack`), the trailing padding, and a summary.
 *
 * @example
 * ```ts
 * console.log(pahole(msghdr.layout()));
 * // struct msghdr {
 * //         ptr                        msg_name;             /*     0     8 *\/
 * //         u32                        msg_namelen;          /*     8     4 *\/
 * //
 * //         /* XXX 4 bytes hole, try to pack *\/
 * // …
 * ```
 */
export function pahole(layout: Layout<unknown>): string {
  if (!(layout instanceof Layout)) {
    throw new KernelError("EINVAL", `${String(layout)} is not a struct layout (use type.layout(abi))`, {
      op: "pahole",
    });
  }
  const lines = [`${layout.name} {`];
  const isUnion = layout.name.startsWith("union ");
  let end = 0;
  let holes = 0;
  let holeBytes = 0;
  let sum = 0;
  for (const f of layout.fields) {
    if (!isUnion && f.offset > end) {
      const hole = f.offset - end;
      holes++;
      holeBytes += hole;
      lines.push("", `\t/* XXX ${hole} byte${hole === 1 ? "" : "s"} hole, try to pack */`, "");
    }
    // C puts array dimensions after the member's name: `u8 c_cc[19];`.
    const [, base, dims] = /^(.*?)((?:\[\d+\])*)$/.exec(f.type.name)!;
    const decl = `${base!.padEnd(26)} ${f.name}${dims};`;
    lines.push(`\t${decl.padEnd(48)} /* ${String(f.offset).padStart(5)} ${String(f.size).padStart(5)} */`);
    end = Math.max(end, f.offset + f.size);
    sum += f.size;
  }
  const padding = layout.size - end;
  lines.push("");
  lines.push(
    `\t/* size: ${layout.size}, cachelines: ${Math.ceil(layout.size / CACHELINE)}, members: ${layout.fields.length} */`,
  );
  if (holes > 0) lines.push(`\t/* sum members: ${sum}, holes: ${holes}, sum holes: ${holeBytes} */`);
  if (padding > 0) lines.push(`\t/* padding: ${padding} */`);
  if (layout.size % CACHELINE !== 0) lines.push(`\t/* last cacheline: ${layout.size % CACHELINE} bytes */`);
  lines.push("};");
  return lines.join("\n");
}
