// The mmap family's flag words: include/uapi/asm-generic/mman-common.h, include/uapi/linux/mman.h,
// include/uapi/asm-generic/mman.h, arch/x86/include/uapi/asm/mman.h, include/linux/mman.h (LEGACY_MAP_MASK).

/** `PROT_NONE`. */
export const PROT_NONE = 0x0;
/** `PROT_READ`. */
export const PROT_READ = 0x1;
/** `PROT_WRITE`. */
export const PROT_WRITE = 0x2;
/** `PROT_EXEC`. */
export const PROT_EXEC = 0x4;
/** `PROT_SEM` (accepted by mprotect, no effect on x86). */
export const PROT_SEM = 0x8;
/** `PROT_GROWSDOWN` (mprotect only). */
export const PROT_GROWSDOWN = 0x01000000;
/** `PROT_GROWSUP` (mprotect only). */
export const PROT_GROWSUP = 0x02000000;

/** `MAP_SHARED`. */
export const MAP_SHARED = 0x01;
/** `MAP_PRIVATE`. */
export const MAP_PRIVATE = 0x02;
/** `MAP_SHARED_VALIDATE`: MAP_SHARED that fails with EOPNOTSUPP on flags the file does not support. */
export const MAP_SHARED_VALIDATE = 0x03;
/** `MAP_DROPPABLE` (6.11+, anonymous only). Not modelled: mmap refuses it with EINVAL. */
export const MAP_DROPPABLE = 0x08;
/** `MAP_TYPE`: the mask of the mapping type. */
export const MAP_TYPE = 0x0f;
/** `MAP_FIXED`. */
export const MAP_FIXED = 0x10;
/** `MAP_ANONYMOUS`. */
export const MAP_ANONYMOUS = 0x20;
/** `MAP_32BIT` (x86-64): below 2 GiB, bottom-up from 1 GiB. */
export const MAP_32BIT = 0x40;
/** `MAP_ABOVE4G` (x86-64). */
export const MAP_ABOVE4G = 0x80;
/** `MAP_GROWSDOWN`. */
export const MAP_GROWSDOWN = 0x0100;
/** `MAP_DENYWRITE` (ignored). */
export const MAP_DENYWRITE = 0x0800;
/** `MAP_EXECUTABLE` (ignored). */
export const MAP_EXECUTABLE = 0x1000;
/** `MAP_LOCKED`. */
export const MAP_LOCKED = 0x2000;
/** `MAP_NORESERVE`. */
export const MAP_NORESERVE = 0x4000;
/** `MAP_POPULATE`: prefault the pages. */
export const MAP_POPULATE = 0x008000;
/** `MAP_NONBLOCK`. */
export const MAP_NONBLOCK = 0x010000;
/** `MAP_STACK`. */
export const MAP_STACK = 0x020000;
/** `MAP_HUGETLB`. */
export const MAP_HUGETLB = 0x040000;
/** `MAP_SYNC`: only with MAP_SHARED_VALIDATE on a DAX file. */
export const MAP_SYNC = 0x080000;
/** `MAP_FIXED_NOREPLACE`: MAP_FIXED that fails with EEXIST instead of replacing. */
export const MAP_FIXED_NOREPLACE = 0x100000;
/** `MAP_UNINITIALIZED`. */
export const MAP_UNINITIALIZED = 0x4000000;

/** `LEGACY_MAP_MASK`: the flags MAP_SHARED silently accepts (and MAP_SHARED_VALIDATE checks against). */
export const LEGACY_MAP_MASK =
  MAP_SHARED |
  MAP_PRIVATE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_DENYWRITE |
  MAP_EXECUTABLE |
  MAP_UNINITIALIZED |
  MAP_GROWSDOWN |
  MAP_LOCKED |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_NONBLOCK |
  MAP_STACK |
  MAP_HUGETLB |
  MAP_32BIT |
  MAP_ABOVE4G |
  (21 << 26) | // MAP_HUGE_2MB
  (30 << 26); // MAP_HUGE_1GB

/** `MREMAP_MAYMOVE`. */
export const MREMAP_MAYMOVE = 1;
/** `MREMAP_FIXED`. */
export const MREMAP_FIXED = 2;
/** `MREMAP_DONTUNMAP`. */
export const MREMAP_DONTUNMAP = 4;
