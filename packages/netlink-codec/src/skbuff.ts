// The socket buffer: include/linux/skbuff.h and net/core/skbuff.c as netlink uses them — a linear buffer
// [head, end) with live data [data, tail), the kernel's sizes (truesize as __alloc_skb computes it), users
// and dataref counts, clones that share data, copies that do not, and use after free caught by name.

import { KernelError } from "@kbridge/uapi";

/** The allocator constants behind `truesize` (x86-64, 64-byte cache lines). */
export interface SkbSizes {
  /** `SKB_DATA_ALIGN(sizeof(struct sk_buff))`: 256. */
  readonly skbStruct: number;
  /** `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))`: 320. */
  readonly sharedInfo: number;
  /** `SKB_SMALL_HEAD_CACHE_SIZE` of the running kernel's config: 576 where a 216-byte message costs 832. */
  readonly smallHeadCache: number;
}

/** The sizes measured on the Linux 6.18 x86-64 machine of the project's spec (a 216-byte message: truesize 832). */
export const SKB_SIZES_X86_64: SkbSizes = Object.freeze({
  skbStruct: 256,
  sharedInfo: 320,
  smallHeadCache: 576,
});

/** `SMP_CACHE_BYTES` on x86-64. */
const CACHE = 64;
/** `KMALLOC_MAX_CACHE_SIZE` (SLUB: two pages); larger kmallocs come from the page allocator. */
const KMALLOC_MAX_CACHE = 8192;
/** `KMALLOC_MAX_SIZE` with MAX_PAGE_ORDER 10: 4 MiB. */
const KMALLOC_MAX = 4 << 20;
const KMALLOC_CACHES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

// SKB_DATA_ALIGN(x)
const dataAlign = (n: number) => Math.ceil(n / CACHE) * CACHE;

// kmalloc_size_roundup(): the slab class, or whole pages (a power of two) past the largest cache.
function kmallocRoundup(n: number): number {
  if (n > KMALLOC_MAX_CACHE) {
    let p = 4096;
    while (p < n) p *= 2;
    return p;
  }
  return KMALLOC_CACHES.find((c) => c >= n)!;
}

/**
 * The slab caches skb heads come from (`skb_small_head_cache` and the kmalloc caches) on one machine: a head freed
 * with its last skb goes back to the cache of its size, and the next allocation of that size takes it, zeroed, instead
 * of a new buffer (allocating a JavaScript buffer costs far more than a kernel slab allocation). Views of an skb's
 * data obtained before it was freed must not be used afterwards, as in the kernel.
 */
export class SkbHeadCache {
  readonly #free = new Map<number, Uint8Array[]>();
  readonly #limit: number;
  #active = 0;

  /** @param limit - how many free heads each size keeps (256 by default) */
  constructor(limit = 256) {
    if (!Number.isInteger(limit) || limit < 0)
      throw new KernelError("EINVAL", `cache limit ${String(limit)} is not a count`, {
        op: "kmem_cache_create",
      });
    this.#limit = limit;
  }

  /** Free heads held now, over every size. */
  get size(): number {
    let n = 0;
    for (const l of this.#free.values()) n += l.length;
    return n;
  }

  /** Heads handed out and not yet freed (`active_objs` of /proc/slabinfo): 0 when no skb of the machine is alive. */
  get active(): number {
    return this.#active;
  }

  /** @internal a zeroed head of `size` bytes */
  take(size: number): Uint8Array {
    this.#active++;
    const b = this.#free.get(size)?.pop();
    if (b === undefined) return new Uint8Array(size);
    b.fill(0);
    return b;
  }

  /** @internal a head back to its cache */
  give(b: Uint8Array): void {
    this.#active--;
    let l = this.#free.get(b.length);
    if (l === undefined) {
      l = [];
      this.#free.set(b.length, l);
    }
    if (l.length < this.#limit) l.push(b);
  }
}

// The data buffer and its skb_shared_info.dataref, shared by clones.
interface Shared {
  readonly bytes: Uint8Array;
  dataref: number;
  readonly cache: SkbHeadCache | undefined;
}

let serial = 0;

/**
 * A model of `struct sk_buff` for linear (netlink) buffers. Offsets stand in for the kernel's pointers:
 * `head` is 0 and `data`, `tail`, `end` are offsets into {@link SkBuff.buffer}. Every method checks that the
 * skb is alive: touching a freed skb throws a `KernelError` naming it, where the kernel would corrupt memory.
 */
export class SkBuff {
  // The bundle names a class that refers to itself `_SkBuff` inside; what users see (inspect, constructor.name) stays SkBuff.
  static {
    Object.defineProperty(this, "name", { value: "SkBuff" });
  }

  /** A number that names this skb in messages (`skb#7`). */
  readonly id: number;
  #shared: Shared;
  #data = 0;
  #tail = 0;
  #end: number;
  #users = 1;
  #cloned = false;
  #freed: string | undefined;
  /** `truesize`: what the skb costs a socket's receive buffer (struct, data buffer and shared info). */
  readonly truesize: number;
  /** The sizes this skb was allocated with. */
  readonly sizes: SkbSizes;
  /**
   * `skb->cb`: the control block of the layer that holds the skb (netlink keeps `NETLINK_CB` here). A clone gets a
   * shallow copy, as `skb_clone()` copies the 48 bytes; a copy ({@link SkBuff.copy}) too.
   */
  cb: object | undefined = undefined;

  private constructor(shared: Shared, end: number, truesize: number, sizes: SkbSizes) {
    this.id = ++serial;
    this.#shared = shared;
    this.#end = end;
    this.truesize = truesize;
    this.sizes = sizes;
  }

  /**
   * `alloc_skb(size)`: a buffer of at least `size` bytes of tailroom. Like `__alloc_skb()`, the request plus
   * the shared info is rounded to the small-head cache or a kmalloc size class, and the skb spans the whole
   * allocation, so `tailroom` may exceed `size`; `truesize` is `SKB_TRUESIZE(end)`.
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM past KMALLOC_MAX_SIZE (4 MiB), EINVAL for a bad size
   */
  static alloc(size: number, sizes: SkbSizes = SKB_SIZES_X86_64, cache?: SkbHeadCache): SkBuff {
    if (!Number.isInteger(size) || size < 0)
      throw new KernelError("EINVAL", `size ${String(size)} is not a byte count`, { op: "alloc_skb" });
    // kmalloc_reserve(): SKB_HEAD_ALIGN(size), then the small-head cache or kmalloc_size_roundup().
    const obj = dataAlign(size) + sizes.sharedInfo;
    const total = obj <= sizes.smallHeadCache ? sizes.smallHeadCache : kmallocRoundup(obj);
    if (total > KMALLOC_MAX) {
      throw new KernelError(
        "ENOMEM",
        `alloc_skb(${size}) needs ${total} bytes, more than kmalloc's ${KMALLOC_MAX}`,
        { op: "alloc_skb" },
      );
    }
    // __finalize_skb_around(): the shared info sits at the end; truesize = SKB_TRUESIZE(end).
    const end = total - sizes.sharedInfo;
    return new SkBuff(
      { bytes: cache === undefined ? new Uint8Array(end) : cache.take(end), dataref: 1, cache },
      end,
      end + sizes.skbStruct + sizes.sharedInfo,
      sizes,
    );
  }

  #alive(op: string): void {
    if (this.#freed !== undefined) {
      throw new KernelError("EFAULT", `use after free of skb#${this.id} (freed by ${this.#freed})`, { op });
    }
  }

  // skb_panic(): the kernel BUG()s here; the model throws with the kernel's message.
  #panic(op: "skb_over_panic" | "skb_under_panic", n: number): never {
    throw new KernelError(
      "EINVAL",
      `len:${this.len} put:${n} head:0 data:${this.#data} tail:0x${this.#tail.toString(16)} end:0x${this.#end.toString(16)} dev:<NULL> (skb#${this.id})`,
      { op },
    );
  }

  /** The whole data buffer `[head, end)` (shared with clones). */
  get buffer(): Uint8Array {
    this.#alive("skb->head");
    return this.#shared.bytes;
  }

  /** The live data `[data, tail)` as a view (no copy). */
  bytes(): Uint8Array {
    this.#alive("skb->data");
    return this.#shared.bytes.subarray(this.#data, this.#tail);
  }

  /** `skb->data` as an offset from head. */
  get data(): number {
    this.#alive("skb->data");
    return this.#data;
  }

  /** `skb_tail_pointer()` as an offset from head. */
  get tail(): number {
    this.#alive("skb_tail_pointer");
    return this.#tail;
  }

  /** `skb_end_offset()`: the usable size of the buffer. */
  get end(): number {
    return this.#end;
  }

  /** `skb->len`: bytes of live data. */
  get len(): number {
    return this.#tail - this.#data;
  }

  /** `skb_headroom()`. */
  get headroom(): number {
    this.#alive("skb_headroom");
    return this.#data;
  }

  /** `skb_tailroom()`. */
  get tailroom(): number {
    this.#alive("skb_tailroom");
    return this.#end - this.#tail;
  }

  /** `refcount_read(&skb->users)`. */
  get users(): number {
    return this.#users;
  }

  /** `atomic_read(&skb_shinfo(skb)->dataref)`: how many skbs share the data buffer. */
  get dataref(): number {
    return this.#shared.dataref;
  }

  /** `skb_cloned()`: the data is shared with a clone, so writing it needs `skb_unclone` first. */
  get cloned(): boolean {
    return this.#cloned && this.#shared.dataref !== 1;
  }

  /** `skb_shared()`: more than one user holds this skb. */
  get shared(): boolean {
    return this.#users !== 1;
  }

  /** True once the last reference was dropped. */
  get freed(): boolean {
    return this.#freed !== undefined;
  }

  /** `skb_reserve(n)`: moves data and tail together; only valid on an empty skb. */
  reserve(n: number): void {
    this.#alive("skb_reserve");
    if (!Number.isInteger(n) || n < 0)
      throw new KernelError("EINVAL", `reserve of ${String(n)} bytes`, { op: "skb_reserve" });
    if (this.len !== 0)
      throw new KernelError(
        "EINVAL",
        `skb#${this.id} holds ${this.len} bytes; skb_reserve needs an empty skb`,
        { op: "skb_reserve" },
      );
    if (this.#tail + n > this.#end) this.#panic("skb_over_panic", n);
    this.#data += n;
    this.#tail += n;
  }

  /** `skb_put(n)`: extends the data at the tail; returns the offset of the new bytes (the old tail). */
  put(n: number): number {
    this.#alive("skb_put");
    if (!Number.isInteger(n) || n < 0)
      throw new KernelError("EINVAL", `put of ${String(n)} bytes`, { op: "skb_put" });
    const at = this.#tail;
    if (at + n > this.#end) this.#panic("skb_over_panic", n);
    this.#tail += n;
    return at;
  }

  /** `skb_put_data()`: appends a copy of `bytes`; returns their offset. */
  putData(bytes: Uint8Array): number {
    if (!(bytes instanceof Uint8Array))
      throw new KernelError("EINVAL", `${String(bytes)} is not a Uint8Array`, { op: "skb_put_data" });
    const at = this.put(bytes.length);
    this.#shared.bytes.set(bytes, at);
    return at;
  }

  /** `skb_put_zero()`: appends `n` zero bytes; returns their offset. */
  putZero(n: number): number {
    const at = this.put(n);
    this.#shared.bytes.fill(0, at, at + n);
    return at;
  }

  /** `skb_push(n)`: extends the data at the front; returns the new data offset. */
  push(n: number): number {
    this.#alive("skb_push");
    if (!Number.isInteger(n) || n < 0)
      throw new KernelError("EINVAL", `push of ${String(n)} bytes`, { op: "skb_push" });
    if (this.#data - n < 0) this.#panic("skb_under_panic", n);
    this.#data -= n;
    return this.#data;
  }

  /** `skb_pull(n)`: drops `n` bytes at the front; returns the new data offset, or null (and changes nothing) when `n > len`. */
  pull(n: number): number | null {
    this.#alive("skb_pull");
    if (!Number.isInteger(n) || n < 0)
      throw new KernelError("EINVAL", `pull of ${String(n)} bytes`, { op: "skb_pull" });
    if (n > this.len) return null;
    this.#data += n;
    return this.#data;
  }

  /** `skb_trim(len)`: shortens the data to `len` bytes if it is longer. */
  trim(len: number): void {
    this.#alive("skb_trim");
    if (!Number.isInteger(len) || len < 0)
      throw new KernelError("EINVAL", `trim to ${String(len)} bytes`, { op: "skb_trim" });
    if (this.len > len) this.#tail = this.#data + len;
  }

  /** `skb_get()`: takes another reference (users + 1) and returns the same skb. */
  get(): SkBuff {
    this.#alive("skb_get");
    this.#users++;
    return this;
  }

  /** `skb_clone()`: a new skb over the same data (dataref + 1); both are then `cloned`. */
  clone(): SkBuff {
    this.#alive("skb_clone");
    const c = new SkBuff(this.#shared, this.#end, this.truesize, this.sizes);
    c.#data = this.#data;
    c.#tail = this.#tail;
    c.#cloned = true;
    if (this.cb !== undefined) c.cb = { ...this.cb };
    this.#cloned = true;
    this.#shared.dataref++;
    return c;
  }

  /** `skb_copy()`: a new skb with a private copy of the headroom and data (same geometry). */
  copy(): SkBuff {
    this.#alive("skb_copy");
    const c = new SkBuff(
      { bytes: this.#shared.bytes.slice(), dataref: 1, cache: undefined },
      this.#end,
      this.truesize,
      this.sizes,
    );
    c.#data = this.#data;
    c.#tail = this.#tail;
    if (this.cb !== undefined) c.cb = { ...this.cb };
    return c;
  }

  /**
   * `skb_unclone()`: if the data is shared, gives this skb a private copy (so writes stop reaching the clones).
   */
  unclone(): void {
    this.#alive("skb_unclone");
    if (!this.cloned) return;
    this.#shared.dataref--;
    this.#shared = { bytes: this.#shared.bytes.slice(), dataref: 1, cache: undefined };
    this.#cloned = false;
  }

  #drop(op: string): boolean {
    this.#alive(op);
    if (--this.#users > 0) return false;
    this.#freed = op;
    const sh = this.#shared;
    if (--sh.dataref === 0 && sh.cache !== undefined) sh.cache.give(sh.bytes);
    return true;
  }

  /**
   * `kfree_skb()`: drops a reference, counted as a drop; frees the skb (and the data, with the last clone) at 0.
   * Returns true when this call freed it.
   * @throws {@link @kbridge/uapi!KernelError} EFAULT on a double free
   */
  free(): boolean {
    return this.#drop("kfree_skb");
  }

  /** `consume_skb()`: as {@link SkBuff.free}, counted as normal completion. */
  consume(): boolean {
    return this.#drop("consume_skb");
  }
}
