/**
 * The sending half of a session: header blocks through the HPACK encoder, and DATA under
 * both flow-control windows (RFC 9113 §6.9). Data that fits goes straight into the output;
 * the rest waits in its stream, and streams with waiting data take turns (round robin)
 * whenever a window opens or the socket catches up.
 *
 * @module
 */
import { DEFAULT_WINDOW, FRAME_SIZE, MAX_WINDOW } from "./frame.ts";
import type { FrameOutput } from "./_output.ts";
import type { HpackEncoder } from "./hpack.ts";
import type { OutgoingHeaders, Stream } from "./_stream.ts";

/** Bytes one stream may send in its turn before the next ready stream goes. */
const QUANTUM = 64 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * Settings of a {@linkcode Sender}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options: SenderOptions = {
 *   streamHighWater: 65_536, outputHighWater: 1 << 20, ended() {}, clock: () => Date.now(),
 * };
 * assert.ok(options.outputHighWater > options.streamHighWater);
 * ```
 */
export interface SenderOptions {
  /** Queued bytes per stream above which `write` answers false. */
  streamHighWater: number;
  /** Output backlog above which no more DATA is serialized until the socket catches up. */
  outputHighWater: number;
  /** Called when END_STREAM has been sent on a stream. */
  ended(stream: Stream): void;
  /** The stall clock (ms): the session's. */
  clock(): number;
}

/**
 * Sends headers and data for one session; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HpackEncoder } from "./hpack.ts";
 * import { Stream } from "./_stream.ts";
 * import type { FrameOutput } from "./_output.ts";
 * const frames: string[] = [];
 * const output = {
 *   backlog: 0,
 *   headers: (id: number, _block: Uint8Array, end: boolean) => frames.push(`HEADERS ${id} end=${end}`),
 *   data: (id: number, _b: Uint8Array, start: number, end: number, last: boolean) =>
 *     frames.push(`DATA ${id} ${end - start} end=${last}`),
 * } as unknown as FrameOutput;
 * const sender = new Sender(output, new HpackEncoder(), {
 *   streamHighWater: 10, outputHighWater: 1 << 20, ended() {}, clock: () => 0,
 * });
 * const stream = new Stream(1, 65_535, 4, 0); // the peer lets 4 bytes through
 * sender.headers(stream, { ":status": "200" }, false);
 * assert.equal(sender.write(stream, new Uint8Array(20)), false); // 16 bytes wait: over 10
 * sender.end(stream, { "grpc-status": "0" });
 * assert.deepEqual(frames, ["HEADERS 1 end=false", "DATA 1 4 end=false"]);
 * assert.equal(sender.streamWindow(stream, 100), true); // the window opens: the rest goes
 * assert.deepEqual(frames.slice(2), ["DATA 1 16 end=false", "HEADERS 1 end=true"]);
 * ```
 */
export class Sender {
  /** The connection's send window. */
  window = DEFAULT_WINDOW;
  /** The peer's SETTINGS_MAX_FRAME_SIZE and SETTINGS_INITIAL_WINDOW_SIZE. */
  maxFrame: number = FRAME_SIZE.min;
  initialWindow = DEFAULT_WINDOW;
  #output: FrameOutput;
  #encoder: HpackEncoder;
  #options: SenderOptions;
  #ready: Stream[] = [];
  /** Bytes queued across all streams. */
  queued = 0;

  constructor(output: FrameOutput, encoder: HpackEncoder, options: SenderOptions) {
    this.#output = output;
    this.#encoder = encoder;
    this.#options = options;
  }

  /** Streams waiting for a window or for the socket. */
  get waiting(): number {
    return this.#ready.length;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE, for our encoder. */
  headersTableSize(size: number): void {
    this.#encoder.setMaxTableSize(size);
  }

  /**
   * Sends a HEADERS block (with CONTINUATION frames when it exceeds the peer's frame size),
   * `:status` first when `status` is given.
   */
  headers(stream: Stream, fields: OutgoingHeaders, endStream: boolean, status?: string): void {
    const encoder = this.#encoder;
    encoder.begin();
    if (status !== undefined) encoder.field(":status", status);
    for (const name in fields) encoder.field(name, fields[name]);
    this.#output.headers(stream.id, encoder.finish(), endStream, this.maxFrame);
    stream.headersSent = true;
    if (endStream) this.#ended(stream);
  }

  /**
   * Sends `bytes` as DATA, now as far as the windows allow, the rest when they open (the
   * array is kept until then). False once more than the high-water mark is queued.
   */
  write(stream: Stream, bytes: Uint8Array): boolean {
    let start = 0;
    if (stream.queued === 0) start = this.#emit(stream, bytes, 0);
    if (start === bytes.length) return true;
    stream.queue.push(start === 0 ? bytes : bytes.subarray(start));
    stream.queued += bytes.length - start;
    this.queued += bytes.length - start;
    this.#markReady(stream);
    if (stream.queued <= this.#options.streamHighWater) return true;
    stream.owesDrain = true;
    return false;
  }

  /** Ends the stream (trailers, or an empty DATA with END_STREAM) after what is queued. */
  end(stream: Stream, trailers?: OutgoingHeaders): void {
    if (stream.localEnded || stream.endQueued) return;
    if (stream.queued > 0) {
      stream.endQueued = true;
      stream.trailers = trailers;
      return;
    }
    this.#finish(stream, trailers);
  }

  /** Forgets a reset stream's queued output. */
  drop(stream: Stream): void {
    this.queued -= stream.queued;
    stream.queue = [];
    stream.queued = 0;
    stream.queueOffset = 0;
    stream.endQueued = false;
    stream.trailers = undefined;
  }

  /** WINDOW_UPDATE on the connection; false on overflow (a connection error). */
  connectionWindow(increment: number): boolean {
    if (this.window + increment > MAX_WINDOW) return false;
    this.window += increment;
    this.pump();
    return true;
  }

  /** WINDOW_UPDATE on a stream; false on overflow (a stream error). */
  streamWindow(stream: Stream, increment: number): boolean {
    if (stream.sendWindow + increment > MAX_WINDOW) return false;
    stream.sendWindow += increment;
    if (stream.queued > 0 || stream.endQueued) {
      this.#markReady(stream);
      this.pump();
    }
    return true;
  }

  /**
   * A new SETTINGS_INITIAL_WINDOW_SIZE, applied to open streams; false on overflow. The
   * caller pumps after acknowledging the SETTINGS (peers expect the ACK first).
   */
  initialWindowChanged(value: number, streams: Iterable<Stream>): boolean {
    const delta = value - this.initialWindow;
    this.initialWindow = value;
    for (const stream of streams) {
      stream.sendWindow += delta;
      if (stream.sendWindow > MAX_WINDOW) return false;
      if (delta > 0 && stream.queued > 0) this.#markReady(stream);
    }
    return true;
  }

  /** Sends queued data, streams taking turns, while the windows and the socket allow. */
  pump(): void {
    const ready = this.#ready;
    const high = this.#options.outputHighWater;
    while (ready.length > 0 && this.window > 0 && this.#output.backlog < high) {
      const stream = ready.shift()!;
      stream.inReady = false;
      if (stream.closed || stream.localEnded) continue;
      this.#sendQueued(stream);
      if (stream.queued > 0 && stream.sendWindow > 0) this.#markReady(stream);
    }
    // Streams blocked by the connection window: the stall clock runs.
    if (this.window > 0) return;
    const now = this.#options.clock();
    for (const stream of ready) if (stream.stalledSince === 0) stream.stalledSince = now;
  }

  #markReady(stream: Stream) {
    if (stream.inReady) return;
    stream.inReady = true;
    this.#ready.push(stream);
  }

  /** Emits DATA frames of `bytes[start…]` while allowed; returns the new start. */
  #emit(stream: Stream, bytes: Uint8Array, start: number): number {
    const high = this.#options.outputHighWater;
    while (start < bytes.length) {
      const allowed = Math.min(bytes.length - start, this.window, stream.sendWindow, this.maxFrame);
      if (allowed <= 0) {
        // Shut by a flow-control window: the stall clock runs (a full socket is the
        // session's concern: FrameOutput.writingSince).
        if (stream.stalledSince === 0) stream.stalledSince = this.#options.clock();
        break;
      }
      if (this.#output.backlog >= high) break;
      this.#output.data(stream.id, bytes, start, start + allowed, false);
      this.window -= allowed;
      stream.sendWindow -= allowed;
      stream.stalledSince = 0;
      start += allowed;
    }
    return start;
  }

  #sendQueued(stream: Stream) {
    let budget = QUANTUM;
    while (stream.queued > 0 && budget > 0) {
      const chunk = stream.queue[0];
      const offset = stream.queueOffset;
      const end = offset + Math.min(chunk.length - offset, budget);
      const next = this.#emit(stream, chunk.subarray(0, end), offset);
      const sent = next - offset;
      if (sent === 0) break;
      budget -= sent;
      stream.queued -= sent;
      this.queued -= sent;
      if (next === chunk.length) {
        stream.queue.shift();
        stream.queueOffset = 0;
      } else {
        stream.queueOffset = next;
      }
    }
    if (stream.queued === 0 && stream.endQueued) {
      stream.endQueued = false;
      this.#finish(stream, stream.trailers);
      stream.trailers = undefined;
    }
    if (stream.owesDrain && stream.queued <= this.#options.streamHighWater) {
      stream.owesDrain = false;
      stream.drained();
    }
  }

  #finish(stream: Stream, trailers: OutgoingHeaders | undefined) {
    if (trailers) return this.headers(stream, trailers, true);
    this.#output.data(stream.id, EMPTY, 0, 0, true);
    this.#ended(stream);
  }

  #ended(stream: Stream) {
    stream.localEnded = true;
    this.#options.ended(stream);
  }
}
