/**
 * The server side of one connection: checks the client preface, opens request streams
 * from HEADERS (RFC 9113 §5.1 and §8 rules: ids, concurrency, malformed requests,
 * trailers), answers with the handler's responses, shuts down with the two-step graceful
 * GOAWAY, and enforces the deadlines and budgets of SPEC "Hostile clients" from the
 * server's sweep.
 *
 * @module
 */
import { ErrorCode, H2Error, PREFACE } from "./frame.ts";
import { Session } from "./_session.ts";
import type { HeaderBlock } from "./_reader.ts";
import type { H2Limits } from "./_limits.ts";
import type { SessionEvents } from "./_events.ts";
import type { ByteSlab } from "../bytes.ts";
import type { OutgoingHeaders, Stream } from "./_stream.ts";
import { checkRequest, checkTrailers, declaredLength } from "./_headers.ts";
import { ServerStream, type StreamHost } from "./server_stream.ts";

/** The opaque data of the PING that follows the first, announcing GOAWAY. */
const GOAWAY_PING = Uint8Array.from([0x67, 0x6f, 0x61, 0x77, 0x61, 0x79, 0x30, 0x31]);
/** The last-stream-id of the announcing GOAWAY: every stream may still arrive. */
const ANY_STREAM = 2 ** 31 - 1;

/** The usual status codes as strings, made once (others are made per response). */
const STATUS_TEXT: ReadonlyMap<number, string> = new Map(
  [200, 204, 400, 404, 405, 408, 413, 415, 429, 431, 500, 503].map((code) => [code, String(code)]),
);

/**
 * One server connection; created by {@linkcode H2Server}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Made by H2Server.serve; see server.ts for a runnable example.
 * assert.equal(typeof ServerSession, "function");
 * ```
 */
export class ServerSession extends Session implements StreamHost {
  /** 0 running; 1 announced (GOAWAY 2^31−1 + PING sent); 2 final GOAWAY sent. */
  goawayPhase = 0;
  goawaySentAt = 0;
  /** When a graceful close gives up on open streams (0: no limit). */
  closeBy = 0;
  readonly startedAt: number;
  #prefaceSeen = 0;
  #settingsSeen = false;
  /** The client closed its side (EOF): the session closes once no stream is left. */
  #peerEnded = false;
  #handler: (stream: ServerStream) => void;

  constructor(
    conn: Deno.TcpConn,
    limits: H2Limits,
    events: SessionEvents,
    slab: ByteSlab,
    handler: (stream: ServerStream) => void,
    onClosed: () => void,
  ) {
    super(conn, limits, events, slab, onClosed);
    this.#handler = handler;
    this.startedAt = this.now;
  }

  /** Starts the session on `initial` (bytes already read: the preface, or part of it). */
  start(initial: Uint8Array): void {
    this.sendSettings([]);
    void this.readLoop(initial);
  }

  protected override consume(buf: Uint8Array, start: number, end: number): number {
    if (this.#prefaceSeen < PREFACE.length) {
      while (this.#prefaceSeen < PREFACE.length && start < end) {
        if (buf[start++] !== PREFACE[this.#prefaceSeen++]) {
          this.connectionError(new H2Error(ErrorCode.PROTOCOL_ERROR, "invalid connection preface"));
          return end;
        }
      }
      if (start === end) return end;
    }
    return super.consume(buf, start, end);
  }

  protected lastPeerStreamId(): number {
    return this.lastStreamId;
  }

  protected isIdle(id: number): boolean {
    if (id % 2 === 0) return true;
    return this.goawayPhase < 2 && id > this.lastStreamId; // after GOAWAY: ignored, not idle
  }

  protected override ignoring(id: number): boolean {
    return (this.goawayPhase === 2 && id > this.lastStreamId) || super.ignoring(id);
  }

  override onSettings(ack: boolean, buf: Uint8Array, start: number, end: number): void {
    this.#settingsSeen = true;
    super.onSettings(ack, buf, start, end);
  }

  onHeaders(id: number, block: HeaderBlock, last: boolean, dependency: number) {
    const fields = this.decode(block.buf, block.start, block.end); // always: the HPACK table must stay in step
    this.streamFramesIn++;
    const stream = this.streams.get(id);
    if (stream) return this.#trailers(stream as ServerStream, fields, last, dependency);
    if (id % 2 === 0) throw new H2Error(ErrorCode.PROTOCOL_ERROR, `client stream id ${id} is even`);
    if (id <= this.lastStreamId) {
      if (this.ignoring(id)) return; // trailers of a stream we reset: in flight, ignored
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `stream id ${id} not above ${this.lastStreamId}`);
    }
    if (this.goawayPhase === 2 || this.lingerSince > 0) return; // after GOAWAY: not processed
    this.lastStreamId = id;
    if (dependency === id) return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
    if (this.streams.size >= this.limits.maxConcurrentStreams) {
      this.streamError(id, ErrorCode.REFUSED_STREAM);
      if (!this.resetBudget.take(this.now)) this.limitBreached("refused streams");
      return;
    }
    this.#open(id, fields, last);
  }

  #open(id: number, fields: string[] | null, last: boolean) {
    const windows = {
      recv: this.limits.streamWindow,
      send: this.sender.initialWindow,
      now: this.now,
    };
    if (fields === null) {
      this.events.limit(this, "header list size");
      const refused = new ServerStream(
        this,
        id,
        { method: "", scheme: "", path: "", authority: "" },
        [],
        windows,
      );
      this.addStream(refused);
      refused.remoteEnded = last;
      return this.respond(refused, 431, {}, true);
    }
    const pseudo = checkRequest(fields);
    const length = declaredLength(fields);
    if (typeof pseudo === "string" || length === -2 || (last && length > 0)) {
      return this.streamError(id, ErrorCode.PROTOCOL_ERROR);
    }
    const stream = new ServerStream(this, id, pseudo, fields, windows);
    stream.expectedLength = length;
    // END_STREAM on HEADERS: the request is complete, its end is delivered after the handler.
    if (last) stream.remoteEnded = stream.heldEnd = true;
    this.addStream(stream);
    this.events.stats.streamsOpened++;
    this.events.stats.streamsOpen++;
    try {
      this.#handler(stream);
    } catch (error) {
      this.events.connectionError(this, ErrorCode.INTERNAL_ERROR, `handler threw: ${error}`);
      return this.resetStream(stream, ErrorCode.INTERNAL_ERROR);
    }
    if (!last || stream.closed || stream.paused) return; // a paused stream gets it on resume
    stream.heldEnd = false;
    stream.receiveEnd(undefined);
    if (stream.localEnded && !stream.closed) this.closeStream(stream);
  }

  #trailers(stream: ServerStream, fields: string[] | null, last: boolean, dependency: number) {
    if (dependency === stream.id) return this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
    if (stream.remoteEnded) return this.resetStream(stream, ErrorCode.STREAM_CLOSED);
    if (!last || fields === null || checkTrailers(fields) !== undefined) {
      return this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
    }
    this.remoteEnd(stream, fields);
  }

  protected override streamClosed(stream: Stream): void {
    if (stream instanceof ServerStream && stream.method !== "") this.events.stats.streamsOpen--;
    if (this.streams.size === 0 && (this.goawayPhase === 2 || this.peerGoaway >= 0)) {
      void this.linger();
    }
    if (this.#peerEnded) this.#closeWhenDone();
  }

  /**
   * The client closed its side (EOF): streams still waiting for request data are
   * cancelled, the others may finish their responses; once none is left (within
   * `lingerMs`, the sweep's bound) what is queued is flushed and the socket closed.
   */
  protected override peerClosed(): void {
    if (this.lingerSince === 0) this.lingerSince = Date.now();
    this.#peerEnded = true;
    for (const stream of [...this.streams.values()]) {
      if (!stream.remoteEnded) this.abortStream(stream, ErrorCode.CANCEL, true);
    }
    this.#closeWhenDone();
  }

  #closeWhenDone() {
    if (this.streams.size === 0) void this.output.drained().then(() => this.destroy());
  }

  /** A response ended while the request was still arriving: stop it (RST_STREAM NO_ERROR). */
  protected override localEnded(stream: Stream): void {
    if (stream.remoteEnded) return super.localEnded(stream);
    this.resetStream(stream, ErrorCode.NO_ERROR);
  }

  protected override peerReset(stream: Stream): void {
    if (stream.localEnded) return;
    if (!this.resetBudget.take(this.now)) this.limitBreached("rapid reset");
  }

  /**
   * The client is going away: its open streams finish, then we half-close. No GOAWAY of our
   * own goes back (it would tell the client nothing, and Deno 2.9's node:http2 clients can
   * abort on a GOAWAY received late in a long session, denoland/deno#36788).
   */
  override onGoaway(lastStreamId: number, code: number): void {
    if (this.peerGoaway < 0) this.events.stats.peerGoaways++;
    super.onGoaway(lastStreamId, code);
    if (this.streams.size === 0) void this.linger();
  }

  // ---- responses (StreamHost) ----

  respond(stream: ServerStream, status: number, headers: OutgoingHeaders, end: boolean): void {
    this.sender.headers(stream, headers, end, STATUS_TEXT.get(status) ?? String(status));
  }

  write(stream: ServerStream, bytes: Uint8Array): boolean {
    const below = this.sender.write(stream, bytes);
    if (stream.queued > this.limits.maxStreamQueued) {
      this.events.limit(this, "queued response bytes (stream)");
      this.resetStream(stream, ErrorCode.ENHANCE_YOUR_CALM);
      return false;
    }
    if (this.sender.queued > this.limits.maxSessionQueued) {
      this.limitBreached("queued response bytes (session)");
    }
    return below;
  }

  end(stream: ServerStream, trailers: OutgoingHeaders | undefined): void {
    this.sender.end(stream, trailers);
  }

  // ---- graceful GOAWAY and deadlines ----

  /** Announces GOAWAY (last-stream-id 2^31−1) and a PING; the final GOAWAY follows its ACK. */
  shutdown(reason: string): void {
    if (this.goawayPhase > 0 || this.closed || this.lingerSince > 0) return;
    this.events.goaway(reason);
    this.goawayPhase = 1;
    this.goawaySentAt = this.now;
    this.output.goaway(ANY_STREAM, ErrorCode.NO_ERROR);
    this.output.ping(false, GOAWAY_PING, 0);
  }

  protected override pingAcked(buf: Uint8Array, start: number): void {
    if (this.goawayPhase !== 1) return;
    for (let i = 0; i < 8; i++) if (buf[start + i] !== GOAWAY_PING[i]) return;
    this.#finalGoaway();
  }

  #finalGoaway() {
    this.goawayPhase = 2;
    this.output.goaway(this.lastStreamId, ErrorCode.NO_ERROR);
    if (this.streams.size === 0) void this.linger();
  }

  /** The sweep: deadlines of this session and its streams at time `now`. */
  sweep(now: number): void {
    this.now = now;
    const limits = this.limits;
    if (this.lingerSince > 0) {
      if (now - this.lingerSince > limits.lingerMs || (this.closeBy > 0 && now > this.closeBy)) {
        this.destroy();
      }
      return;
    }
    if (!this.#settingsSeen) {
      if (now - this.startedAt > limits.prefaceMs) {
        this.events.limit(this, "preface deadline");
        this.destroy();
      }
      return;
    }
    if (this.settingsSentAt > 0 && now - this.settingsSentAt > limits.settingsAckMs) {
      return this.connectionError(
        new H2Error(ErrorCode.SETTINGS_TIMEOUT, "SETTINGS not acknowledged"),
      );
    }
    if (this.writeStalled(now)) {
      this.events.limit(this, "peer not reading");
      return this.destroy();
    }
    if (this.goawayPhase === 1 && now - this.goawaySentAt > limits.goawayPingMs) {
      this.#finalGoaway();
    }
    if (this.closeBy > 0 && now > this.closeBy) return this.destroy();
    if (this.streams.size === 0) {
      if (this.goawayPhase === 0 && now - this.idleSince > limits.idleMs) this.shutdown("idle");
      return;
    }
    for (const stream of [...this.streams.values()]) this.#sweepStream(stream, now);
  }

  #sweepStream(stream: Stream, now: number) {
    if (!stream.remoteEnded && now - stream.lastReceiveAt > this.limits.bodyStallMs) {
      this.events.limit(this, "stalled request body");
      return this.resetStream(stream, ErrorCode.CANCEL);
    }
    if (stream.stalledSince > 0 && now - stream.stalledSince > this.limits.sendStallMs) {
      this.events.limit(this, "stalled response (flow-control window shut)");
      this.resetStream(stream, ErrorCode.CANCEL);
    }
  }
}
