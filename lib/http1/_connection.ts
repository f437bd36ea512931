/**
 * A small, strict HTTP/1.1 server connection over a byte stream (driven on a native
 * `Deno.Conn` by lib/net's `ConnStream`, see `_server.ts`): request heads (`_parse.ts`),
 * `Content-Length` and chunked bodies (`_body.ts`), keep-alive, pipelining in order,
 * `Expect: 100-continue`, responses (`_response.ts`). Bodies stream into the
 * {@linkcode Handler}'s exchange and are dropped once it is done. Anything malformed gets
 * a 4xx and the connection is closed. Every phase has a deadline and every buffer a bound
 * (`_limits.ts`, README "Limits and hardening").
 *
 * Written instead of `node:http` because, under Deno, a `node:http` server fed sockets from a
 * `node:net` front is several times slower than this and dropped requests, and instead of
 * `Deno.serve` because that cannot take the connections our sniffer accepted (bench/README.md).
 *
 * @module
 */
import {
  BODY_MS,
  type Exchange,
  type Handler,
  IDLE_MS,
  type Reply,
  type RequestHead,
  type StreamHandler,
} from "../net/mod.ts";
import {
  findHeadEnd,
  HttpError,
  latin1,
  type ParsedHead,
  parseHead,
  resumeHeadSearch,
} from "./_parse.ts";
import { ChunkedDecoder, InputBuffer } from "./_body.ts";
import type { ByteSlab } from "../bytes.ts";
import { CONTINUE, encodeResponse, errorResponse } from "./_response.ts";
import {
  DRAIN_MS,
  HEAD_MS,
  MAX_DRAIN_BYTES,
  MAX_HEAD_BYTES,
  MAX_INPUT_BYTES,
  MAX_OUTPUT_BYTES,
} from "./_limits.ts";

/**
 * The byte stream an {@linkcode Http1Connection} writes to (lib/net's `ConnStream`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteSlab } from "../bytes.ts";
 * let queued = 0;
 * const transport: Http1Transport = {
 *   write: (bytes) => queued += bytes.length,
 *   backlog: () => queued,
 *   pause() {}, resume() {}, deadline() {}, end() {}, destroy() {}, slab: new ByteSlab(),
 * };
 * transport.write(new Uint8Array(3));
 * assert.equal(transport.backlog(), 3);
 * ```
 */
export interface Http1Transport {
  /** Queues bytes for the peer. */
  write(bytes: Uint8Array): void;
  /** Response bytes not yet written. */
  backlog(): number;
  /** Stops delivering input (back-pressure) until {@linkcode resume}. */
  pause(): void;
  /** Resumes delivering input. */
  resume(): void;
  /** Calls the handler's `timeout` after `ms`; 0 clears it. */
  deadline(ms: number): void;
  /** Sends what is queued, then closes our side. */
  end(): void;
  /** Closes the connection now. */
  destroy(): void;
  /** Where response buffers come from (the server's). */
  readonly slab: ByteSlab;
}

type Phase = "head" | "body" | "await-response" | "drain" | "closed";

interface Current {
  exchange: Exchange;
  head: ParsedHead;
  /** Body bytes still to come (`Content-Length` framing). */
  remaining: number;
  chunked: ChunkedDecoder | undefined;
  keepAlive: boolean;
  continued: boolean;
  responded: boolean;
  bodyDone: boolean;
}

/**
 * Serves HTTP/1.1 requests on one byte stream until it closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED, type Handler } from "../net/mod.ts";
 * import { ByteSlab } from "../bytes.ts";
 * const written: Uint8Array[] = [];
 * const transport: Http1Transport = {
 *   write: (bytes) => written.push(bytes),
 *   backlog: () => 0,
 *   pause() {}, resume() {}, deadline() {}, end() {}, destroy() {}, slab: new ByteSlab(),
 * };
 * const handler: Handler = {
 *   open(head, sink) {
 *     sink.send({ status: 200, headers: {}, body: new TextEncoder().encode(head.path) });
 *     return ANSWERED;
 *   },
 * };
 * const request = new TextEncoder().encode("GET /hi HTTP/1.1\r\nhost: x\r\n\r\n");
 * const connection = new Http1Connection(transport, handler, request);
 * assert.match(new TextDecoder().decode(written[0]), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/hi$/);
 * connection.shutdown();
 * ```
 */
export class Http1Connection implements StreamHandler {
  #transport: Http1Transport;
  #handler: Handler;
  #input = new InputBuffer();
  /** Where the search for the end of the current head resumes. */
  #scanned = 0;
  #phase: Phase = "head";
  #current: Current | undefined;
  #pumping = false;
  #closeWhenIdle = false;
  #drained = 0;
  /** Empty lines skipped before the current request line (they count as its head). */
  #skipped = 0;
  /** The peer half-closed: serve what it sent, then close. */
  #peerEnded = false;

  /**
   * Serves requests written to `transport`, whose input the owner feeds to the
   * {@linkcode StreamHandler} methods; `initial` is data already read (the sniffed bytes).
   */
  constructor(transport: Http1Transport, handler: Handler, initial: Uint8Array) {
    this.#transport = transport;
    this.#handler = handler;
    transport.deadline(HEAD_MS);
    if (initial.length > 0) this.receive(initial);
  }

  /** Input arrived. */
  receive(chunk: Uint8Array): void {
    if (this.#phase === "closed" || this.#phase === "drain") {
      // After our answer: what the peer still sends is dropped, within a bound; past it we
      // stop reading (a close with unread bytes resets the connection, and a client still
      // writing would lose our answer) until the drain deadline closes the connection.
      this.#drained += chunk.length;
      if (this.#drained > MAX_DRAIN_BYTES) this.#transport.pause();
      return;
    }
    const idle = this.#input.length === 0 && this.#current === undefined && this.#skipped === 0;
    if (this.#phase === "head" && idle) this.#transport.deadline(HEAD_MS);
    this.#input.append(chunk);
    this.#pump();
  }

  /**
   * The peer half-closed: the requests it sent whole are served; one it cut short is
   * answered 400 (as Node's server does); then the connection closes.
   */
  peerEnded(): void {
    if (this.#phase === "closed" || this.#phase === "drain") return this.#destroy();
    this.#peerEnded = true;
    this.#pump();
  }

  /** The phase's deadline passed. */
  timeout(): void {
    if (this.#phase === "closed") return;
    if (this.#phase === "drain" || (this.#phase === "head" && this.#input.length === 0)) {
      this.#destroy();
    } else this.#fail(new HttpError(408, "request not received in time"));
  }

  /** The output backlog drained: read and parse again. */
  writable(): void {
    if (this.#phase === "closed") return;
    this.#transport.resume();
    this.#pump();
  }

  /** The transport is gone. */
  closed(): void {
    this.#destroy();
  }

  /** Graceful shutdown: close now when idle, else after the current response. */
  shutdown(): void {
    this.#closeWhenIdle = true;
    if (this.#phase === "head" && this.#input.length === 0) this.#end();
  }

  #pump() {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#step());
      if (this.#peerEnded) this.#endAfterPeer();
    } catch (error) {
      this.#fail(error instanceof HttpError ? error : new HttpError(500, "internal error"));
    } finally {
      this.#pumping = false;
    }
  }

  /** After the peer's FIN, once nothing more can be served: close, or 400 a cut request. */
  #endAfterPeer() {
    if (this.#phase === "head" && this.#transport.backlog() <= MAX_OUTPUT_BYTES) {
      if (this.#input.length === 0) this.#end(); // empty lines alone are no request
      else throw new HttpError(400, "request cut short by the end of the connection");
    } else if (this.#phase === "body") {
      throw new HttpError(400, "request body cut short by the end of the connection");
    }
  }

  /** One state-machine step; false when it must wait for input, output or a response. */
  #step(): boolean {
    switch (this.#phase) {
      case "head":
        if (this.#transport.backlog() > MAX_OUTPUT_BYTES) {
          this.#transport.pause(); // resumed by writable()
          return false;
        }
        return this.#readHead();
      case "body":
        return this.#readBody(this.#current as Current);
      case "await-response":
        return this.#afterResponse(this.#current as Current);
      default:
        return false;
    }
  }

  #readHead(): boolean {
    this.#skipEmptyLines();
    const bytes = this.#input.view();
    const end = findHeadEnd(bytes, this.#scanned);
    if (end < 0) {
      if (this.#skipped + bytes.length > MAX_HEAD_BYTES) {
        throw new HttpError(431, "request head too large");
      }
      this.#scanned = resumeHeadSearch(bytes.length);
      return false;
    }
    if (this.#skipped + end > MAX_HEAD_BYTES) throw new HttpError(431, "request head too large");
    const head = parseHead(latin1(bytes.subarray(0, end)));
    this.#input.consume(end + 4);
    this.#scanned = 0;
    this.#skipped = 0;
    const framing = head.framing;
    const current: Current = {
      exchange: undefined as unknown as Exchange,
      head,
      remaining: framing.kind === "length" ? framing.length : 0,
      chunked: framing.kind === "chunked" ? new ChunkedDecoder() : undefined,
      keepAlive: head.keepAlive,
      continued: false,
      responded: false,
      bodyDone: false,
    };
    this.#current = current;
    this.#phase = "body";
    this.#transport.deadline(BODY_MS);
    const headers = head.headers;
    const request: RequestHead = {
      method: head.method,
      path: head.target,
      header: (name) => headers.get(name),
      http2: false,
      contentLength: framing.kind === "length" ? framing.length : undefined,
    };
    current.exchange = this.#handler.open(request, {
      send: (reply) => this.#respond(current, reply),
    });
    return this.#phase === "body";
  }

  /** Drops empty lines before a request line (RFC 9112 §2.2; llhttp drops any number). */
  #skipEmptyLines() {
    const bytes = this.#input.view();
    let start = 0;
    while (start < bytes.length && (bytes[start] === 13 || bytes[start] === 10)) start++;
    if (start === 0) return;
    this.#input.consume(start);
    this.#skipped += start;
    this.#scanned = Math.max(0, this.#scanned - start);
  }

  #readBody(current: Current): boolean {
    const { exchange } = current;
    if (current.head.expectContinue && !current.continued && !current.responded) {
      current.continued = true;
      if (!this.#bodyComplete(current)) this.#transport.write(CONTINUE);
    }
    if (current.chunked) {
      const deliver = (bytes: Uint8Array) => {
        if (!exchange.done) exchange.data(bytes);
      };
      if (!current.chunked.decode(this.#input, deliver)) return false;
    } else if (current.remaining > 0) {
      if (this.#input.length === 0) return false;
      const take = Math.min(current.remaining, this.#input.length);
      const chunk = this.#input.take(take);
      current.remaining -= take;
      if (!exchange.done) exchange.data(chunk);
      if (current.remaining > 0) return false;
    }
    current.bodyDone = true;
    this.#phase = "await-response";
    this.#transport.deadline(0);
    if (!exchange.done) exchange.end();
    return true;
  }

  #bodyComplete(current: Current): boolean {
    return current.bodyDone || (!current.chunked && current.remaining === 0);
  }

  #afterResponse(current: Current): boolean {
    if (!current.responded) {
      if (this.#input.length > MAX_INPUT_BYTES) this.#transport.pause();
      return false;
    }
    this.#current = undefined;
    if (!current.keepAlive || this.#closeWhenIdle) {
      this.#end();
      return false;
    }
    this.#phase = "head";
    this.#transport.resume();
    this.#transport.deadline(this.#input.length > 0 ? HEAD_MS : IDLE_MS);
    return this.#input.length > 0;
  }

  #respond(current: Current, reply: Reply) {
    if (current.responded || this.#phase === "closed") return;
    current.responded = true;
    // Answered before the whole body arrived (too large, rejected early): the rest of the
    // body is drained within a bound, then the connection is closed.
    const early = !this.#bodyComplete(current);
    if (early) current.keepAlive = false;
    const headOnly = current.head.method === "HEAD";
    const framing = { close: !current.keepAlive || this.#closeWhenIdle, headOnly };
    this.#transport.write(encodeResponse(reply, framing, this.#transport.slab));
    if (early) {
      this.#startDrain();
      return;
    }
    if (this.#phase === "await-response" && !this.#pumping) queueMicrotask(() => this.#pump());
  }

  /** Drops up to MAX_DRAIN_BYTES more input for at most DRAIN_MS, then closes. */
  #startDrain() {
    this.#current?.exchange?.abort();
    this.#current = undefined;
    this.#phase = "drain";
    this.#drained = this.#input.length;
    this.#input.clear();
    this.#transport.resume();
    this.#transport.deadline(DRAIN_MS);
    this.#transport.end();
  }

  #fail(error: HttpError) {
    if (this.#phase === "closed") return;
    if (error.status === 0) return this.#end(); // not HTTP/1.x at all: nothing to answer
    const current = this.#current;
    if (current && !current.responded) {
      current.responded = true;
      current.exchange?.abort();
    }
    this.#transport.write(errorResponse(error.status, error.message));
    this.#startDrain();
  }

  #end() {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#current?.exchange?.abort();
    this.#input.clear();
    this.#transport.end();
  }

  #destroy() {
    if (this.#phase !== "closed") {
      this.#phase = "closed";
      this.#current?.exchange?.abort();
      this.#input.clear();
    }
    this.#transport.destroy();
  }
}
