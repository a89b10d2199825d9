// An ioctl framework for drivers: commands defined once with _IOR/_IOW/_IOWR and a C struct layout
// (include/uapi/asm-generic/ioctl.h via @kbridge/uapi), arguments copied with copy_from_user / copy_to_user before and
// after a typed handler, 32-bit callers served through compat_ioctl with the ILP32 layout and compat_ptr(), and a
// collision check across drivers. What a careful driver writes by hand in every unlocked_ioctl, done once.

import { _IOC, _IOC_DIR, _IOC_NR, _IOC_SIZE, _IOC_TYPE, I386, KernelError, X86_64 } from "@kbridge/uapi";
import type { Vmm } from "@kbridge/vmm";
import type { File } from "./vfs.js";

const ENOIOCTLCMD = -515;
const EFAULT = -14;

/** The C layout of an ioctl argument for one ABI: `size`, and values in and out of bytes (a `@kbridge/uapi` struct). */
export interface IoctlArgType<V> {
  /** The layout for an ABI: its size and codecs (and zero-copy views, for handlers in view mode). */
  layout(abi?: typeof X86_64): {
    readonly size: number;
    encode(value: never): Uint8Array;
    decode(buf: Uint8Array): V;
    view?(buf: Uint8Array): unknown;
  };
}

/** One command of a driver. */
export interface IoctlCommand<V = unknown> {
  /** Its name, e.g. `"SENSOR_SET_RATE"`. */
  readonly name: string;
  /** The 64-bit (native) number, built with `_IO`/`_IOR`/`_IOW`/`_IOWR` from the argument's x86-64 layout. */
  readonly cmd: number;
  /** The argument's C type, for commands with a size; omit for `_IO` commands (the handler gets `arg` raw). */
  readonly arg?: IoctlArgType<V>;
  /**
   * The handler: for `_IOW`/`_IOWR` it gets the value copied from user space; it returns 0 (or a positive result)
   * and, for `_IOR`/`_IOWR`, the value to copy back — or a negative errno.
   */
  readonly handler: (file: File, value: V | undefined, arg: number) => number | { ret: number; value?: V };
  /**
   * `"view"`: the handler gets a zero-copy view of the copied-in bytes (a `@kbridge/uapi` struct view) instead of a
   * decoded value, changes it in place, and those bytes are copied back for `_IOR`/`_IOWR` — no decode or encode, the
   * way a C driver works on its on-stack struct.
   */
  readonly mode?: "value" | "view";
}

/** Two commands with one number (a collision the kernel would dispatch to whichever the switch tests first). */
export interface IoctlCollision {
  /** The number. */
  readonly cmd: number;
  /** The commands that share it, as `driver:NAME`. */
  readonly names: readonly string[];
}

/**
 * Finds commands that share a number, within one driver or across several (`{ driverName: commands }`).
 */
export function findIoctlCollisions(
  drivers: Readonly<Record<string, readonly IoctlCommand[]>>,
): IoctlCollision[] {
  const by = new Map<number, string[]>();
  for (const [driver, cmds] of Object.entries(drivers))
    for (const c of cmds) by.set(c.cmd >>> 0, [...(by.get(c.cmd >>> 0) ?? []), `${driver}:${c.name}`]);
  return [...by.entries()].filter(([, n]) => n.length > 1).map(([cmd, names]) => ({ cmd, names }));
}

interface Entry {
  readonly command: IoctlCommand;
  readonly dir: number;
  readonly size: number;
  readonly compat: boolean;
  readonly layout: ReturnType<IoctlArgType<unknown>["layout"]> | undefined;
  // view mode: the kernel-side buffer and its view, reused unless a handler re-enters the same command
  scratch: Uint8Array | undefined;
  view: unknown;
  busy: boolean;
}

/**
 * A driver's ioctl table: give `table.unlocked_ioctl` and `table.compat_ioctl` to its file_operations. Each number's
 * direction and size are checked against the argument type when the table is built (a mismatch is the bug class of
 * `_IOR` with the wrong struct), and 32-bit numbers (the size of the ILP32 layout) are derived for compat callers.
 * Unknown numbers return -ENOIOCTLCMD, which the VFS turns into -ENOTTY.
 */
export class IoctlTable {
  /** The machine whose user memory the arguments are copied from and to. */
  readonly vmm: Vmm;
  readonly #native = new Map<number, Entry>();
  readonly #compat = new Map<number, Entry>();

  /**
   * @param vmm - the machine
   * @param commands - the driver's commands
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when a number's size disagrees with its argument type or two
   * commands share a number (EEXIST)
   */
  constructor(vmm: Vmm, commands: readonly IoctlCommand[]) {
    this.vmm = vmm;
    for (const c of commands) {
      const op = "IoctlTable";
      if (
        c === null ||
        typeof c !== "object" ||
        typeof c.handler !== "function" ||
        typeof c.name !== "string"
      )
        throw new KernelError("EINVAL", "a command needs a name, a number and a handler", { op });
      if (typeof c.cmd !== "number" || !Number.isInteger(c.cmd) || c.cmd < -(2 ** 31) || c.cmd > 0xffff_ffff)
        throw new KernelError("EINVAL", `${c.name}: cmd ${String(c.cmd)} is not an unsigned int`, { op });
      const cmd = c.cmd >>> 0;
      const dir = _IOC_DIR(cmd);
      const size = _IOC_SIZE(cmd);
      const layout = c.arg?.layout(X86_64);
      if ((layout?.size ?? 0) !== size)
        throw new KernelError(
          "EINVAL",
          `${c.name}: the number 0x${cmd.toString(16)} encodes ${size} bytes, the argument type has ${layout?.size ?? 0}`,
          { op },
        );
      if (this.#native.has(cmd | 0))
        throw new KernelError(
          "EEXIST",
          `${c.name} and ${this.#native.get(cmd | 0)!.command.name} share 0x${cmd.toString(16)}`,
          { op },
        );
      this.#native.set(cmd | 0, this.#entry(c, dir, size, false, layout));
      // The 32-bit caller's number: the same fields with the ILP32 size (include/linux/compat.h users' habit).
      const l32 = c.arg?.layout(I386);
      const cmd32 = l32 === undefined ? cmd : _IOC(dir, _IOC_TYPE(cmd), _IOC_NR(cmd), l32.size) >>> 0;
      // Two commands whose ILP32 numbers coincide (e.g. _IOR(t, nr, long) and _IOR(t, nr, int)) would shadow each
      // other for 32-bit callers.
      if (this.#compat.has(cmd32 | 0))
        throw new KernelError(
          "EEXIST",
          `${c.name} and ${this.#compat.get(cmd32 | 0)!.command.name} share the 32-bit number 0x${cmd32.toString(16)}`,
          { op },
        );
      this.#compat.set(cmd32 | 0, this.#entry(c, dir, l32?.size ?? 0, true, l32));
    }
  }

  #entry(c: IoctlCommand, dir: number, size: number, compat: boolean, layout: Entry["layout"]): Entry {
    const view = c.mode === "view" && layout !== undefined && size > 0;
    if (view && layout.view === undefined)
      throw new KernelError("EINVAL", `${c.name}: the argument type has no views`, { op: "IoctlTable" });
    const scratch = view ? new Uint8Array(size) : undefined;
    return {
      command: c,
      dir,
      size,
      compat,
      layout,
      scratch,
      view: view ? layout.view!(scratch!) : undefined,
      busy: false,
    };
  }

  /** `->unlocked_ioctl(file, cmd, arg)` for 64-bit callers. */
  readonly unlocked_ioctl = (file: File, cmd: number, arg: number): number =>
    this.#dispatch(this.#native, file, cmd, arg);

  /** `->compat_ioctl(file, cmd, arg)` for 32-bit callers: their number, their layout, `compat_ptr(arg)`. */
  readonly compat_ioctl = (file: File, cmd: number, arg: number): number =>
    this.#dispatch(this.#compat, file, cmd, arg % 2 ** 32);

  #dispatch(table: Map<number, Entry>, file: File, cmd: number, arg: number): number {
    const e = table.get(cmd | 0); // int32 keys: small integers for the Map, not doubles
    if (e === undefined) return ENOIOCTLCMD;
    if (e.scratch !== undefined) return this.#dispatchView(e, file, arg);
    let value: unknown;
    let buf: Uint8Array | undefined;
    if (e.size > 0) {
      buf = new Uint8Array(e.size);
      // _IOC_WRITE: the user passes the argument in.
      if ((e.dir & 1) !== 0) {
        if (this.vmm.copy_from_user(buf, arg, e.size) !== 0) return EFAULT;
        value = e.layout!.decode(buf);
      }
    }
    const r = e.command.handler(file, value, arg);
    const ret = typeof r === "number" ? r : r.ret;
    if (ret < 0) return ret;
    // _IOC_READ: the kernel writes the result back.
    if (buf !== undefined && (e.dir & 2) !== 0) {
      const out = typeof r === "number" ? value : r.value;
      const bytes = out === undefined ? buf : e.layout!.encode(out as never);
      if (this.vmm.copy_to_user(arg, bytes, e.size) !== 0) return EFAULT;
    }
    return ret;
  }

  // View mode: copy in to the kernel buffer (zeroed for a read-only command, as a C driver's `= {}`), the handler
  // works on the view, copy the same bytes out.
  #dispatchView(e: Entry, file: File, arg: number): number {
    // A handler that re-enters the same command while the shared buffer is busy gets a fresh buffer and view (the
    // kernel's on-stack struct is per call), never a decoded value in place of the view it expects.
    const reentered = e.busy;
    const buf = reentered ? new Uint8Array(e.size) : e.scratch!;
    const view = reentered ? e.layout!.view!(buf) : e.view;
    if ((e.dir & 1) !== 0) {
      if (this.vmm.copy_from_user(buf, arg, e.size) !== 0) return EFAULT;
    } else buf.fill(0);
    // The buffer is busy while the handler runs: a handler that re-enters the same command gets a fresh one
    // (#dispatch's path). A handler that throws is a bug of the model's user: the flag is reset all the same.
    e.busy = true;
    let r: number | { ret: number };
    try {
      r = e.command.handler(file, view, arg);
    } finally {
      if (!reentered) e.busy = false;
    }
    const ret = typeof r === "number" ? r : r.ret;
    if (ret < 0) return ret;
    if ((e.dir & 2) !== 0 && this.vmm.copy_to_user(arg, buf, e.size) !== 0) return EFAULT;
    return ret;
  }
}
