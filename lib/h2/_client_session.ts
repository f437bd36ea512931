/**
 * The client side of one connection: sends the preface, opens request streams within the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS (the rest wait their turn), collects each
 * response (bounded), and sorts failures into retryable ones (streams the server never
 * processed: above a GOAWAY's last-stream-id, or refused) and final ones.
 *
 * @module
 */
import { ErrorCode, errorCodeName, H2Error, PREFACE, Setting } from "./frame.ts";
import { Session } from "./_session.ts";
import type { HeaderBlock } from "./_reader.ts";
import type { H2Limits } from "./_limits.ts";
import type { SessionEvents } from "./_events.ts";
import type { ByteSlab } from "../bytes.ts";
import { type OutgoingHeaders, Stream } from "./_stream.ts";
import { checkResponse, checkTrailers } from "./_headers.ts";
import { concat } from "../bytes.ts";
import { H2RequestError, type H2Response } from "./_client_types.ts";

const HTTP1 = new TextEncoder().encode("HTTP/");

/** One request to send on a session. */
export interface PendingRequest {
  fields: OutgoingHeaders;
  body: Uint8Array | undefined;
  maxResponseBytes: number;
  /** Its stream, once opened. */
  stream?: ClientStream;
  resolve(response: H2Response): void;
  reject(error: H2RequestError): void;
}

function fieldMap(fields: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) {
    const previous = map.get(fields[i]);
    map.set(fields[i], previous === undefined ? fields[i + 1] : `${previous}, ${fields[i + 1]}`);
  }
  return map;
}

/** A request stream: gathers the response for its promise. */
export class ClientStream extends Stream {
  status = 0;
  headers: readonly string[] = [];
  chunks: Uint8Array[] = [];
  settled = false;

  constructor(
    id: number,
    windows: { recv: number; send: number; now: number },
    readonly request: PendingRequest,
  ) {
    super(id, windows.recv, windows.send, windows.now);
  }

  override receiveData(chunk: Uint8Array): void {
    this.chunks.push(chunk);
  }

  override receiveEnd(trailers: string[] | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.request.resolve({
      status: this.status,
      headers: fieldMap(this.headers),
      body: this.chunks.length === 1 ? this.chunks[0] : concat(this.chunks, this.received),
      trailers: fieldMap(trailers ?? []),
    });
  }

  /** Rejects the request (once). */
  fail(error: H2RequestError): void {
    if (this.settled) return;
    this.settled = true;
    this.request.reject(error);
  }

  override aborted(code: number, byPeer: boolean): void {
    if (code === ErrorCode.REFUSED_STREAM && byPeer) {
      return this.fail(
        new H2RequestError("refused", "stream refused by the server (not processed)", true),
      );
    }
    const who = byPeer ? "the server" : "the client";
    this.fail(
      new H2RequestError("reset", `stream reset by ${who} (${errorCodeName(code)})`, false, code),
    );
  }
}

/**
 * One client connection; created by {@linkcode H2Client}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Made by H2Client; see client.ts for a runnable example.
 * assert.equal(typeof ClientSession, "function");
 * ```
 */
export class ClientSession extends Session {
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until it says). */
  maxStreams = 100;
  /** No new streams here (GOAWAY received, or closing). */
  draining = false;
  #pending: PendingRequest[] = [];
  #firstBytes = true;
  #failure: H2RequestError | undefined;
  #where: string;

  constructor(
    conn: Deno.TcpConn,
    limits: H2Limits,
    events: SessionEvents,
    slab: ByteSlab,
    where: string,
    onClosed: () => void,
  ) {
    super(conn, limits, events, slab, onClosed);
    this.#where = where;
  }

  /** Sends the preface and our SETTINGS, and starts reading. */
  start(): void {
    this.output.raw(PREFACE);
    this.sendSettings([Setting.ENABLE_PUSH, 0]);
    void this.readLoop(new Uint8Array(0));
  }

  /** Streams open or waiting. */
  get load(): number {
    return this.streams.size + this.#pending.length;
  }

  /** Sends `request` now, or once a stream slot frees up. */
  send(request: PendingRequest): void {
    if (this.closed || this.draining || this.lingerSince > 0) {
      return request.reject(
        this.#failure ?? new H2RequestError("goaway", "connection is closing", true),
      );
    }
    if (this.streams.size >= this.maxStreams) return void this.#pending.push(request);
    this.#open(request);
  }

  #open(request: PendingRequest) {
    const id = this.lastStreamId === 0 ? 1 : this.lastStreamId + 2;
    if (id > 2 ** 31 - 1) {
      this.draining = true;
      return request.reject(new H2RequestError("goaway", "stream ids exhausted", true));
    }
    this.lastStreamId = id;
    const windows = {
      recv: this.limits.streamWindow,
      send: this.sender.initialWindow,
      now: this.now,
    };
    const stream = new ClientStream(id, windows, request);
    request.stream = stream;
    this.addStream(stream);
    this.sender.headers(stream, request.fields, request.body === undefined);
    if (request.body === undefined) return;
    this.sender.write(stream, request.body);
    this.sender.end(stream);
  }

  /** Cancels `stream` (deadline or abort signal) with RST_STREAM CANCEL. */
  cancel(stream: ClientStream, error: H2RequestError): void {
    stream.fail(error);
    this.resetStream(stream, ErrorCode.CANCEL);
  }

  /** Drops a request that is still waiting for a slot; true if it was. */
  unqueue(request: PendingRequest): boolean {
    const at = this.#pending.indexOf(request);
    if (at >= 0) this.#pending.splice(at, 1);
    return at >= 0;
  }

  protected override consume(buf: Uint8Array, start: number, end: number): number {
    if (this.#firstBytes && end - start >= HTTP1.length) {
      this.#firstBytes = false;
      if (HTTP1.every((byte, i) => buf[start + i] === byte)) {
        this.#fail(
          new H2RequestError(
            "http1",
            `${this.#where} answered in HTTP/1.1: it does not speak h2c (HTTP/2 with prior knowledge)`,
            false,
          ),
        );
        return end;
      }
    }
    return super.consume(buf, start, end);
  }

  protected lastPeerStreamId(): number {
    return 0; // the server opens no streams here (push is disabled)
  }

  protected isIdle(id: number): boolean {
    return id > this.lastStreamId || id % 2 === 0;
  }

  protected override applySetting(id: number, value: number): void {
    if (id === Setting.ENABLE_PUSH && value !== 0) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "a server may not enable push");
    }
    if (id === Setting.MAX_CONCURRENT_STREAMS) {
      this.maxStreams = value;
      this.#admit();
    }
    super.applySetting(id, value);
  }

  onHeaders(id: number, block: HeaderBlock, last: boolean, _dependency: number) {
    const fields = this.decode(block.buf, block.start, block.end);
    this.streamFramesIn++;
    const stream = this.streams.get(id) as ClientStream | undefined;
    if (!stream) {
      if (this.isIdle(id)) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
      }
      return; // a stream we cancelled
    }
    if (stream.remoteEnded) return this.resetStream(stream, ErrorCode.STREAM_CLOSED);
    if (fields === null) return this.#malformed(stream, "response headers too large");
    if (stream.status === 0) return this.#response(stream, fields, last);
    const problem = last ? checkTrailers(fields) : "trailers without END_STREAM";
    if (problem) return this.#malformed(stream, problem);
    this.remoteEnd(stream, fields);
  }

  #response(stream: ClientStream, fields: string[], last: boolean) {
    const status = checkResponse(fields);
    if (typeof status === "string") return this.#malformed(stream, status);
    if (status < 200) {
      if (last || status === 101) this.#malformed(stream, `interim status ${status}`);
      return; // 1xx: the final response follows
    }
    stream.status = status;
    stream.headers = fields;
    if (last) this.remoteEnd(stream, undefined);
  }

  #malformed(stream: ClientStream, problem: string) {
    stream.fail(
      new H2RequestError("protocol", `malformed response from ${this.#where}: ${problem}`, false),
    );
    this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
  }

  protected override deliver(stream: Stream, chunk: Uint8Array): void {
    const client = stream as ClientStream;
    if (client.received > client.request.maxResponseBytes) {
      const limit = client.request.maxResponseBytes;
      return this.cancel(
        client,
        new H2RequestError("too-large", `response body over ${limit} bytes`, false),
      );
    }
    super.deliver(stream, chunk);
  }

  override onGoaway(lastStreamId: number, code: number): void {
    super.onGoaway(lastStreamId, code);
    this.draining = true;
    const unprocessed = new H2RequestError(
      "goaway",
      `${this.#where} sent GOAWAY (not processed)`,
      true,
    );
    for (const stream of [...this.streams.values()]) {
      if (stream.id > lastStreamId) {
        (stream as ClientStream).fail(unprocessed);
        this.abortStream(stream, ErrorCode.REFUSED_STREAM, false);
      }
    }
    for (const request of this.#pending.splice(0)) request.reject(unprocessed);
    if (this.streams.size === 0) void this.linger();
  }

  protected override streamClosed(_stream: Stream): void {
    this.#admit();
    if (this.draining && this.streams.size === 0) void this.linger();
  }

  #admit() {
    while (this.#pending.length > 0 && this.streams.size < this.maxStreams && !this.draining) {
      this.#open(this.#pending.shift()!);
    }
  }

  override connectionError(error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error);
    this.#failure = new H2RequestError(
      "protocol",
      `HTTP/2 error with ${this.#where}: ${detail}`,
      false,
    );
    this.draining = true;
    this.#rejectAll(this.#failure);
    super.connectionError(error);
  }

  #fail(error: H2RequestError) {
    this.#failure = error;
    this.draining = true;
    this.#rejectAll(error);
    this.destroy();
  }

  #rejectAll(error: H2RequestError) {
    for (const stream of this.streams.values()) (stream as ClientStream).fail(error);
    for (const request of this.#pending.splice(0)) request.reject(error);
  }

  override destroy(): void {
    if (this.closed) return;
    this.draining = true;
    const error = this.#failure ??
      new H2RequestError("closed", `connection to ${this.#where} closed`, false);
    this.#rejectAll(error);
    super.destroy();
  }

  /** The client's sweep: linger deadline, and a server that stopped reading. */
  sweep(now: number): void {
    this.now = now;
    if (this.writeStalled(now)) return this.destroy(); // not reading
    if (this.lingerSince > 0 && now - this.lingerSince > this.limits.lingerMs) this.destroy();
  }
}
