// Loadable modules as the char-device path sees them: kernel/module/main.c (init_module's load, delete_module,
// try_stop_module, try_module_get / module_put) with the errnos of 6.12: a module in use is -EWOULDBLOCK (EAGAIN),
// -EBUSY only while it is not LIVE or has an init but no exit.

import { KernelError } from "@kbridge/uapi";

/** `enum module_state`. */
export type ModuleState = "COMING" | "LIVE" | "GOING" | "GONE";

/** What a module is made of. */
export interface ModuleDefinition {
  /** Its name (`MODULE_NAME_LEN` 56, so at most 55 characters). */
  readonly name: string;
  /** `module_init`: 0 or a negative errno (the load fails with it). */
  readonly init?: () => number;
  /** `module_exit`. A module with an init but no exit cannot be unloaded. */
  readonly exit?: () => void;
}

/** A loaded module (`struct module`): its state and reference count (THIS_MODULE of its file_operations). */
export class Module {
  /** The name. */
  readonly name: string;
  /** The state. */
  state: ModuleState = "COMING";
  /** @internal */
  readonly def: ModuleDefinition;
  /** @internal the module's reference count */
  refcnt = 0;
  /** @internal modules that use this one (source_list) */
  readonly users = new Set<Module>();

  /** @internal made by ModuleLoader.init_module */
  constructor(def: ModuleDefinition) {
    this.def = def;
    this.name = def.name;
  }

  /** `module_refcount()`. */
  get refcount(): number {
    return this.refcnt;
  }
}

/** `try_module_get(mod)`: a reference unless the module is going away; `undefined` is built-in code (always true). */
export function try_module_get(mod: Module | undefined): boolean {
  if (mod === undefined) return true;
  if (!(mod instanceof Module)) throw new KernelError("EINVAL", "not a Module", { op: "try_module_get" });
  if (mod.state !== "LIVE" && mod.state !== "COMING") return false;
  mod.refcnt++;
  return true;
}

/** `module_put(mod)`. */
export function module_put(mod: Module | undefined): void {
  if (mod === undefined) return;
  if (!(mod instanceof Module)) throw new KernelError("EINVAL", "not a Module", { op: "module_put" });
  if (mod.refcnt <= 0)
    throw new KernelError("EINVAL", `module ${mod.name} has no reference to put`, { op: "module_put" });
  mod.refcnt--;
}

/**
 * The kernel's module list: `init_module` and `delete_module` with 6.12's checks in 6.12's order, and `/proc/modules`.
 */
export class ModuleLoader {
  readonly #mods = new Map<string, Module>();
  /** CONFIG_MODULE_FORCE_UNLOAD (off in distribution kernels): `delete_module(name, O_TRUNC)` forces. */
  readonly forceUnload: boolean;

  /** @param options - CONFIG_MODULE_FORCE_UNLOAD */
  constructor(options: { forceUnload?: boolean } = {}) {
    this.forceUnload = options.forceUnload ?? false;
  }

  /**
   * Loads a module: -EEXIST if one of that name is loaded; runs its init (COMING), and on failure the module is gone
   * and init's error is returned; otherwise it is LIVE and returned.
   */
  init_module(def: ModuleDefinition): Module | number {
    if (
      def === null ||
      typeof def !== "object" ||
      typeof def.name !== "string" ||
      def.name === "" ||
      def.name.length > 55
    )
      throw new KernelError("EINVAL", "a module needs a name of 1..55 characters", {
        syscall: "init_module",
      });
    if (this.#mods.has(def.name)) return -17;
    const mod = new Module(def);
    this.#mods.set(def.name, mod);
    const rc = def.init?.() ?? 0;
    if (rc < 0) {
      mod.state = "GONE";
      this.#mods.delete(def.name);
      return rc;
    }
    mod.state = "LIVE";
    return mod;
  }

  /** Records that `user` uses symbols of `used` (a source_list entry), which keeps `used` from being removed. */
  use(user: Module, used: Module): void {
    used.users.add(user);
  }

  /** The loaded module of that name. */
  find_module(name: string): Module | undefined {
    return this.#mods.get(name);
  }

  /**
   * `delete_module(name, flags)`: -EPERM without CAP_SYS_MODULE; -ENOENT for an unknown name; -EWOULDBLOCK (EAGAIN,
   * -11) while other modules use it; -EBUSY while not LIVE, or for an init without an exit; -EWOULDBLOCK while its
   * refcount is not 0 — an open file or a mapping of its device (the mapping holds the file) — unless forced with
   * O_TRUNC on a kernel with CONFIG_MODULE_FORCE_UNLOAD. Then exit() runs and the module is gone: 0.
   */
  delete_module(name: string, flags = 0, capSysModule = true): number {
    if (!capSysModule) return -1;
    if (typeof name !== "string" || name === "" || name.length >= 56) return -2;
    const mod = this.#mods.get(name);
    if (mod === undefined) return -2;
    if (mod.users.size > 0) return -11;
    if (mod.state !== "LIVE") return -16;
    const force = this.forceUnload && (flags & 0o1000) !== 0; // O_TRUNC
    if (mod.def.init !== undefined && mod.def.exit === undefined && !force) return -16;
    if (mod.refcnt !== 0 && !force) return -11; // try_stop_module
    mod.state = "GOING";
    mod.def.exit?.();
    mod.state = "GONE";
    this.#mods.delete(name);
    for (const m of this.#mods.values()) m.users.delete(mod);
    return 0;
  }

  /** `/proc/modules` lines: `name size refcnt users state address` as lsmod reads them (size and address 0). */
  procModules(): string {
    return [...this.#mods.values()]
      .map(
        (m) =>
          `${m.name} 0 ${m.refcnt} ${m.users.size === 0 ? "-" : `${[...m.users].map((u) => u.name).join(",")},`} ${m.state === "LIVE" ? "Live" : m.state === "COMING" ? "Loading" : "Unloading"} 0x0000000000000000\n`,
      )
      .join("");
  }
}
