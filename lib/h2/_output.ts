/**
 * The write side of a connection: frames are serialized straight into one buffer, and
 * everything written during a turn of the event loop goes out in one `conn.write`. While a
 * write is in flight the next frames collect in a second buffer (the two swap), so steady
 * traffic allocates nothing per frame.
 *
 * @module
 */
import { FRAME_HEADER_BYTES, FrameType } from "./frame.ts";

/** Starting size of each of the two buffers; they grow on demand. */
const INITIAL_BYTES = 16 * 1024;
/** A buffer grown past this is dropped once written, so idle connections stay small. */
const KEEP_BYTES = 256 * 1024;

/**
 * Serializes frames for one connection and writes them in batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const server = await listener.accept();
 * const output = new FrameOutput(server, () => {}, () => {});
 * output.ping(false, new Uint8Array(8), 0);
 * output.rstStream(1, 8);
 * const bytes = new Uint8Array(64);
 * let read = 0;
 * while (read < 17 + 13) read += (await client.read(bytes.subarray(read)))!;
 * assert.deepEqual([...bytes.subarray(0, 9)], [0, 0, 8, 6, 0, 0, 0, 0, 0]); // PING header
 * assert.equal(bytes[17 + 3], 3); // then RST_STREAM, in the same write
 * client.close();
 * server.close();
 * listener.close();
 * ```
 */
export class FrameOutput {
  #conn: Deno.Conn;
  #buf = new Uint8Array(INITIAL_BYTES);
  #len = 0;
  #spare = new Uint8Array(INITIAL_BYTES);
  #inFlight = 0;
  /** When the write in flight started (0: none): a peer that stops reading shows here. */
  writingSince = 0;
  /** HEADERS and DATA frames serialized so far (useful work, for the control budget). */
  streamFrames = 0;
  #writing = false;
  #scheduled = false;
  #closed = false;
  #onWritten: () => void;
  #onError: (error: unknown) => void;
  #idle: (() => void)[] = [];
  #flush = () => this.#startWrite();

  /** `onWritten` after each completed write; `onError` once when a write fails. */
  constructor(conn: Deno.Conn, onWritten: () => void, onError: (error: unknown) => void) {
    this.#conn = conn;
    this.#onWritten = onWritten;
    this.#onError = onError;
  }

  /** Bytes serialized but not yet written, plus those in flight. */
  get backlog(): number {
    return this.#len + this.#inFlight;
  }

  /** Drops everything and writes nothing more (the connection is closing). */
  close(): void {
    this.#closed = true;
    this.#len = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once everything serialized so far is written (or the output closed). */
  drained(): Promise<void> {
    if (this.#closed || (this.#len === 0 && !this.#writing)) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #reserve(bytes: number): Uint8Array {
    if (this.#len + bytes > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + bytes));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
    return this.#buf;
  }

  /** Writes a frame header; the caller writes exactly `length` payload bytes after it. */
  header(length: number, type: number, flags: number, streamId: number): void {
    const buf = this.#reserve(FRAME_HEADER_BYTES + length);
    const at = this.#len;
    buf[at] = length >>> 16;
    buf[at + 1] = (length >>> 8) & 0xff;
    buf[at + 2] = length & 0xff;
    buf[at + 3] = type;
    buf[at + 4] = flags;
    buf[at + 5] = (streamId >>> 24) & 0x7f;
    buf[at + 6] = (streamId >>> 16) & 0xff;
    buf[at + 7] = (streamId >>> 8) & 0xff;
    buf[at + 8] = streamId & 0xff;
    this.#len = at + FRAME_HEADER_BYTES;
  }

  /** Payload bytes `src[start, end)` (space was reserved by {@linkcode header}). */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    if (end - start < 16) {
      const buf = this.#buf;
      let at = this.#len;
      for (let i = start; i < end; i++) buf[at++] = src[i];
      this.#len = at;
      return;
    }
    this.#buf.set(src.subarray(start, end), this.#len);
    this.#len += end - start;
  }

  /** Raw bytes outside any frame (the client preface). */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.bytes(bytes);
  }

  /** A 32-bit payload word (reserved by {@linkcode header}). */
  u32(value: number): void {
    const buf = this.#buf;
    const at = this.#len;
    buf[at] = value >>> 24;
    buf[at + 1] = (value >>> 16) & 0xff;
    buf[at + 2] = (value >>> 8) & 0xff;
    buf[at + 3] = value & 0xff;
    this.#len = at + 4;
  }

  /** A SETTINGS frame from `[id, value, id, value, …]`. */
  settings(pairs: readonly number[]): void {
    this.header(pairs.length * 3, FrameType.SETTINGS, 0, 0);
    const buf = this.#buf;
    for (let i = 0; i < pairs.length; i += 2) {
      buf[this.#len++] = pairs[i] >>> 8;
      buf[this.#len++] = pairs[i] & 0xff;
      this.u32(pairs[i + 1]);
    }
  }

  /** An empty SETTINGS frame with ACK. */
  settingsAck(): void {
    this.header(0, FrameType.SETTINGS, 0x1, 0);
  }

  /** A PING with the 8 opaque bytes at `data[start]`. */
  ping(ack: boolean, data: Uint8Array, start: number): void {
    this.header(8, FrameType.PING, ack ? 0x1 : 0, 0);
    this.bytes(data, start, start + 8);
  }

  /** A GOAWAY frame. */
  goaway(lastStreamId: number, code: number): void {
    this.header(8, FrameType.GOAWAY, 0, 0);
    this.u32(lastStreamId & 0x7fffffff);
    this.u32(code);
  }

  /** A RST_STREAM frame. */
  rstStream(streamId: number, code: number): void {
    this.header(4, FrameType.RST_STREAM, 0, streamId);
    this.u32(code);
  }

  /** A WINDOW_UPDATE frame. */
  windowUpdate(streamId: number, increment: number): void {
    this.header(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.u32(increment);
  }

  /** One DATA frame carrying `src[start, end)` (the caller respects frame size and windows). */
  data(streamId: number, src: Uint8Array, start: number, end: number, endStream: boolean): void {
    this.streamFrames++;
    this.header(end - start, FrameType.DATA, endStream ? 0x1 : 0, streamId);
    this.bytes(src, start, end);
  }

  /** A header block as HEADERS plus CONTINUATION frames of at most `maxFrame` bytes. */
  headers(streamId: number, block: Uint8Array, endStream: boolean, maxFrame: number): void {
    const endFlag = endStream ? 0x1 : 0;
    this.streamFrames++;
    if (block.length <= maxFrame) {
      this.header(block.length, FrameType.HEADERS, endFlag | 0x4, streamId);
      this.bytes(block);
      return;
    }
    this.header(maxFrame, FrameType.HEADERS, endFlag, streamId);
    this.bytes(block, 0, maxFrame);
    for (let at = maxFrame; at < block.length; at += maxFrame) {
      const end = Math.min(block.length, at + maxFrame);
      const last = end === block.length;
      this.header(end - at, FrameType.CONTINUATION, last ? 0x4 : 0, streamId);
      this.bytes(block, at, end);
    }
  }

  #startWrite() {
    this.#scheduled = false;
    if (this.#writing || this.#closed || this.#len === 0) return;
    const out = this.#buf.subarray(0, this.#len);
    this.#buf = this.#spare;
    this.#spare = out.buffer.byteLength > KEEP_BYTES
      ? new Uint8Array(INITIAL_BYTES)
      : new Uint8Array(out.buffer);
    this.#len = 0;
    this.#writing = true;
    this.#inFlight = out.length;
    this.writingSince = Date.now();
    this.#write(out);
  }

  #write(out: Uint8Array) {
    this.#conn.write(out).then((written) => {
      if (this.#closed) return this.#settle();
      if (written < out.length) {
        this.writingSince = Date.now(); // progress: the peer reads, slowly
        return this.#write(out.subarray(written));
      }
      this.#settle();
      if (this.#len > 0) this.#startWrite();
      else for (const resolve of this.#idle.splice(0)) resolve();
      this.#onWritten();
    }, (error) => {
      this.#settle();
      if (this.#closed) return;
      this.close();
      this.#onError(error);
    });
  }

  #settle() {
    this.writingSince = 0;
    this.#writing = false;
    this.#inFlight = 0;
  }
}
