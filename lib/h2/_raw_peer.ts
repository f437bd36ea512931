/**
 * A raw HTTP/2 peer for tests: writes any frame, well-formed or not, and reads frames one
 * at a time, so tests can drive a server or client through exact sequences (state machine
 * edges, floods, GOAWAY timing) that a real client would never produce.
 *
 * @module
 */
import { FrameType, PREFACE } from "./frame.ts";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";

/**
 * One frame as read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame: RawFrame = { type: 4, flags: 1, id: 0, payload: new Uint8Array(0) };
 * assert.equal(frame.type, 4);
 * ```
 */
export interface RawFrame {
  type: number;
  flags: number;
  id: number;
  payload: Uint8Array;
}

/**
 * A raw connection to an HTTP/2 endpoint (or from one, with {@linkcode RawPeer.accept}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { H2Server } from "./server.ts";
 * const server = new H2Server({ handler: (stream) => stream.respond(204, {}, { endStream: true }) });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * void listener.accept().then((conn) => server.serve(conn));
 * const peer = await RawPeer.connect(listener.addr.port);
 * peer.headers(1, { ":method": "GET", ":scheme": "http", ":path": "/" }, true);
 * const response = await peer.until((frame) => frame.type === 1);
 * assert.deepEqual(peer.decode(response.payload), [":status", "204"]);
 * peer.close();
 * await server.close(100);
 * listener.close();
 * ```
 */
export class RawPeer {
  readonly conn: Deno.TcpConn;
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder();
  /** Every frame read so far, in order. */
  readonly log: RawFrame[] = [];
  #buffer = new Uint8Array(0);
  #closed = false;

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects, sends the preface and an empty (or given) SETTINGS frame. */
  static async connect(port: number, settings: number[] = []): Promise<RawPeer> {
    const peer = new RawPeer(await Deno.connect({ hostname: "127.0.0.1", port }));
    await peer.send(PREFACE);
    await peer.settings(settings);
    return peer;
  }

  /** Accepts one connection on `listener`, reads the client preface, sends SETTINGS. */
  static async accept(listener: Deno.TcpListener, settings: number[] = []): Promise<RawPeer> {
    const peer = new RawPeer(await listener.accept());
    const preface = new Uint8Array(PREFACE.length);
    let read = 0;
    while (read < preface.length) {
      const n = await peer.conn.read(preface.subarray(read));
      if (n === null) throw new Error("closed before the preface");
      read += n;
    }
    await peer.settings(settings);
    return peer;
  }

  /** Writes raw bytes. */
  async send(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** Writes one frame. */
  frame(
    type: number,
    flags: number,
    id: number,
    payload: Uint8Array = new Uint8Array(0),
  ): Promise<void> {
    const bytes = new Uint8Array(9 + payload.length);
    bytes.set([
      payload.length >>> 16,
      (payload.length >>> 8) & 0xff,
      payload.length & 0xff,
      type,
      flags,
    ]);
    new DataView(bytes.buffer).setUint32(5, id);
    bytes.set(payload, 9);
    return this.send(bytes);
  }

  /** A SETTINGS frame from `[id, value, …]`. */
  settings(pairs: number[]): Promise<void> {
    const payload = new Uint8Array(pairs.length * 3);
    const view = new DataView(payload.buffer);
    for (let i = 0; i < pairs.length; i += 2) {
      view.setUint16(i * 3, pairs[i]);
      view.setUint32(i * 3 + 2, pairs[i + 1]);
    }
    return this.frame(FrameType.SETTINGS, 0, 0, payload);
  }

  /** Encodes `fields` with this peer's HPACK encoder. */
  block(fields: Record<string, string>): Uint8Array {
    this.encoder.begin();
    for (const name in fields) this.encoder.field(name, fields[name]);
    return this.encoder.finish().slice();
  }

  /** A HEADERS frame (END_HEADERS set). */
  headers(id: number, fields: Record<string, string>, endStream: boolean): Promise<void> {
    return this.frame(FrameType.HEADERS, 0x4 | (endStream ? 1 : 0), id, this.block(fields));
  }

  /** A DATA frame. */
  data(id: number, bytes: Uint8Array, endStream: boolean): Promise<void> {
    return this.frame(FrameType.DATA, endStream ? 1 : 0, id, bytes);
  }

  /** A 4-byte payload frame (RST_STREAM, WINDOW_UPDATE). */
  word(type: number, id: number, value: number): Promise<void> {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, value);
    return this.frame(type, 0, id, payload);
  }

  /** Decodes a header block with this peer's decoder. */
  decode(block: Uint8Array): string[] | null {
    return this.decoder.decode(block);
  }

  /** The next frame, or null once the connection is closed (or after `timeoutMs`). */
  async next(timeoutMs = 5_000): Promise<RawFrame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.#take();
      if (frame) return frame;
      if (this.#closed || Date.now() > deadline) return null;
      const chunk = new Uint8Array(64 * 1024);
      const timer = setTimeout(() => this.conn.close(), deadline - Date.now());
      let n: number | null = null;
      try {
        n = await this.conn.read(chunk);
      } catch {
        n = null;
      } finally {
        clearTimeout(timer);
      }
      if (n === null) {
        this.#closed = true;
        continue;
      }
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
    }
  }

  /** Frames until one matches `match` (null if the connection ends first). */
  async until(match: (frame: RawFrame) => boolean, timeoutMs = 5_000): Promise<RawFrame> {
    for (;;) {
      const frame = await this.next(timeoutMs);
      if (!frame) throw new Error("connection closed before the expected frame");
      if (frame.type === FrameType.HEADERS && frame.id !== 0) frame.payload = frame.payload.slice();
      if (match(frame)) return frame;
      if (frame.type === FrameType.HEADERS) this.decode(frame.payload); // keep HPACK in step
    }
  }

  #take(): RawFrame | null {
    const buffer = this.#buffer;
    if (buffer.length < 9) return null;
    const length = buffer[0] << 16 | buffer[1] << 8 | buffer[2];
    if (buffer.length < 9 + length) return null;
    const frame = {
      type: buffer[3],
      flags: buffer[4],
      id: new DataView(buffer.buffer, buffer.byteOffset + 5, 4).getUint32(0) & 0x7fffffff,
      payload: buffer.slice(9, 9 + length),
    };
    this.#buffer = buffer.slice(9 + length);
    this.log.push(frame);
    return frame;
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}
