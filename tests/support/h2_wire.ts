/**
 * A raw HTTP/2 client for hostile-client tests against a real process, built on lib/h2's
 * public frame constants and HPACK codec: it writes any frame (well-formed or not, one at
 * a time or thousands in one write), and reads every frame the server sends on a
 * background loop (which a test may pause, to be a peer that stops reading): the server's
 * SETTINGS and PINGs are acknowledged, HPACK is kept in step, and flow-control credit is
 * given back in batches as grpc-go does. A test reads what the server said: its SETTINGS,
 * GOAWAYs, each stream's head, body, trailers or RST_STREAM code, and EOF.
 *
 * @module
 */
import {
  DEFAULT_WINDOW,
  errorCodeName,
  Flag,
  FRAME_HEADER_BYTES,
  FRAME_SIZE,
  FrameType,
  PREFACE,
  Setting,
} from "../../lib/h2/frame.ts";
import { HpackDecoder, HpackEncoder } from "../../lib/h2/hpack.ts";
import {
  concat,
  describeGoaways,
  encodeFrame,
  type Goaway,
  settingsFrame,
  word,
} from "./h2_frames.ts";

/** Credit is given back once this much is unacknowledged (a quarter of 64 KiB, as grpc-go). */
const CREDIT_BATCH = 16 * 1024;
const FRAME_NAMES = Object.fromEntries(Object.entries(FrameType).map(([k, v]) => [v, k]));

/** What the server sent on one stream. */
export interface WireStream {
  id: number;
  /** The response head's fields (name, value, …). */
  headers?: string[] | null;
  trailers?: string[] | null;
  /** Body chunks received (kept unless {@linkcode H2Wire.keepBodies} is off). */
  body: Uint8Array[];
  bodyBytes: number;
  /** The RST_STREAM code, if the server reset it. */
  reset?: number;
  /** Settled: END_STREAM or RST_STREAM received, or the connection ended. */
  done: boolean;
}

/** One HTTP/2 connection to a server under test; see the module doc. */
export class H2Wire {
  readonly conn: Deno.TcpConn;
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder(4096, 1 << 20);
  /** The server's SETTINGS, as last received. */
  readonly serverSettings = new Map<number, number>();
  readonly goaways: Goaway[] = [];
  /** Frames received, by type. */
  readonly received = new Map<number, number>();
  /** RST_STREAM frames received, by error code. */
  readonly resets = new Map<number, number>();
  /** Streams the server has said something on, or we opened (until {@linkcode forget}). */
  readonly streams = new Map<number, WireStream>();
  /** Set once the server closed the connection (EOF or reset). */
  eof = false;
  /** Keep response bodies (false: count their bytes only). */
  keepBodies = true;
  /** Give DATA credit back (false: our windows stay as our SETTINGS made them). */
  credit = true;
  /** Acknowledge the server's SETTINGS (false: a peer that never does). */
  ackSettings = true;
  #connWindow = DEFAULT_WINDOW;
  #streamWindows = new Map<number, number>();
  #unackedConn = 0;
  #writing: Promise<void> = Promise.resolve();
  #waiters = new Set<() => void>();
  #block: { id: number; end: boolean; parts: Uint8Array[] } | undefined;
  #paused: { resume: () => void; gate: Promise<void> } | undefined;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    conn.setNoDelay(true);
    this.#reading = this.#readLoop();
  }

  /**
   * Connects without sending anything (preface tests); the server's SETTINGS are not
   * acknowledged until the test sets {@linkcode ackSettings} (an ACK before our own
   * SETTINGS would be a protocol error).
   */
  static async raw(port: number): Promise<H2Wire> {
    const wire = new H2Wire(await Deno.connect({ hostname: "127.0.0.1", port }));
    wire.ackSettings = false;
    return wire;
  }

  /** Connects, sends the preface and `settings`, and waits for the server's SETTINGS. */
  static async connect(port: number, settings: number[] = []): Promise<H2Wire> {
    const wire = await H2Wire.raw(port);
    wire.ackSettings = true;
    await wire.send(concat([PREFACE, settingsFrame(settings)]));
    await wire.until("the server's SETTINGS", () => wire.serverSettings.size > 0, 5000);
    return wire;
  }

  /** Writes `bytes` after whatever is being written (writes never interleave). */
  send(bytes: Uint8Array): Promise<void> {
    const write = this.#writing.then(async () => {
      let written = 0;
      while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
    });
    this.#writing = write.catch(() => {});
    return write;
  }

  /** Encodes `fields` with this connection's HPACK encoder (call in send order). */
  block(fields: Record<string, string>): Uint8Array {
    this.encoder.begin();
    for (const name in fields) this.encoder.field(name, fields[name]);
    return this.encoder.finish().slice();
  }

  /** A HEADERS frame (END_HEADERS) on stream `id`, whose answer will be tracked. */
  headers(id: number, fields: Record<string, string>, endStream: boolean): Uint8Array {
    this.stream(id);
    const flags = Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0);
    return encodeFrame(FrameType.HEADERS, flags, id, this.block(fields));
  }

  /**
   * DATA frames of `bytes` on stream `id` that both send windows allow now (END_STREAM on
   * the last when `end`), and the bytes they leave for later.
   */
  dataFrames(id: number, bytes: Uint8Array, end: boolean): [Uint8Array, Uint8Array] {
    const frames: Uint8Array[] = [];
    let at = 0;
    do {
      const n = Math.min(bytes.length - at, this.#connWindow, this.#window(id), FRAME_SIZE.min);
      if (n === 0 && bytes.length > 0) break;
      this.#connWindow -= n;
      this.#streamWindows.set(id, this.#window(id) - n);
      const last = end && at + n === bytes.length;
      frames.push(
        encodeFrame(FrameType.DATA, last ? Flag.END_STREAM : 0, id, bytes.subarray(at, at + n)),
      );
      at += n;
    } while (at < bytes.length);
    return [concat(frames), bytes.subarray(at)];
  }

  /** Sends `bytes` as DATA on stream `id` as the windows open (END_STREAM on the last). */
  async data(id: number, bytes: Uint8Array, end: boolean, timeoutMs = 30_000): Promise<void> {
    for (;;) {
      const [frames, rest] = this.dataFrames(id, bytes, end);
      if (frames.length > 0) await this.send(frames);
      if (rest.length === 0) return;
      bytes = rest;
      await this.until(
        `flow-control credit on stream ${id}`,
        () => this.eof || (this.#connWindow > 0 && this.#window(id) > 0),
        timeoutMs,
      );
      if (this.eof) throw new Error(`closed with ${rest.length} bytes of stream ${id} unsent`);
    }
  }

  /** The record of stream `id`, made when first needed. */
  stream(id: number): WireStream {
    let stream = this.streams.get(id);
    if (!stream) {
      stream = { id, body: [], bodyBytes: 0, done: this.eof };
      this.streams.set(id, stream);
    }
    return stream;
  }

  /** Drops what is kept of stream `id` (long runs keep memory flat). */
  forget(id: number): void {
    this.streams.delete(id);
    this.#streamWindows.delete(id);
  }

  #window(id: number): number {
    return this.#streamWindows.get(id) ??
      this.serverSettings.get(Setting.INITIAL_WINDOW_SIZE) ?? DEFAULT_WINDOW;
  }

  /** Stops reading from the socket (a peer that does not read), until {@linkcode resume}. */
  pause(): void {
    if (this.#paused) return;
    let resume = () => {};
    const gate = new Promise<void>((resolve) => resume = resolve);
    this.#paused = { resume, gate };
  }

  /** Reads again after {@linkcode pause}. */
  resume(): void {
    this.#paused?.resume();
    this.#paused = undefined;
  }

  /**
   * Resolves once `check()` holds, re-checked after every read from the server; rejects
   * after `timeoutMs` with `what` and what the server has said so far.
   */
  until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`waited ${timeoutMs} ms for ${what}; the server sent ${this.summary()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Resolves with the first GOAWAY (or rejects after `timeoutMs`). */
  async goaway(timeoutMs: number): Promise<Goaway> {
    await this.until("a GOAWAY", () => this.goaways.length > 0, timeoutMs);
    return this.goaways[0];
  }

  /** Resolves once the server has closed the connection. */
  closed(timeoutMs: number): Promise<void> {
    return this.until("the server to close the connection", () => this.eof, timeoutMs);
  }

  /** What the server sent, in one line: frame counts by type, resets, GOAWAYs, EOF. */
  summary(): string {
    const counts = [...this.received].map(([type, n]) => `${FRAME_NAMES[type] ?? type} ×${n}`);
    const resets = [...this.resets].map(([code, n]) => `${errorCodeName(code)} ×${n}`);
    return `${counts.join(", ") || "no frames"}; resets: ${resets.join(", ") || "none"}; ` +
      `${describeGoaways(this.goaways)}; ${this.eof ? "closed" : "open"}`;
  }

  /** Closes the connection and waits for the read loop to end. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    this.resume();
    await this.#reading;
    await this.#writing;
  }

  async #readLoop(): Promise<void> {
    let buf = new Uint8Array(256 * 1024);
    let start = 0;
    let end = 0;
    try {
      for (;;) {
        if (this.#paused) await this.#paused.gate;
        if (buf.length - end < 64 * 1024) {
          const bigger = new Uint8Array(Math.max(buf.length, (end - start) * 2 + 64 * 1024));
          bigger.set(buf.subarray(start, end));
          buf = bigger;
          end -= start;
          start = 0;
        }
        const n = await this.conn.read(buf.subarray(end));
        if (n === null) break;
        end += n;
        start = this.#parse(buf, start, end);
        if (start === end) start = end = 0;
        this.#notify();
      }
    } catch {
      // Reset by the server, or closed by us.
    }
    this.eof = true;
    for (const stream of this.streams.values()) stream.done = true;
    this.#notify();
  }

  /** Handles the complete frames in `buf[start, end)`; returns where the rest begins. */
  #parse(buf: Uint8Array, start: number, end: number): number {
    while (end - start >= FRAME_HEADER_BYTES) {
      const length = buf[start] << 16 | buf[start + 1] << 8 | buf[start + 2];
      if (end - start < FRAME_HEADER_BYTES + length) break;
      const type = buf[start + 3];
      const flags = buf[start + 4];
      const id = (buf[start + 5] << 24 | buf[start + 6] << 16 | buf[start + 7] << 8 |
        buf[start + 8]) & 0x7fffffff;
      const at = start + FRAME_HEADER_BYTES;
      this.received.set(type, (this.received.get(type) ?? 0) + 1);
      this.#frame(type, flags, id, buf.subarray(at, at + length));
      start = at + length;
    }
    return start;
  }

  #notify() {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #frame(type: number, flags: number, id: number, payload: Uint8Array) {
    const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
    switch (type) {
      case FrameType.SETTINGS:
        if (flags & Flag.ACK) return;
        for (let at = 0; at + 6 <= payload.length; at += 6) {
          this.#setting(view.getUint16(at), view.getUint32(at + 2));
        }
        if (this.ackSettings) this.#reply(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
        return;
      case FrameType.PING:
        if (flags & Flag.ACK) return;
        return this.#reply(encodeFrame(FrameType.PING, Flag.ACK, 0, payload.slice()));
      case FrameType.GOAWAY:
        this.goaways.push({
          lastStreamId: view.getUint32(0) & 0x7fffffff,
          code: view.getUint32(4),
        });
        return;
      case FrameType.WINDOW_UPDATE: {
        const increment = view.getUint32(0) & 0x7fffffff;
        if (id === 0) this.#connWindow += increment;
        else this.#streamWindows.set(id, this.#window(id) + increment);
        return;
      }
      case FrameType.RST_STREAM: {
        const code = view.getUint32(0);
        this.resets.set(code, (this.resets.get(code) ?? 0) + 1);
        const stream = this.stream(id);
        stream.reset = code;
        stream.done = true;
        return;
      }
      case FrameType.HEADERS:
      case FrameType.CONTINUATION:
        return this.#headers(type, flags, id, payload);
      case FrameType.DATA:
        return this.#data(flags, id, payload);
    }
  }

  #reply(frame: Uint8Array) {
    void this.send(frame).catch(() => {});
  }

  #setting(id: number, value: number) {
    if (id === Setting.INITIAL_WINDOW_SIZE) {
      const delta = value - (this.serverSettings.get(id) ?? DEFAULT_WINDOW);
      for (const [stream, window] of this.#streamWindows) {
        this.#streamWindows.set(stream, window + delta);
      }
    }
    this.serverSettings.set(id, value);
  }

  #headers(type: number, flags: number, id: number, payload: Uint8Array) {
    if (type === FrameType.HEADERS) {
      let start = 0;
      let end = payload.length;
      if (flags & Flag.PADDED) end -= payload[start++];
      if (flags & Flag.PRIORITY) start += 5;
      this.#block = { id, end: (flags & Flag.END_STREAM) !== 0, parts: [] };
      payload = payload.subarray(start, end);
    }
    this.#block?.parts.push(payload.slice());
    if (!(flags & Flag.END_HEADERS) || !this.#block) return;
    const block = this.#block;
    this.#block = undefined;
    const fields = this.decoder.decode(concat(block.parts));
    const stream = this.stream(block.id);
    if (stream.headers !== undefined) stream.trailers = fields;
    else stream.headers = fields;
    if (block.end) stream.done = true;
  }

  #data(flags: number, id: number, payload: Uint8Array) {
    const stream = this.stream(id);
    if (this.keepBodies && payload.length > 0) stream.body.push(payload.slice());
    stream.bodyBytes += payload.length;
    if (flags & Flag.END_STREAM) stream.done = true;
    if (!this.credit || payload.length === 0) return;
    this.#unackedConn += payload.length;
    if (this.#unackedConn >= CREDIT_BATCH) {
      this.#reply(encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, word(this.#unackedConn)));
      this.#unackedConn = 0;
    }
    if (!stream.done && stream.bodyBytes >= CREDIT_BATCH) {
      this.#reply(encodeFrame(FrameType.WINDOW_UPDATE, 0, id, word(payload.length)));
    }
  }
}
