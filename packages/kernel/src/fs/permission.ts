// fs/namei.c generic_permission() for the in-kernel file systems (tmpfs at /dev/shm, procfs, sysfs): the owner,
// group and other permission bits, then CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (capable_wrt_inode_uidgid; one
// user namespace, no supplementary groups, no ACLs).

import type { Cred } from "../cred.js";

/** `MAY_EXEC` (1). */
export const MAY_EXEC = 1;
/** `MAY_WRITE` (2). */
export const MAY_WRITE = 2;
/** `MAY_READ` (4). */
export const MAY_READ = 4;
/** `CAP_DAC_OVERRIDE` (1): bypass read, write and execute permission checks. */
export const CAP_DAC_OVERRIDE = 1;
/** `CAP_DAC_READ_SEARCH` (2): bypass read permission on files. */
export const CAP_DAC_READ_SEARCH = 2;
/** `CAP_FOWNER` (3): act as the owner of any file (the sticky-directory rule of unlink). */
export const CAP_FOWNER = 3;
/** `CAP_SYS_PTRACE` (19): ptrace_may_access() for another user's process. */
export const CAP_SYS_PTRACE = 19;

/** The owner and mode bits a permission check looks at. */
export interface InodeAttrs {
  /** `i_mode` (the permission bits; S_IFMT is ignored). */
  readonly mode: number;
  /** `i_uid`. */
  readonly uid: number;
  /** `i_gid`. */
  readonly gid: number;
  /** True for a directory (CAP_DAC_OVERRIDE then also grants MAY_EXEC without any x bit). */
  readonly dir?: boolean;
}

/**
 * `generic_permission(idmap, inode, mask)`: true when `cred` may access the inode with `mask` (MAY_READ | MAY_WRITE |
 * MAY_EXEC). The class bits (`acl_permission_check`) first; then CAP_DAC_OVERRIDE (execute only with some x bit on a
 * non-directory) and CAP_DAC_READ_SEARCH for a read.
 */
export function generic_permission(cred: Cred, inode: InodeAttrs, mask: number): boolean {
  const mode = inode.mode;
  const bits = cred.uid === inode.uid ? (mode >> 6) & 7 : cred.gid === inode.gid ? (mode >> 3) & 7 : mode & 7;
  const want = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
  if ((want & ~bits) === 0) return true;
  if (cred.capable(CAP_DAC_OVERRIDE)) {
    if (inode.dir === true || (want & MAY_EXEC) === 0 || (mode & 0o111) !== 0) return true;
  }
  if (want === MAY_READ && cred.capable(CAP_DAC_READ_SEARCH)) return true;
  return false;
}
