// Reads the repository's ground-truth vectors (vectors/ at the root), verifying each file against the
// folder's SHA256SUMS first, so that a test never trusts a file that was edited by hand.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const root = new URL("../vectors/", import.meta.url);

/** The bytes of `vectors/<folder>/<file>`, after checking them against `vectors/<folder>/SHA256SUMS`. */
export function readVector(folder: string, file: string): Buffer {
  const sums = readFileSync(new URL(`${folder}/SHA256SUMS`, root), "utf8");
  const line = sums.split("\n").find((l) => l.trim().endsWith(`  ${file}`));
  if (line === undefined) throw new Error(`vectors/${folder}/SHA256SUMS lists no ${file}`);
  const data = readFileSync(new URL(`${folder}/${file}`, root));
  const actual = createHash("sha256").update(data).digest("hex");
  if (actual !== line.split(/\s+/)[0]) throw new Error(`vectors/${folder}/${file}: checksum mismatch`);
  return data;
}

/** `vectors/<folder>/<file>` parsed as JSON, after the checksum check. */
export function readJsonVector<T>(folder: string, file: string): T {
  return JSON.parse(readVector(folder, file).toString("utf8")) as T;
}

/** `vectors/<folder>/<file>` as JSON Lines (one object per non-empty line), after the checksum check. */
export function readJsonLines<T>(folder: string, file: string): T[] {
  return readVector(folder, file)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

/**
 * The datagrams of a netlink capture `vectors/netlink/<file>`, split at the lengths of its `.lens` file (the
 * recvmsg units), each a view of the checked bytes.
 */
export function readDatagrams(file: string): Uint8Array[] {
  const bin = new Uint8Array(readVector("netlink", file));
  const lens = readVector("netlink", file.replace(/\.bin$/, ".lens"))
    .toString("utf8")
    .trim()
    .split("\n")
    .map(Number);
  const out: Uint8Array[] = [];
  let off = 0;
  for (const n of lens) {
    out.push(bin.subarray(off, off + n));
    off += n;
  }
  if (off !== bin.length)
    throw new Error(`vectors/netlink/${file}: the .lens add up to ${off}, the file has ${bin.length} bytes`);
  return out;
}
