/**
 * The lifecycle half of an HTTP/2 connection, either side: the read loop (one reused
 * buffer, frames parsed in place, reading paused while too much output waits), the stream
 * table, stream and connection errors, budgets, and closing (flush, half-close, linger).
 * `_session.ts` adds the frames both sides handle alike.
 *
 * @module
 */
import { ErrorCode, FRAME_SIZE, H2Error } from "./frame.ts";
import { FrameOutput } from "./_output.ts";
import type { FrameReader } from "./_reader.ts";
import { HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";
import { Sender } from "./_send.ts";
import { Budget, type H2Limits } from "./_limits.ts";
import type { Stream } from "./_stream.ts";
import type { SessionEvents } from "./_events.ts";
import type { ByteSlab } from "../bytes.ts";

/** Read buffer: room for one maximal frame we accept (16 KiB) and plenty of small ones. */
const READ_BYTES = 32 * 1024;
/** Streams we reset recently: late frames on them are ignored rather than answered. */
const RECENT_RESETS = 128;

/**
 * The connection lifecycle; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Sessions are made by H2Server and H2Client; this base is not used on its own.
 * assert.equal(typeof SessionCore, "function");
 * ```
 */
export abstract class SessionCore {
  readonly conn: Deno.TcpConn;
  readonly limits: H2Limits;
  readonly output: FrameOutput;
  readonly sender: Sender;
  readonly streams = new Map<number, Stream>();
  readonly events: SessionEvents;
  /** The clock (ms) as of the last read; deadlines and budgets use it. */
  now = Date.now();
  /** When the last stream closed or the session started: the idle clock. */
  idleSince = this.now;
  /** Closed: nothing more is read or written. */
  closed = false;
  /** Highest stream id the peer opened (server) or we opened (client). */
  lastStreamId = 0;
  /** Our SETTINGS awaiting ACK since (0: acknowledged). */
  settingsSentAt = 0;
  /** The peer's GOAWAY last-stream-id (-1: none received). */
  peerGoaway = -1;
  /** Closing down: half-closed after the last GOAWAY, waiting for the peer (0: not yet). */
  lingerSince = 0;
  /** Body bytes held by streams not yet closed. */
  bodyBytes = 0;
  /** Going away: input is no longer parsed. */
  get halted(): boolean {
    return this.closed || this.lingerSince > 0;
  }

  /** The frame parser (made by Session, which handles the frames). */
  protected abstract readonly reader: FrameReader;
  protected readonly decoder: HpackDecoder;
  protected readonly controlBudget: Budget;
  protected readonly resetBudget: Budget;
  #recentResets: number[] = [];
  #controlMark = -1;
  /** HEADERS and non-empty DATA frames received (useful work, for the control budget). */
  protected streamFramesIn = 0;
  #resumeReading: (() => void) | undefined;
  #onClosed: () => void;

  /** Where received DATA is copied to: the owning server's or client's slab. */
  readonly slab: ByteSlab;

  constructor(
    conn: Deno.TcpConn,
    limits: H2Limits,
    events: SessionEvents,
    slab: ByteSlab,
    onClosed: () => void,
  ) {
    this.conn = conn;
    this.slab = slab;
    this.limits = limits;
    this.events = events;
    this.#onClosed = onClosed;
    this.output = new FrameOutput(conn, () => this.#written(), () => this.destroy());
    this.sender = new Sender(this.output, new HpackEncoder(), {
      streamHighWater: limits.streamHighWater,
      outputHighWater: limits.outputHighWater,
      ended: (stream) => this.localEnded(stream),
      clock: () => this.now,
    });
    this.decoder = new HpackDecoder(4096, limits.maxHeaderListSize);
    this.controlBudget = new Budget(limits.controlBurst, limits.controlPerSecond, this.now);
    this.resetBudget = new Budget(limits.resetBurst, limits.resetPerSecond, this.now);
    try {
      conn.setNoDelay(true);
    } catch {
      // Not a TCP socket option we can set: harmless.
    }
  }

  /** Reads until the connection ends; `initial` are bytes already read from it. */
  protected async readLoop(initial: Uint8Array): Promise<void> {
    let buf = new Uint8Array(Math.max(READ_BYTES, initial.length));
    buf.set(initial);
    let start = 0;
    let end = initial.length;
    try {
      for (;;) {
        if (end > start) {
          this.now = Date.now();
          start = this.lingerSince > 0 ? end : this.consume(buf, start, end);
        }
        if (this.closed) return;
        if (start === end) start = end = 0;
        else if (buf.length - end < FRAME_SIZE.min + 9) {
          buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        if (this.output.backlog > this.limits.outputHighWater) {
          await new Promise<void>((resume) => this.#resumeReading = resume);
          if (this.closed) return;
        }
        if (buf.length > READ_BYTES && start === end) buf = new Uint8Array(READ_BYTES);
        const n = await this.conn.read(buf.subarray(end));
        if (n === null) return this.peerClosed();
        end += n;
      }
    } catch (error) {
      if (!this.closed) this.failed(error);
    }
  }

  /** Parses `buf[start, end)`; returns how far it got. Connection errors end the session. */
  protected consume(buf: Uint8Array, start: number, end: number): number {
    try {
      return this.reader.parse(buf, start, end);
    } catch (error) {
      this.connectionError(error);
      return end;
    }
  }

  #written() {
    this.sender.pump();
    const resume = this.#resumeReading;
    if (resume && this.output.backlog <= this.limits.outputHighWater) {
      this.#resumeReading = undefined;
      resume();
    }
  }

  /** Decodes a header block; HPACK errors are connection errors (COMPRESSION_ERROR). */
  protected decode(buf: Uint8Array, start: number, end: number): string[] | null {
    try {
      return this.decoder.decode(buf, start, end);
    } catch (error) {
      if (error instanceof HpackError) {
        throw new H2Error(ErrorCode.COMPRESSION_ERROR, error.message);
      }
      throw error;
    }
  }

  /** Ends the connection for `error` with GOAWAY (an H2Error's code, else INTERNAL_ERROR). */
  connectionError(error: unknown): void {
    if (this.closed || this.lingerSince > 0) return;
    const code = error instanceof H2Error ? error.code : ErrorCode.INTERNAL_ERROR;
    this.events.connectionError(this, code, error instanceof Error ? error.message : String(error));
    this.output.goaway(this.lastPeerStreamId(), code);
    void this.linger();
  }

  /** The last stream id of ours that a GOAWAY reports (the peer's streams we processed). */
  protected abstract lastPeerStreamId(): number;

  /** Flushes, half-closes, and gives the peer `lingerMs` (the sweep enforces it) to close. */
  async linger(): Promise<void> {
    if (this.closed || this.lingerSince > 0) return;
    this.lingerSince = this.now || Date.now();
    for (const stream of [...this.streams.values()]) {
      this.abortStream(stream, ErrorCode.CANCEL, false);
    }
    await this.output.drained();
    if (this.closed) return;
    try {
      await this.conn.closeWrite();
    } catch {
      this.destroy();
    }
  }

  /**
   * The peer closed its side (EOF): the connection is closed now (a client's open requests
   * fail as `closed`). The server lets responses finish first.
   */
  protected peerClosed(): void {
    this.destroy();
  }

  /** Whether a write has been stuck over `sendStallMs` at `now`: the peer stopped reading. */
  protected writeStalled(now: number): boolean {
    const writing = this.output.writingSince;
    return writing > 0 && now - writing > this.limits.sendStallMs;
  }

  /** A read or write failed. */
  protected failed(_error: unknown): void {
    this.destroy();
  }

  /** Closes the connection now; open streams are aborted. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) {
      this.abortStream(stream, ErrorCode.CANCEL, false);
    }
    this.output.close();
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    this.#resumeReading?.();
    this.#onClosed();
  }

  // ---- streams ----

  /** Registers a new stream. */
  protected addStream(stream: Stream): void {
    this.streams.set(stream.id, stream);
  }

  /** Removes a finished stream. */
  protected closeStream(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream.id);
    this.bodyBytes -= stream.received;
    if (this.streams.size === 0) this.idleSince = this.now;
    this.streamClosed(stream);
    stream.finished();
  }

  /** Called once a stream is removed (after its last event). */
  protected streamClosed(_stream: Stream): void {}

  /** END_STREAM went out on `stream`. */
  protected localEnded(stream: Stream): void {
    if (stream.remoteEnded && !stream.heldEnd) this.closeStream(stream);
  }

  /** Resets `stream` with `code` (RST_STREAM) and aborts it. */
  resetStream(stream: Stream, code: number): void {
    if (stream.closed || (stream.localEnded && stream.remoteEnded)) return; // over, or closing
    this.output.rstStream(stream.id, code);
    this.#rememberReset(stream.id);
    this.abortStream(stream, code, false);
  }

  /** Ends a stream abnormally without sending anything; tells its owner. */
  protected abortStream(stream: Stream, code: number, byPeer: boolean): void {
    if (stream.closed) return;
    stream.remoteEnded = stream.localEnded = true;
    this.sender.drop(stream);
    stream.aborted(code, byPeer);
    this.closeStream(stream);
  }

  #rememberReset(id: number) {
    if (this.#recentResets.length >= RECENT_RESETS) this.#recentResets.shift();
    this.#recentResets.push(id);
  }

  /**
   * Whether late frames on stream `id` are ignored rather than answered: we reset it
   * recently, or (server) it is above the last-stream-id of our final GOAWAY.
   */
  protected ignoring(id: number): boolean {
    return this.#recentResets.includes(id);
  }

  /** A stream error on `id`: RST_STREAM (the stream need not exist). */
  streamError(id: number, code: number): void {
    const stream = this.streams.get(id);
    if (stream) return this.resetStream(stream, code);
    this.output.rstStream(id, code);
    this.#rememberReset(id);
  }

  /** Whether `id` names a stream that was never opened (idle, RFC 9113 §5.1). */
  protected abstract isIdle(id: number): boolean;

  /**
   * A frame that costs work but carries no request; false (and GOAWAY) when over budget.
   * As grpc-go's server does for PINGs, one is free whenever HEADERS or DATA moved (either
   * way) since the previous one: clients that ping or update windows while they get
   * responses (grpc-go's BDP probe) never run out; a flood of them alone does.
   */
  protected spendControl(what: string): boolean {
    const mark = this.output.streamFrames + this.streamFramesIn;
    if (mark !== this.#controlMark) {
      this.#controlMark = mark;
      return true;
    }
    if (this.controlBudget.take(this.now)) return true;
    this.limitBreached(`${what} flood`);
    return false;
  }

  /** A limit was breached: GOAWAY ENHANCE_YOUR_CALM, counted and logged. */
  limitBreached(what: string): void {
    if (this.closed || this.lingerSince > 0) return;
    this.events.limit(this, what);
    this.output.goaway(this.lastPeerStreamId(), ErrorCode.ENHANCE_YOUR_CALM);
    void this.linger();
  }
}
