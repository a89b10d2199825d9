// Multipart (dump) replies, read datagram by datagram: the checks of libmnl's mnl_cb_run() (sequence number,
// port id, NLM_F_DUMP_INTR, NLMSG_ERROR), plus what libmnl and npm `netlink` drop: the error a dump ends with
// in NLMSG_DONE (net/netlink/af_netlink.c netlink_dump_done()).

import { type ByteOrder, KernelError } from "@kbridge/uapi";
import { decodeAck, decodeDone, type ExtAck } from "./ack.js";
import {
  NLM_F,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  type NlMessage,
  parseDatagram,
} from "./nlmsg.js";

/** What a dump reader checks. */
export interface DumpOptions {
  /** The request's sequence number: replies with another non-zero seq fail with EPROTO (`mnl_nlmsg_seq_ok`). */
  readonly seq?: number;
  /** The requester's port id: replies with another non-zero pid fail with ESRCH (`mnl_nlmsg_portid_ok`). */
  readonly portid?: number;
  /**
   * What NLM_F_DUMP_INTR (the data changed while the kernel dumped it) does: `'flag'` (the default) sets
   * {@link DumpReader.interrupted} and goes on, as iproute2 does; `'throw'` fails with EINTR, as libmnl does.
   */
  readonly onInterrupted?: "flag" | "throw";
  /** Byte order of headers; `'little'` by default. */
  readonly byteOrder?: ByteOrder;
}

function extackText(x: ExtAck | undefined): string {
  if (x === undefined) return "";
  const parts: string[] = [];
  if (x.msg !== undefined) parts.push(`"${x.msg}"`);
  if (x.offs !== undefined) parts.push(`at offset ${x.offs} of the request`);
  if (x.missType !== undefined) parts.push(`missing attribute type ${x.missType}`);
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

/**
 * Reads a dump reply datagram by datagram. `push()` returns the data messages of each datagram and throws a
 * `KernelError` for what ends a dump badly: an NLMSG_ERROR with an error, an NLMSG_DONE carrying an error
 * (with its ext-ack message), a reply to another request (EPROTO / ESRCH), or NLM_F_DUMP_INTR when asked to.
 * After NLMSG_DONE (or an ack), `done` is true.
 *
 * @example
 * ```ts
 * const dump = new DumpReader({ seq: 1, portid });
 * while (!dump.done) for (const msg of dump.push(await recv())) handle(msg);
 * if (dump.interrupted) console.warn("the dump may be inconsistent");
 * ```
 */
export class DumpReader {
  #done = false;
  #interrupted = false;
  #messages = 0;
  readonly #options: DumpOptions;

  /** @param options - the request's seq and port id to check, and what NLM_F_DUMP_INTR does */
  constructor(options: DumpOptions = {}) {
    for (const k of ["seq", "portid"] as const) {
      const v = options[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
        throw new KernelError("EINVAL", `${k} ${String(v)} is not a u32`, { op: "DumpReader" });
      }
    }
    if (
      options.onInterrupted !== undefined &&
      options.onInterrupted !== "flag" &&
      options.onInterrupted !== "throw"
    ) {
      throw new KernelError(
        "EINVAL",
        `onInterrupted ${JSON.stringify(options.onInterrupted)} is neither "flag" nor "throw"`,
        {
          op: "DumpReader",
        },
      );
    }
    this.#options = options;
  }

  /** NLMSG_DONE (or an ack) has been read: the dump is complete. */
  get done(): boolean {
    return this.#done;
  }

  /** A message carried NLM_F_DUMP_INTR: the kernel's data changed during the dump, which may be inconsistent. */
  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Data messages read so far. */
  get messages(): number {
    return this.#messages;
  }

  /**
   * Reads one datagram and returns its data messages (control messages are consumed).
   * @throws {@link @kbridge/uapi!KernelError} the dump's error, EPROTO/ESRCH for a foreign reply, EINTR when
   * asked to, EINVAL after the dump is done; `NetlinkParseError` for malformed bytes
   */
  push(datagram: Uint8Array): NlMessage[] {
    if (this.#done)
      throw new KernelError("EINVAL", "the dump is already complete (NLMSG_DONE was read)", {
        op: "DumpReader.push",
      });
    const { seq, portid } = this.#options;
    const byteOrder = this.#options.byteOrder ?? "little";
    const out: NlMessage[] = [];
    for (const m of parseDatagram(datagram, { byteOrder })) {
      if (this.#done) {
        throw new KernelError("EPROTO", `message type ${m.type} at offset ${m.offset} follows NLMSG_DONE`, {
          op: "mnl_cb_run",
        });
      }
      if (portid !== undefined && portid !== 0 && m.pid !== 0 && m.pid !== portid) {
        throw new KernelError(
          "ESRCH",
          `reply for port ${m.pid}, not ${portid} (message at offset ${m.offset})`,
          { op: "mnl_cb_run" },
        );
      }
      if (seq !== undefined && seq !== 0 && m.seq !== 0 && m.seq !== seq) {
        throw new KernelError("EPROTO", `reply to seq ${m.seq}, not ${seq} (message at offset ${m.offset})`, {
          op: "mnl_cb_run",
        });
      }
      if ((m.flags & NLM_F.DUMP_INTR) !== 0) {
        this.#interrupted = true;
        if (this.#options.onInterrupted === "throw") {
          throw new KernelError(
            "EINTR",
            `NLM_F_DUMP_INTR on message at offset ${m.offset}: the dump was interrupted`,
            {
              op: "mnl_cb_run",
            },
          );
        }
      }
      switch (m.type) {
        case NLMSG_NOOP:
        case NLMSG_OVERRUN:
          break;
        case NLMSG_ERROR: {
          const ack = decodeAck(m, { byteOrder });
          if (ack.error !== 0) {
            throw new KernelError(
              -ack.error,
              `the kernel refused the dump request${extackText(ack.extack)}`,
              { op: "netlink dump" },
            );
          }
          this.#done = true;
          break;
        }
        case NLMSG_DONE: {
          const done = decodeDone(m, { byteOrder });
          if (done.error < 0 && done.code !== undefined) {
            throw new KernelError(
              done.code,
              `the dump ended with an error in NLMSG_DONE${extackText(done.extack)}`,
              {
                op: "netlink dump",
              },
            );
          }
          this.#done = true;
          break;
        }
        default:
          this.#messages++;
          out.push(m);
      }
    }
    return out;
  }
}

/**
 * Every data message of a dump whose datagrams `datagrams` yields, in order, ending at NLMSG_DONE (datagrams
 * after it are not read). Throws as {@link DumpReader.push} does, and EPROTO when the datagrams end first.
 */
export function* readDump(
  datagrams: Iterable<Uint8Array>,
  options?: DumpOptions,
): Generator<NlMessage, { interrupted: boolean }> {
  const r = new DumpReader(options);
  for (const d of datagrams) {
    yield* r.push(d);
    if (r.done) return { interrupted: r.interrupted };
  }
  throw new KernelError("EPROTO", `the datagrams ended after ${r.messages} messages without NLMSG_DONE`, {
    op: "readDump",
  });
}

/** {@link readDump} over an async source of datagrams (a socket's receive loop). */
export async function* readDumpAsync(
  datagrams: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options?: DumpOptions,
): AsyncGenerator<NlMessage, { interrupted: boolean }> {
  const r = new DumpReader(options);
  for await (const d of datagrams) {
    yield* r.push(d);
    if (r.done) return { interrupted: r.interrupted };
  }
  throw new KernelError("EPROTO", `the datagrams ended after ${r.messages} messages without NLMSG_DONE`, {
    op: "readDumpAsync",
  });
}
