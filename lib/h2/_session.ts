/**
 * One HTTP/2 connection, either side: the read loop (one reused buffer, frames parsed in
 * place), SETTINGS, PING, GOAWAY, WINDOW_UPDATE and RST_STREAM, request/response bodies
 * with flow-control credit given back in batches, stream errors, and closing (flush,
 * half-close, linger). Server and client sessions add how streams open and what headers
 * mean.
 *
 * @module
 */
import { DEFAULT_WINDOW, ErrorCode, FRAME_SIZE, H2Error, MAX_WINDOW, Setting } from "./frame.ts";
import { FrameOutput } from "./_output.ts";
import { FrameReader, type FrameSink } from "./_reader.ts";
import { HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";
import { Sender } from "./_send.ts";
import { Budget, type H2Limits } from "./_limits.ts";
import { allocBytes } from "../bytes.ts";
import type { Stream } from "./_stream.ts";
import { SessionEvents } from "./_events.ts";

/** Read buffer: room for one maximal frame we accept (16 KiB) and plenty of small ones. */
const READ_BYTES = 32 * 1024;
/** Streams we reset recently: late frames on them are ignored rather than answered. */
const RECENT_RESETS = 128;

/**
 * The shared connection engine; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Sessions are made by H2Server and H2Client; this base is not used on its own.
 * assert.equal(typeof Session, "function");
 * ```
 */
export abstract class Session implements FrameSink {
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
  protected readonly reader: FrameReader;
  protected readonly decoder: HpackDecoder;
  protected readonly controlBudget: Budget;
  protected readonly resetBudget: Budget;
  #recvWindow: number;
  #recvUnacked = 0;
  #recentResets: number[] = [];
  #resumeReading: (() => void) | undefined;
  #onClosed: () => void;

  constructor(conn: Deno.TcpConn, limits: H2Limits, events: SessionEvents, onClosed: () => void) {
    this.conn = conn;
    this.limits = limits;
    this.events = events;
    this.#onClosed = onClosed;
    this.output = new FrameOutput(conn, () => this.#written(), () => this.destroy());
    this.sender = new Sender(this.output, new HpackEncoder(), {
      streamHighWater: limits.streamHighWater,
      outputHighWater: limits.outputHighWater,
      ended: (stream) => this.localEnded(stream),
    });
    this.reader = new FrameReader(this, {
      maxFrameSize: FRAME_SIZE.min,
      maxHeaderBlock: limits.maxHeaderBlock,
      maxContinuations: limits.maxContinuations,
    });
    this.decoder = new HpackDecoder(4096, limits.maxHeaderListSize);
    this.controlBudget = new Budget(limits.controlBurst, limits.controlPerSecond, this.now);
    this.resetBudget = new Budget(limits.resetBurst, limits.resetPerSecond, this.now);
    this.#recvWindow = DEFAULT_WINDOW;
    try {
      conn.setNoDelay(true);
    } catch {
      // Not a TCP socket option we can set: harmless.
    }
  }

  /** Sends our SETTINGS and opens the connection window to its full size. */
  protected sendSettings(extra: number[]): void {
    this.output.settings([
      Setting.MAX_CONCURRENT_STREAMS,
      this.limits.maxConcurrentStreams,
      Setting.INITIAL_WINDOW_SIZE,
      this.limits.streamWindow,
      Setting.MAX_HEADER_LIST_SIZE,
      this.limits.maxHeaderListSize,
      ...extra,
    ]);
    this.settingsSentAt = this.now;
    const raise = this.limits.connectionWindow - DEFAULT_WINDOW;
    if (raise > 0) {
      this.output.windowUpdate(0, raise);
      this.#recvWindow += raise;
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

  /** The peer closed its side (EOF). */
  protected peerClosed(): void {
    this.destroy();
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
  }

  /** Called once a stream is removed (after its last event). */
  protected streamClosed(_stream: Stream): void {}

  /** END_STREAM went out on `stream`. */
  protected localEnded(stream: Stream): void {
    if (stream.remoteEnded && !stream.heldEnd) this.closeStream(stream);
  }

  /** Resets `stream` with `code` (RST_STREAM) and aborts it. */
  resetStream(stream: Stream, code: number): void {
    if (stream.closed) return;
    this.output.rstStream(stream.id, code);
    this.#rememberReset(stream.id);
    this.abortStream(stream, code, false);
  }

  /** Ends a stream abnormally without sending anything; tells its owner. */
  protected abortStream(stream: Stream, code: number, byPeer: boolean): void {
    if (stream.closed) return;
    stream.remoteEnded = stream.localEnded = true;
    this.sender.drop(stream);
    this.closeStream(stream);
    stream.aborted(code, byPeer);
  }

  #rememberReset(id: number) {
    if (this.#recentResets.length >= RECENT_RESETS) this.#recentResets.shift();
    this.#recentResets.push(id);
  }

  /** Whether we reset stream `id` recently (late frames on it are ignored). */
  protected resetRecently(id: number): boolean {
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

  /** A frame that costs work but carries no request; false (and GOAWAY) when over budget. */
  protected spendControl(what: string): boolean {
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

  // ---- frames common to both sides ----

  onData(id: number, buf: Uint8Array, start: number, end: number, flow: number, last: boolean) {
    this.#recvWindow -= flow;
    if (this.#recvWindow < 0) {
      throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    }
    const stream = this.streams.get(id);
    if (!stream || stream.remoteEnded) {
      this.consumed(undefined, flow);
      if (this.isIdle(id)) throw new H2Error(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      if (stream || !this.resetRecently(id)) this.streamError(id, ErrorCode.STREAM_CLOSED);
      return;
    }
    stream.recvWindow -= flow;
    if (stream.recvWindow < 0) {
      this.consumed(undefined, flow);
      return this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
    }
    const length = end - start;
    if (flow > length) this.consumed(stream, flow - length); // padding
    if (length === 0 && !last && !this.spendControl("empty DATA")) return;
    stream.received += length;
    stream.lastReceiveAt = this.now;
    this.bodyBytes += length;
    if (stream.expectedLength >= 0 && stream.received > stream.expectedLength) {
      return this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
    }
    if (this.bodyBytes > this.limits.maxSessionBody) {
      this.events.limit(this, "session body bytes");
      return this.resetStream(stream, ErrorCode.ENHANCE_YOUR_CALM);
    }
    if (length > 0) {
      const chunk = allocBytes(length);
      chunk.set(buf.subarray(start, end));
      this.deliver(stream, chunk);
    }
    if (last && !stream.closed) this.remoteEnd(stream, undefined);
  }

  /** Hands a body chunk to the stream, or holds it while the stream is paused. */
  protected deliver(stream: Stream, chunk: Uint8Array): void {
    if (stream.paused) {
      stream.held.push(chunk);
      stream.heldBytes += chunk.length;
      return;
    }
    this.consumed(stream, chunk.length);
    stream.receiveData(chunk);
  }

  /** END_STREAM from the peer (with trailers, if any). */
  protected remoteEnd(stream: Stream, trailers: string[] | undefined): void {
    if (stream.expectedLength >= 0 && stream.received !== stream.expectedLength) {
      return this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
    }
    stream.remoteEnded = true;
    if (stream.paused) {
      stream.heldEnd = true;
      stream.heldTrailers = trailers;
      return;
    }
    stream.receiveEnd(trailers);
    if (stream.localEnded) this.closeStream(stream);
  }

  /** Resumes a paused stream: held chunks (and the end) are delivered. */
  resume(stream: Stream): void {
    stream.paused = false;
    while (stream.held.length > 0 && !stream.paused && !stream.closed) {
      const chunk = stream.held.shift()!;
      stream.heldBytes -= chunk.length;
      this.consumed(stream, chunk.length);
      stream.receiveData(chunk);
    }
    if (stream.heldEnd && !stream.paused && !stream.closed) {
      stream.heldEnd = false;
      stream.receiveEnd(stream.heldTrailers);
      stream.heldTrailers = undefined;
      if (stream.localEnded) this.closeStream(stream);
    }
  }

  /** Gives back flow-control credit for `bytes` consumed, in batches of half a window. */
  protected consumed(stream: Stream | undefined, bytes: number): void {
    this.#recvUnacked += bytes;
    if (this.#recvUnacked >= this.limits.connectionWindow / 2) {
      this.output.windowUpdate(0, this.#recvUnacked);
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
    }
    if (!stream || stream.remoteEnded) return;
    stream.recvUnacked += bytes;
    if (stream.recvUnacked >= this.limits.streamWindow / 2) {
      this.output.windowUpdate(stream.id, stream.recvUnacked);
      stream.recvWindow += stream.recvUnacked;
      stream.recvUnacked = 0;
    }
  }

  onPriority(id: number, dependency: number): void {
    if (!this.spendControl("PRIORITY")) return;
    if (dependency === id) this.streamError(id, ErrorCode.PROTOCOL_ERROR);
  }

  onRstStream(id: number, code: number): void {
    const stream = this.streams.get(id);
    if (!stream) {
      if (this.isIdle(id)) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
      }
      this.spendControl("RST_STREAM on a closed stream");
      return;
    }
    this.peerReset(stream);
    this.abortStream(stream, code, true);
  }

  /** The peer reset a stream that was still open (the rapid-reset budget lives here). */
  protected peerReset(_stream: Stream): void {}

  onSettings(ack: boolean, buf: Uint8Array, start: number, end: number): void {
    if (ack) {
      this.settingsSentAt = 0;
      return;
    }
    if (!this.spendControl("SETTINGS")) return;
    for (let at = start; at < end; at += 6) {
      const value = (buf[at + 2] << 24 | buf[at + 3] << 16 | buf[at + 4] << 8 | buf[at + 5]) >>> 0;
      this.applySetting(buf[at] << 8 | buf[at + 1], value);
    }
    this.output.settingsAck();
    this.sender.pump(); // a larger window may let queued data go, after the ACK
  }

  /** Applies one of the peer's settings (RFC 9113 §6.5.2). */
  protected applySetting(id: number, value: number): void {
    switch (id) {
      case Setting.HEADER_TABLE_SIZE:
        return this.sender.headersTableSize(value);
      case Setting.ENABLE_PUSH:
        if (value > 1) throw new H2Error(ErrorCode.PROTOCOL_ERROR, "ENABLE_PUSH not 0 or 1");
        return;
      case Setting.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW) {
          throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE");
        }
        if (!this.sender.initialWindowChanged(value, this.streams.values())) {
          throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "a stream window overflowed");
        }
        return;
      case Setting.MAX_FRAME_SIZE:
        if (value < FRAME_SIZE.min || value > FRAME_SIZE.max) {
          throw new H2Error(ErrorCode.PROTOCOL_ERROR, "MAX_FRAME_SIZE out of range");
        }
        this.sender.maxFrame = value;
        return;
      default:
        return; // MAX_CONCURRENT_STREAMS (client reads it), MAX_HEADER_LIST_SIZE, unknown
    }
  }

  onPing(ack: boolean, buf: Uint8Array, start: number): void {
    if (ack) return this.pingAcked(buf, start);
    if (!this.spendControl("PING")) return;
    this.output.ping(true, buf, start);
  }

  /** A PING ACK arrived (graceful GOAWAY waits for one). */
  protected pingAcked(_buf: Uint8Array, _start: number): void {}

  onGoaway(lastStreamId: number, _code: number): void {
    this.peerGoaway = this.peerGoaway < 0 ? lastStreamId : Math.min(this.peerGoaway, lastStreamId);
  }

  onWindowUpdate(id: number, increment: number): void {
    if (id === 0) {
      if (!this.sender.connectionWindow(increment)) {
        throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "connection window above 2^31-1");
      }
      return;
    }
    const stream = this.streams.get(id);
    if (!stream) {
      if (this.isIdle(id)) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      }
      return;
    }
    if (!this.sender.streamWindow(stream, increment)) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
    }
  }

  onStreamError(id: number, code: number, detail: string): void {
    if (this.isIdle(id) && code === ErrorCode.PROTOCOL_ERROR) {
      throw new H2Error(code, `${detail} on idle stream ${id}`);
    }
    this.streamError(id, code);
  }

  abstract onHeaders(
    id: number,
    buf: Uint8Array,
    start: number,
    end: number,
    last: boolean,
    dependency: number,
  ): void;
}
