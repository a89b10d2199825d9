// include/linux/cred.h and include/uapi/linux/capability.h: who a task is (uid, gid) and what it may do
// (its effective capability set), as the permission checks of the other subsystems ask.

import { KernelError } from "@kbridge/uapi";

/** `CAP_SETGID` (6): SCM_CREDENTIALS with another gid. */
export const CAP_SETGID = 6;
/** `CAP_SETUID` (7): SCM_CREDENTIALS with another uid. */
export const CAP_SETUID = 7;
/** `CAP_NET_BROADCAST` (11): NETLINK_LISTEN_ALL_NSID, broadcasts into other namespaces. */
export const CAP_NET_BROADCAST = 11;
/** `CAP_NET_ADMIN` (12): netlink multicast without NL_CFG_F_NONROOT_*, genetlink GENL_ADMIN_PERM operations. */
export const CAP_NET_ADMIN = 12;
/** `CAP_SYS_MODULE` (16): init_module and delete_module. */
export const CAP_SYS_MODULE = 16;
/** `CAP_SYS_ADMIN` (21). */
export const CAP_SYS_ADMIN = 21;
/** `CAP_LAST_CAP` on Linux 6.12: 40 (CAP_CHECKPOINT_RESTORE). */
export const CAP_LAST_CAP = 40;

const CAP_NAMES: Readonly<Record<number, string>> = {
  0: "CAP_CHOWN",
  1: "CAP_DAC_OVERRIDE",
  2: "CAP_DAC_READ_SEARCH",
  3: "CAP_FOWNER",
  4: "CAP_FSETID",
  5: "CAP_KILL",
  6: "CAP_SETGID",
  7: "CAP_SETUID",
  8: "CAP_SETPCAP",
  9: "CAP_LINUX_IMMUTABLE",
  10: "CAP_NET_BIND_SERVICE",
  11: "CAP_NET_BROADCAST",
  12: "CAP_NET_ADMIN",
  13: "CAP_NET_RAW",
  14: "CAP_IPC_LOCK",
  15: "CAP_IPC_OWNER",
  16: "CAP_SYS_MODULE",
  17: "CAP_SYS_RAWIO",
  18: "CAP_SYS_CHROOT",
  19: "CAP_SYS_PTRACE",
  20: "CAP_SYS_PACCT",
  21: "CAP_SYS_ADMIN",
  22: "CAP_SYS_BOOT",
  23: "CAP_SYS_NICE",
  24: "CAP_SYS_RESOURCE",
  25: "CAP_SYS_TIME",
  26: "CAP_SYS_TTY_CONFIG",
  27: "CAP_MKNOD",
  28: "CAP_LEASE",
  29: "CAP_AUDIT_WRITE",
  30: "CAP_AUDIT_CONTROL",
  31: "CAP_SETFCAP",
  32: "CAP_MAC_OVERRIDE",
  33: "CAP_MAC_ADMIN",
  34: "CAP_SYSLOG",
  35: "CAP_WAKE_ALARM",
  36: "CAP_BLOCK_SUSPEND",
  37: "CAP_AUDIT_READ",
  38: "CAP_PERFMON",
  39: "CAP_BPF",
  40: "CAP_CHECKPOINT_RESTORE",
};

/** The name of capability `cap` (`'CAP_NET_ADMIN'`), or undefined past CAP_LAST_CAP. */
export function capName(cap: number): string | undefined {
  return CAP_NAMES[cap];
}

/** What {@link Cred} is built from. */
export interface CredInit {
  /** Real, effective and filesystem user id (0: root). */
  readonly uid: number;
  /** Real, effective and filesystem group id. */
  readonly gid: number;
  /**
   * The effective capabilities, by number. Omitted: every capability for uid 0 and none otherwise, as a
   * root shell and an ordinary user have them.
   */
  readonly caps?: Iterable<number>;
}

function checkId(what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xfffffffe) {
    throw new KernelError("EINVAL", `${what} ${String(v)} is not a user-namespace id (0..4294967294)`, {
      op: "prepare_creds",
    });
  }
  return v;
}

/**
 * A task's credentials (`struct cred`): ids and the effective capability set. Immutable, as the kernel's
 * are once committed: a change makes a new `Cred` (`prepare_creds`/`commit_creds`).
 */
export class Cred {
  // The bundle names a class that refers to itself `_Cred` inside; what users see (inspect, constructor.name) stays Cred.
  static {
    Object.defineProperty(this, "name", { value: "Cred" });
  }

  /** The user id. */
  readonly uid: number;
  /** The group id. */
  readonly gid: number;
  readonly #caps: bigint;

  /** @throws {@link @kbridge/uapi!KernelError} EINVAL for an id or capability that does not exist */
  constructor(init: CredInit) {
    this.uid = checkId("uid", init?.uid);
    this.gid = checkId("gid", init?.gid);
    let caps = 0n;
    if (init.caps === undefined) {
      if (this.uid === 0) caps = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;
    } else {
      for (const c of init.caps) {
        if (!Number.isInteger(c) || c < 0 || c > CAP_LAST_CAP) {
          throw new KernelError("EINVAL", `capability ${String(c)} is not 0..${CAP_LAST_CAP}`, {
            op: "prepare_creds",
          });
        }
        caps |= 1n << BigInt(c);
      }
    }
    this.#caps = caps;
  }

  /** `capable(cap)` against this credential (the initial user namespace is the only one modelled). */
  capable(cap: number): boolean {
    return cap >= 0 && cap <= CAP_LAST_CAP && ((this.#caps >> BigInt(cap)) & 1n) === 1n;
  }

  /** The effective capability set as numbers, ascending. */
  caps(): number[] {
    const out: number[] = [];
    for (let c = 0; c <= CAP_LAST_CAP; c++) if (this.capable(c)) out.push(c);
    return out;
  }

  /** A copy without capability `cap` (`cap_lower`). */
  drop(cap: number): Cred {
    return new Cred({ uid: this.uid, gid: this.gid, caps: this.caps().filter((c) => c !== cap) });
  }
}
