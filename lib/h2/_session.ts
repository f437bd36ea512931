/**
 * One HTTP/2 connection, either side: SETTINGS, PING, GOAWAY, WINDOW_UPDATE, PRIORITY and
 * RST_STREAM, and request/response bodies with flow-control credit given back in batches
 * of half a window. Server and client sessions add how streams open and what headers mean.
 *
 * @module
 */
import { DEFAULT_WINDOW, ErrorCode, FRAME_SIZE, H2Error, MAX_WINDOW, Setting } from "./frame.ts";
import type { Stream } from "./_stream.ts";
import { SessionCore } from "./_session_core.ts";
import { FrameReader, type FrameSink, type HeaderBlock } from "./_reader.ts";

/**
 * The frames both sides handle alike; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Sessions are made by H2Server and H2Client; this base is not used on its own.
 * assert.equal(typeof Session, "function");
 * ```
 */
export abstract class Session extends SessionCore implements FrameSink {
  protected readonly reader: FrameReader = new FrameReader(this, {
    maxFrameSize: FRAME_SIZE.min,
    maxHeaderBlock: this.limits.maxHeaderBlock,
    maxContinuations: this.limits.maxContinuations,
  });
  #recvWindow = DEFAULT_WINDOW;
  #recvUnacked = 0;

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

  onData(id: number, buf: Uint8Array, start: number, end: number, flow: number, last: boolean) {
    this.#recvWindow -= flow;
    if (this.#recvWindow < 0) {
      throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "connection window exceeded");
    }
    const stream = this.streams.get(id);
    if (!stream || stream.remoteEnded) {
      this.consumed(undefined, flow);
      if (this.isIdle(id)) throw new H2Error(ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      if (stream || !this.ignoring(id)) this.streamError(id, ErrorCode.STREAM_CLOSED);
      return;
    }
    stream.recvWindow -= flow;
    if (stream.recvWindow < 0) {
      this.consumed(undefined, flow);
      return this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
    }
    const length = end - start;
    if (flow > length) this.consumed(stream, flow - length); // padding
    if (length > 0) this.streamFramesIn++;
    else if (!last && !this.spendControl("empty DATA")) return;
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
      const chunk = this.slab.alloc(length);
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
    if (!this.spendControl("WINDOW_UPDATE")) return;
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

  abstract onHeaders(id: number, block: HeaderBlock, last: boolean, dependency: number): void;

  onStreamError(id: number, code: number, detail: string): void {
    if (this.isIdle(id) && code === ErrorCode.PROTOCOL_ERROR) {
      throw new H2Error(code, `${detail} on idle stream ${id}`);
    }
    this.streamError(id, code);
  }
}
