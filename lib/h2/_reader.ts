/**
 * The read side of a connection: splits bytes into frames, applies the per-frame rules of
 * RFC 9113 §4–§6 that need no stream state (sizes, stream 0 or not, padding, flag
 * sequencing of header blocks), joins HEADERS and CONTINUATION frames into one block
 * (capped in bytes and in frames: the CONTINUATION flood), and hands each frame to a
 * {@linkcode FrameSink}. Payloads are passed as ranges of the read buffer: no copies.
 *
 * @module
 */
import { ErrorCode, FRAME_HEADER_BYTES, FrameType, H2Error } from "./frame.ts";

/**
 * What the reader hands frames to. Ranges `[start, end)` index `buf`, which is reused after
 * the call returns. Methods may throw {@linkcode H2Error} for connection errors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const pings: boolean[] = [];
 * const sink = { onPing: (ack: boolean) => pings.push(ack) } as unknown as FrameSink;
 * sink.onPing(true, new Uint8Array(8), 0);
 * assert.deepEqual(pings, [true]);
 * ```
 */
export interface FrameSink {
  /** True once the connection is going away: the rest of the input is not parsed. */
  readonly halted: boolean;
  onData(
    id: number,
    buf: Uint8Array,
    start: number,
    end: number,
    flow: number,
    last: boolean,
  ): void;
  /** A complete header block (valid during the call); `dependency` -1 without PRIORITY. */
  onHeaders(id: number, block: HeaderBlock, last: boolean, dependency: number): void;
  onPriority(id: number, dependency: number): void;
  onRstStream(id: number, code: number): void;
  onSettings(ack: boolean, buf: Uint8Array, start: number, end: number): void;
  onPing(ack: boolean, buf: Uint8Array, start: number): void;
  onGoaway(lastStreamId: number, code: number): void;
  onWindowUpdate(id: number, increment: number): void;
  /** A frame-level error confined to one stream (RST_STREAM it). */
  onStreamError(id: number, code: number, detail: string): void;
}

/**
 * Where a complete header block lies: `buf[start, end)`. The reader reuses one object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const block: HeaderBlock = { buf: Uint8Array.of(0x82), start: 0, end: 1 };
 * assert.equal(block.end - block.start, 1);
 * ```
 */
export interface HeaderBlock {
  buf: Uint8Array;
  start: number;
  end: number;
}

/**
 * Limits of the reader.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const limits: ReaderLimits = { maxFrameSize: 16_384, maxHeaderBlock: 65_536, maxContinuations: 32 };
 * assert.ok(limits.maxHeaderBlock > limits.maxFrameSize);
 * ```
 */
export interface ReaderLimits {
  /** Our SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize: number;
  /** Largest compressed header block (HEADERS + CONTINUATION payloads). */
  maxHeaderBlock: number;
  /** Most CONTINUATION frames in one block. */
  maxContinuations: number;
}

const EMPTY = new Uint8Array(0);

function u31(buf: Uint8Array, at: number): number {
  return ((buf[at] & 0x7f) << 24 | buf[at + 1] << 16 | buf[at + 2] << 8 | buf[at + 3]) >>> 0;
}

function u32(buf: Uint8Array, at: number): number {
  return (buf[at] << 24 | buf[at + 1] << 16 | buf[at + 2] << 8 | buf[at + 3]) >>> 0;
}

function protocolError(detail: string): H2Error {
  return new H2Error(ErrorCode.PROTOCOL_ERROR, detail);
}

function frameSizeError(detail: string): H2Error {
  return new H2Error(ErrorCode.FRAME_SIZE_ERROR, detail);
}

/**
 * Parses frames for one connection; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seen: string[] = [];
 * const sink = {
 *   halted: false,
 *   onSettings: (ack: boolean) => seen.push(`settings ack=${ack}`),
 *   onPing: (ack: boolean) => seen.push(`ping ack=${ack}`),
 *   onWindowUpdate: (id: number, increment: number) => seen.push(`window ${id} +${increment}`),
 * } as unknown as FrameSink;
 * const reader = new FrameReader(sink, { maxFrameSize: 16384, maxHeaderBlock: 65536, maxContinuations: 32 });
 * const bytes = Uint8Array.from([
 *   0, 0, 0, 4, 0, 0, 0, 0, 0, // empty SETTINGS: a peer's first frame
 *   0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, // PING ACK
 *   0, 0, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, // WINDOW_UPDATE +4096 on stream 0
 *   0, 0, 4, 8, 0, // the next frame, incomplete
 * ]);
 * assert.equal(reader.parse(bytes, 0, bytes.length), 39); // the incomplete frame is left
 * assert.deepEqual(seen, ["settings ack=false", "ping ack=true", "window 0 +4096"]);
 * ```
 */
export class FrameReader {
  #sink: FrameSink;
  #limits: ReaderLimits;
  /** True until the peer's first frame, which must be SETTINGS. */
  #first = true;
  /** Header block in progress: its stream (0: none), flags, and the bytes so far. */
  #blockStream = 0;
  #blockLast = false;
  #blockDependency = -1;
  #block = new Uint8Array(0);
  #blockLength = 0;
  #continuations = 0;
  #range: HeaderBlock = { buf: new Uint8Array(0), start: 0, end: 0 };

  constructor(sink: FrameSink, limits: ReaderLimits) {
    this.#sink = sink;
    this.#limits = limits;
  }

  /** Whether a header block awaits CONTINUATION frames. */
  get inHeaderBlock(): boolean {
    return this.#blockStream !== 0;
  }

  /** Parses the complete frames in `buf[start, end)`; returns where the rest begins. */
  parse(buf: Uint8Array, start: number, end: number): number {
    let at = start;
    while (end - at >= FRAME_HEADER_BYTES && !this.#sink.halted) {
      const length = buf[at] << 16 | buf[at + 1] << 8 | buf[at + 2];
      const type = buf[at + 3];
      if (length > this.#limits.maxFrameSize) {
        throw frameSizeError(`frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE`);
      }
      if (this.#first) {
        if (type !== FrameType.SETTINGS || (buf[at + 4] & 0x1) !== 0) {
          throw protocolError("the first frame must be SETTINGS");
        }
        this.#first = false;
      }
      if (end - at - FRAME_HEADER_BYTES < length) break;
      const flags = buf[at + 4];
      const id = u31(buf, at + 5);
      const payload = at + FRAME_HEADER_BYTES;
      at = payload + length;
      if (
        this.#blockStream !== 0 && (type !== FrameType.CONTINUATION || id !== this.#blockStream)
      ) {
        throw protocolError("a header block was interrupted by another frame");
      }
      this.#frame(type, flags, id, buf, payload, at);
    }
    return at;
  }

  #frame(type: number, flags: number, id: number, buf: Uint8Array, start: number, end: number) {
    const length = end - start;
    switch (type) {
      case FrameType.DATA:
        return this.#data(flags, id, buf, start, end);
      case FrameType.HEADERS:
        return this.#headers(flags, id, buf, start, end);
      case FrameType.PRIORITY:
        if (id === 0) throw protocolError("PRIORITY on stream 0");
        if (length !== 5) {
          return this.#sink.onStreamError(id, ErrorCode.FRAME_SIZE_ERROR, "PRIORITY length");
        }
        return this.#sink.onPriority(id, u31(buf, start));
      case FrameType.RST_STREAM:
        if (id === 0) throw protocolError("RST_STREAM on stream 0");
        if (length !== 4) throw frameSizeError("RST_STREAM length");
        return this.#sink.onRstStream(id, u32(buf, start));
      case FrameType.SETTINGS:
        if (id !== 0) throw protocolError("SETTINGS on a stream");
        if ((flags & 0x1) !== 0 && length !== 0) throw frameSizeError("SETTINGS ACK with payload");
        if (length % 6 !== 0) throw frameSizeError("SETTINGS length not a multiple of 6");
        return this.#sink.onSettings((flags & 0x1) !== 0, buf, start, end);
      case FrameType.PUSH_PROMISE:
        throw protocolError("PUSH_PROMISE is not accepted (SETTINGS_ENABLE_PUSH is 0)");
      case FrameType.PING:
        if (id !== 0) throw protocolError("PING on a stream");
        if (length !== 8) throw frameSizeError("PING length");
        return this.#sink.onPing((flags & 0x1) !== 0, buf, start);
      case FrameType.GOAWAY:
        if (id !== 0) throw protocolError("GOAWAY on a stream");
        if (length < 8) throw frameSizeError("GOAWAY length");
        return this.#sink.onGoaway(u31(buf, start), u32(buf, start + 4));
      case FrameType.WINDOW_UPDATE:
        return this.#windowUpdate(id, buf, start, length);
      case FrameType.CONTINUATION:
        return this.#continuation(flags, id, buf, start, end);
      default:
        return; // unknown types are ignored (RFC 9113 §5.5)
    }
  }

  #data(flags: number, id: number, buf: Uint8Array, start: number, end: number) {
    if (id === 0) throw protocolError("DATA on stream 0");
    const flow = end - start;
    let dataEnd = end;
    if (flags & 0x8) {
      if (flow === 0) throw protocolError("PADDED DATA without a pad length");
      const pad = buf[start++];
      if (pad >= flow) throw protocolError("DATA padding exceeds the payload");
      dataEnd -= pad;
    }
    this.#sink.onData(id, buf, start, dataEnd, flow, (flags & 0x1) !== 0);
  }

  #headers(flags: number, id: number, buf: Uint8Array, start: number, end: number) {
    if (id === 0) throw protocolError("HEADERS on stream 0");
    let blockEnd = end;
    if (flags & 0x8) {
      if (start === end) throw protocolError("PADDED HEADERS without a pad length");
      const pad = buf[start++];
      if (pad > blockEnd - start) throw protocolError("HEADERS padding exceeds the payload");
      blockEnd -= pad;
    }
    let dependency = -1;
    if (flags & 0x20) {
      if (blockEnd - start < 5) throw frameSizeError("HEADERS too short for its priority");
      dependency = u31(buf, start);
      start += 5;
    }
    if (start > blockEnd) throw protocolError("HEADERS padding exceeds the payload");
    const last = (flags & 0x1) !== 0;
    if (flags & 0x4) return this.#deliver(id, buf, start, blockEnd, last, dependency);
    this.#blockStream = id;
    this.#blockLast = last;
    this.#blockDependency = dependency;
    this.#blockLength = 0;
    this.#continuations = 0;
    this.#append(buf, start, blockEnd);
  }

  #continuation(flags: number, id: number, buf: Uint8Array, start: number, end: number) {
    if (this.#blockStream === 0 || id !== this.#blockStream) {
      throw protocolError("CONTINUATION without a header block in progress");
    }
    if (++this.#continuations > this.#limits.maxContinuations) {
      throw new H2Error(ErrorCode.ENHANCE_YOUR_CALM, "too many CONTINUATION frames");
    }
    this.#append(buf, start, end);
    if ((flags & 0x4) === 0) return;
    this.#blockStream = 0;
    const block = this.#block;
    this.#deliver(id, block, 0, this.#blockLength, this.#blockLast, this.#blockDependency);
    if (block.length > 64 * 1024) this.#block = new Uint8Array(0);
  }

  #deliver(id: number, buf: Uint8Array, start: number, end: number, last: boolean, dep: number) {
    const range = this.#range;
    range.buf = buf;
    range.start = start;
    range.end = end;
    this.#sink.onHeaders(id, range, last, dep);
    range.buf = EMPTY;
  }

  #append(buf: Uint8Array, start: number, end: number) {
    const length = this.#blockLength + end - start;
    if (length > this.#limits.maxHeaderBlock) {
      throw new H2Error(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    }
    if (length > this.#block.length) {
      const grown = new Uint8Array(Math.max(length, this.#block.length * 2, 1024));
      grown.set(this.#block.subarray(0, this.#blockLength));
      this.#block = grown;
    }
    this.#block.set(buf.subarray(start, end), this.#blockLength);
    this.#blockLength = length;
  }

  #windowUpdate(id: number, buf: Uint8Array, start: number, length: number) {
    if (length !== 4) throw frameSizeError("WINDOW_UPDATE length");
    const increment = u31(buf, start);
    if (increment === 0) {
      if (id === 0) throw protocolError("WINDOW_UPDATE of 0 on the connection");
      return this.#sink.onStreamError(id, ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    }
    this.#sink.onWindowUpdate(id, increment);
  }
}
