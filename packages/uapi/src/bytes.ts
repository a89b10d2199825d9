// Host-order integer loads and stores on a Uint8Array at explicit offsets: byte arithmetic, no DataView
// to allocate per call. Stores truncate like a C cast (a Uint8Array element keeps the low 8 bits). Shared by
// the struct codec here and the netlink codec.

/** A u16 at `o`. */
export function get16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

/** A u32 at `o`. */
export function get32(b: Uint8Array, o: number, le: boolean): number {
  return (
    (le
      ? b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)
      : (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
  );
}

/** A u64 at `o`, as a bigint. */
export function get64(b: Uint8Array, o: number, le: boolean): bigint {
  const lo = get32(b, le ? o : o + 4, le);
  const hi = get32(b, le ? o + 4 : o, le);
  // Most 64-bit counters fit in 32 bits: one BigInt instead of two and a shift.
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Stores the low 16 bits of `v` at `o`. */
export function put16(b: Uint8Array, o: number, v: number, le: boolean): void {
  b[o + (le ? 0 : 1)] = v;
  b[o + (le ? 1 : 0)] = v >>> 8;
}

/** Stores the low 32 bits of `v` at `o`. */
export function put32(b: Uint8Array, o: number, v: number, le: boolean): void {
  if (le) {
    b[o] = v;
    b[o + 1] = v >>> 8;
    b[o + 2] = v >>> 16;
    b[o + 3] = v >>> 24;
  } else {
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
  }
}
