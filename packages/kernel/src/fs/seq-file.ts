// fs/seq_file.c: a file made of records (start / next / stop / show), formatted into a kernel buffer that starts at
// PAGE_SIZE and doubles whenever one record does not fit, and handed out by read() in pieces of any size: a read
// returns at most what was asked, the rest of the buffer goes first at the next read, and a record is never
// formatted twice for one pass (except after lseek, which re-walks the records with traverse()).

import { utf8Encode } from "@kbridge/uapi";
import type { IovIter, KFile, KFileOps } from "./file.js";

const PAGE = 4096;
const EINVAL = -22;
const EFAULT = -14;
const ENOMEM = -12;
const MAX_RW_COUNT = 0x7ffff000;

/** `SEQ_SKIP` (1): a `show` return value meaning "leave this record out". */
export const SEQ_SKIP = 1;

/** `ERR_PTR(errno)`: what `start` or `next` return to end the walk with an error. */
export class ErrPtr {
  /** The negative errno. */
  readonly errno: number;

  /** @param errno - a negative errno */
  constructor(errno: number) {
    this.errno = errno;
  }
}

/** `loff_t *pos` of `start` / `next`: the record index, which `next` must advance. */
export interface SeqPos {
  /** The index of the record. */
  value: number;
}

/** What `start` and `next` return: a record, `null` at the end, or an {@link ErrPtr}. */
export type SeqRecord<T> = T | null | ErrPtr;

/**
 * `struct seq_operations`: `start` finds record `pos.value` (null past the end), `next` advances `pos.value` and
 * returns the following record, `stop` ends a walk, `show` formats a record into the {@link SeqFile} with its
 * `puts` / `write` / `commit` and returns 0, {@link SEQ_SKIP} or a negative errno.
 */
export interface SeqOperations<T> {
  /** `->start(m, pos)`. */
  start(m: SeqFile<T>, pos: SeqPos): SeqRecord<T>;
  /** `->next(m, v, pos)`. */
  next(m: SeqFile<T>, v: T, pos: SeqPos): SeqRecord<T>;
  /** `->stop(m, v)`. */
  stop?(m: SeqFile<T>, v: SeqRecord<T>): void;
  /** `->show(m, v)`. */
  show(m: SeqFile<T>, v: T): number;
}

const live = (p: unknown): boolean => p !== null && !(p instanceof ErrPtr);

/**
 * `struct seq_file`: the buffer (`buf`, `size`, `count`, `from`), the record index and the read position, with
 * `seq_read_iter`, `traverse` and `seq_lseek`.
 */
export class SeqFile<T = unknown> {
  /** The operations. */
  readonly op: SeqOperations<T>;
  /** `m->private`. */
  readonly private: unknown;
  /** `m->buf` (undefined until the first read). */
  buf: Uint8Array | undefined;
  /** `m->size`. */
  size = 0;
  /** `m->count`: bytes formatted and not yet read. */
  count = 0;
  /** `m->from`: where in the buffer they start. */
  from = 0;
  /** `m->index`: the next record. */
  index = 0;
  /** `m->read_pos`. */
  readPos = 0;
  /** How often the buffer was allocated (PAGE_SIZE first, doubled after each overflow). */
  allocations = 0;

  /** @param op - the record operations @param priv - `m->private` */
  constructor(op: SeqOperations<T>, priv?: unknown) {
    this.op = op;
    this.private = priv;
  }

  // seq_buf_alloc(): kvmalloc of `size`; NULL past MAX_RW_COUNT.
  #alloc(size: number): boolean {
    this.buf = undefined;
    if (size > MAX_RW_COUNT) return false;
    this.size = size;
    this.buf = new Uint8Array(size);
    this.allocations++;
    return true;
  }

  /** `seq_has_overflowed(m)`: the buffer is full (a record did not fit). */
  hasOverflowed(): boolean {
    return this.count === this.size;
  }

  /** `seq_set_overflow(m)`. */
  setOverflow(): void {
    this.count = this.size;
  }

  /** `seq_write(m, data, len)`: appends `data` when it fits with room to spare (strictly), else marks overflow. */
  write(data: Uint8Array): number {
    if (this.buf !== undefined && this.count + data.length < this.size) {
      this.buf.set(data, this.count);
      this.count += data.length;
      return 0;
    }
    this.setOverflow();
    return -1;
  }

  /** `seq_puts(m, s)` (and `seq_printf` of a formatted string): the same rule as {@link SeqFile.write}. */
  puts(s: string): void {
    this.write(utf8Encode(s));
  }

  /** `seq_get_buf(m, &buf)`: the free room of the buffer (what `show` may fill before {@link SeqFile.commit}). */
  getBuf(): Uint8Array {
    if (this.buf === undefined || this.count > this.size) return new Uint8Array(0);
    return this.buf.subarray(this.count, this.size);
  }

  /** `seq_commit(m, num)`: keeps `num` bytes written into {@link SeqFile.getBuf}; a negative `num` is overflow. */
  commit(num: number): void {
    if (num < 0) this.setOverflow();
    else this.count = Math.min(this.size, this.count + num);
  }

  // traverse(): re-walk the records from the start to byte `offset`; -EAGAIN after growing the buffer.
  #traverse(offset: number): number {
    let pos = 0;
    let error = 0;
    this.index = 0;
    this.count = 0;
    this.from = 0;
    if (offset === 0) return 0;
    if (this.buf === undefined && !this.#alloc(PAGE)) return ENOMEM;
    const ppos = { value: this.index };
    let p = this.op.start(this, ppos);
    this.index = ppos.value;
    while (p !== null) {
      if (p instanceof ErrPtr) {
        error = p.errno;
        break;
      }
      error = this.op.show(this, p);
      if (error < 0) break;
      if (error !== 0) {
        error = 0;
        this.count = 0;
      }
      if (this.hasOverflowed()) {
        this.op.stop?.(this, p);
        this.count = 0;
        return this.#alloc(this.size * 2) ? -11 : ENOMEM;
      }
      ppos.value = this.index;
      p = this.op.next(this, p, ppos);
      this.index = ppos.value;
      if (pos + this.count > offset) {
        this.from = offset - pos;
        this.count -= this.from;
        break;
      }
      pos += this.count;
      this.count = 0;
      if (pos === offset) break;
    }
    this.op.stop?.(this, p);
    return error;
  }

  /**
   * `seq_read_iter(iocb, iter)` with `file.pos` as `ki_pos`: what is left in the buffer first; then records are
   * formatted until one does not fit or the reader has enough (at least one record per read, growing the buffer
   * until it fits); at most `to.count` bytes go out, the rest stays for the next read. Returns the bytes copied,
   * 0 at the end, or the walk's error when nothing was copied (EFAULT when the copy itself failed).
   */
  read(file: KFile, to: IovIter): number {
    if (to.count === 0) return 0;
    let copied = 0;
    let err = 0;
    const done = (): number => {
      if (copied === 0) return this.count ? EFAULT : err;
      file.pos += copied;
      this.readPos += copied;
      return copied;
    };
    if (file.pos === 0) {
      this.index = 0;
      this.count = 0;
    }
    if (file.pos !== this.readPos) {
      do err = this.#traverse(file.pos);
      while (err === -11);
      if (err) {
        this.readPos = 0;
        this.index = 0;
        this.count = 0;
        return done();
      }
      this.readPos = file.pos;
    }
    if (this.buf === undefined && !this.#alloc(PAGE)) {
      err = ENOMEM;
      return done();
    }
    if (this.count) {
      const n = to.copyOut(this.buf!.subarray(this.from, this.from + this.count));
      this.count -= n;
      this.from += n;
      copied += n;
      if (this.count) return done();
    }
    this.from = 0;
    const ppos = { value: this.index };
    const advance = (v: T): SeqRecord<T> => {
      ppos.value = this.index;
      const r = this.op.next(this, v, ppos);
      this.index = ppos.value;
      return r;
    };
    let p = this.op.start(this, ppos);
    this.index = ppos.value;
    let fill = false;
    for (;;) {
      if (!live(p)) {
        if (p instanceof ErrPtr) err = p.errno;
        break;
      }
      err = this.op.show(this, p as T);
      if (err < 0) break;
      if (err) this.count = 0;
      if (!this.count) {
        p = advance(p as T);
        continue;
      }
      if (!this.hasOverflowed()) {
        fill = true;
        break;
      }
      this.op.stop?.(this, p);
      this.count = 0;
      if (!this.#alloc(this.size * 2)) {
        err = ENOMEM;
        return done();
      }
      ppos.value = this.index;
      p = this.op.start(this, ppos);
      this.index = ppos.value;
    }
    if (!fill) {
      this.op.stop?.(this, p);
      this.count = 0;
      return done();
    }
    for (;;) {
      const offs = this.count;
      const pos = this.index;
      p = advance(p as T);
      if (pos === this.index) this.index++; // "buggy .next function did not update position index"
      if (!live(p)) break;
      if (this.count >= to.count) break;
      err = this.op.show(this, p as T);
      if (err > 0) this.count = offs;
      else if (err || this.hasOverflowed()) {
        this.count = offs;
        break;
      }
    }
    this.op.stop?.(this, p);
    const n = to.copyOut(this.buf!.subarray(0, this.count));
    copied += n;
    this.count -= n;
    this.from = n;
    return done();
  }

  /**
   * `seq_lseek(file, offset, whence)`: SEEK_SET and SEEK_CUR only (SEEK_END and the rest are EINVAL); a negative
   * result is EINVAL; a new position re-walks the records to it (traverse), past the end the position is kept
   * and the next read returns 0.
   */
  lseek(file: KFile, offset: number, whence: number): number {
    let off = offset;
    if (whence === 1) off += file.pos;
    else if (whence !== 0) return EINVAL;
    if (off < 0) return EINVAL;
    if (off === this.readPos) {
      file.pos = off;
      return off;
    }
    let r: number;
    do r = this.#traverse(off);
    while (r === -11);
    if (r) {
      file.pos = 0;
      this.readPos = 0;
      this.index = 0;
      this.count = 0;
      return r;
    }
    this.readPos = off;
    file.pos = off;
    return off;
  }
}

/**
 * `single_open(file, show, data)`: a seq_file of exactly one record (`single_start` / `single_next`), `show`
 * writing the whole text.
 */
export function single_open(show: (m: SeqFile<true>) => number, priv?: unknown): SeqFile<true> {
  return new SeqFile<true>(
    {
      start: (_m, pos) => (pos.value === 0 ? true : null),
      next: (_m, _v, pos) => {
        pos.value++;
        return null;
      },
      show: (m) => show(m),
    },
    priv,
  );
}

/**
 * A seq_file whose records are the lines of a text produced at each `start` (the text is made anew for every
 * walk, as the kernel's iterators re-find their position in live lists).
 */
export function seqLines(text: () => string | null, priv?: unknown): SeqFile<string> {
  let lines: string[] = [];
  return new SeqFile<string>(
    {
      start: (_m, pos) => {
        const t = text();
        if (t === null) return null;
        lines = t.match(/[^\n]*\n|[^\n]+$/g) ?? [];
        return lines[pos.value] ?? null;
      },
      next: (_m, _v, pos) => {
        pos.value++;
        return lines[pos.value] ?? null;
      },
      show: (m, v) => {
        m.puts(v);
        return 0;
      },
    },
    priv,
  );
}

/**
 * The `file_operations` of a seq_file (`seq_read_iter`, `seq_lseek`, `seq_release`): `file.private` must be the
 * {@link SeqFile}. `extra` adds or overrides methods (a `write`, a `release`).
 */
export function seqFileOps(name: string, extra: Partial<KFileOps> = {}): KFileOps {
  return {
    read: (file, to) => (file.private as SeqFile).read(file, to),
    llseek: (file, offset, whence) => (file.private as SeqFile).lseek(file, offset, whence),
    name: () => name,
    ...extra,
  };
}
