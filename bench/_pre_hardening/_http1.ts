/**
 * A small, strict HTTP/1.1 server connection over a byte stream (the provider drives
 * it on a native `Deno.Conn`, see `_conn.ts`): request heads,
 * `Content-Length` and chunked bodies, keep-alive, pipelining in order,
 * `Expect: 100-continue`. Bodies stream into the {@linkcode CallCore} exchange chunk
 * by chunk and are dropped once the exchange is done, so an oversized body is never
 * buffered. Anything malformed gets a 4xx and the connection is closed.
 *
 * Written instead of `node:http` because, under Deno, a `node:http` server fed sockets
 * from a `node:net` front (needed to share the port with h2c) is ~3× slower than this
 * and dropped requests in our measurement, and instead of `Deno.serve` because that
 * cannot share its port with the `node:http2` server gRPC needs (bench/README.md).
 *
 * @module
 */
import type { CallCore, Exchange, Reply, RequestHead } from "../../lib/rpc/_call.ts";
import type { StreamHandler } from "./_conn.ts";
import { allocBytes, writeAscii } from "../../lib/bytes.ts";

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 4096;
/** Pause reading when this much pipelined input waits for an earlier response. */
const MAX_PENDING_BYTES = 1024 * 1024;
/** Idle keep-alive and stalled-request timeout. */
export const HTTP1_IDLE_TIMEOUT_MS = 60_000;

/** How long a closing connection waits for the peer to close its side. */
export const HTTP1_LINGER_MS = 5000;

const EMPTY = new Uint8Array(0);
const REQUEST_LINE = /^([A-Z!#$%&'*+.^_`|~0-9a-z-]+) (\S+) HTTP\/(\d)\.(\d)$/;
/** A token (RFC 9110), lower-cased; also rules out leading whitespace (obs-fold). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const asciiEncoder = new TextEncoder();
const CONTINUE = asciiEncoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

type Framing =
  | { kind: "length"; remaining: number }
  | { kind: "chunked"; state: "size" | "data" | "data-crlf" | "trailer"; remaining: number };

interface Current {
  exchange: Exchange;
  framing: Framing;
  keepAlive: boolean;
  expectContinue: boolean;
  continued: boolean;
  bodyStarted: boolean;
  responded: boolean;
}

/** Bytes as a latin1 string (1 char per byte); faster than TextDecoder for short heads. */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return text;
}

/** Index of the first CRLF, or -1. */
function indexOfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  }
  return -1;
}

/** Index of the CRLFCRLF ending a head within the first `limit` bytes, or -1. */
function indexOfHeadEnd(bytes: Uint8Array, limit: number): number {
  const last = Math.min(bytes.length, limit) - 3;
  for (let i = 0; i < last; i++) {
    if (bytes[i + 3] === 10 && bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13) {
      return i;
    }
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

class ProtocolError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The byte stream an {@linkcode Http1Connection} writes to (e.g. `ConnStream`). */
export interface Http1Transport {
  /** Queues bytes for the peer. */
  write(bytes: Uint8Array): void;
  /** Stops delivering input (back-pressure) until {@linkcode resume}. */
  pause(): void;
  /** Resumes delivering input. */
  resume(): void;
  /** Sends what is queued, then closes our side. */
  end(): void;
  /** Closes the connection now. */
  destroy(): void;
}

/** Serves HTTP/1.1 requests on one byte stream until it closes. */
export class Http1Connection implements StreamHandler {
  #transport: Http1Transport;
  #core: CallCore;
  #buffer: Uint8Array = EMPTY;
  #phase: "head" | "body" | "await-response" | "closed" = "head";
  #current: Current | undefined;
  #pumping = false;
  #closeWhenIdle = false;

  /**
   * Serves requests written to `transport`, whose input the owner feeds to the
   * {@linkcode StreamHandler} methods; `initial` is data already read (the sniffed bytes).
   */
  constructor(transport: Http1Transport, core: CallCore, initial: Uint8Array) {
    this.#transport = transport;
    this.#core = core;
    if (initial.length > 0) this.#onData(initial);
  }

  /** Input arrived. */
  receive(chunk: Uint8Array): void {
    this.#onData(chunk);
  }

  /** The peer half-closed. */
  peerEnded(): void {
    this.#onPeerEnd();
  }

  /** Nothing happened for {@linkcode HTTP1_IDLE_TIMEOUT_MS}. */
  idleTimeout(): void {
    this.#onIdleTimeout();
  }

  /** The transport is gone. */
  closed(): void {
    this.#destroy();
  }

  /** Graceful shutdown: close now when idle, else after the current response. */
  shutdown(): void {
    this.#closeWhenIdle = true;
    if (this.#phase === "head" && this.#buffer.length === 0) this.#end();
  }

  /** Drops the first `n` buffered bytes. */
  #skip(n: number) {
    this.#buffer = n >= this.#buffer.length ? EMPTY : this.#buffer.subarray(n);
  }

  /** Removes and returns the first `n` buffered bytes (a view, no copy). */
  #take(n: number): Uint8Array {
    const chunk = n >= this.#buffer.length ? this.#buffer : this.#buffer.subarray(0, n);
    this.#skip(n);
    return chunk;
  }

  #onData(chunk: Uint8Array) {
    if (this.#phase === "closed") return;
    this.#buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    this.#pump();
  }

  #onPeerEnd() {
    // Half-close from the client: finish an in-progress response, then close.
    if (this.#phase === "head" || this.#phase === "body") this.#destroy();
    else this.#closeWhenIdle = true;
  }

  #onIdleTimeout() {
    if (this.#phase !== "await-response") this.#destroy();
  }

  #pump() {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#step());
    } catch (error) {
      if (error instanceof ProtocolError) this.#failConnection(error.status, error.message);
      else this.#failConnection(500, "internal error");
    } finally {
      this.#pumping = false;
    }
  }

  /** One state-machine step; false when it must wait for input or a response. */
  #step(): boolean {
    switch (this.#phase) {
      case "head":
        return this.#readHead();
      case "body":
        return this.#readBody();
      case "await-response": {
        const current = this.#current;
        if (!current?.responded) {
          if (this.#buffer.length > MAX_PENDING_BYTES) this.#transport.pause();
          return false;
        }
        this.#current = undefined;
        if (!current.keepAlive || this.#closeWhenIdle) {
          this.#end();
          return false;
        }
        this.#phase = "head";
        this.#transport.resume();
        return this.#buffer.length > 0;
      }
      case "closed":
        return false;
    }
  }

  #readHead(): boolean {
    const end = indexOfHeadEnd(this.#buffer, MAX_HEAD_BYTES + 4);
    if (end < 0) {
      if (this.#buffer.length > MAX_HEAD_BYTES) {
        throw new ProtocolError(431, "request head too large");
      }
      return false;
    }
    if (end > MAX_HEAD_BYTES) throw new ProtocolError(431, "request head too large");
    const text = latin1(this.#buffer.subarray(0, end));
    this.#skip(end + 4);
    let lineEnd = text.indexOf("\r\n");
    if (lineEnd < 0) lineEnd = text.length;
    const requestLine = REQUEST_LINE.exec(text.slice(0, lineEnd));
    if (!requestLine) throw new ProtocolError(400, "malformed request line");
    const [, method, target, major, minor] = requestLine;
    if (major !== "1") throw new ProtocolError(505, "only HTTP/1.x is served here");
    const headers = new Map<string, string>();
    let position = lineEnd + 2;
    while (position < text.length) {
      let next = text.indexOf("\r\n", position);
      if (next < 0) next = text.length;
      const colon = text.indexOf(":", position);
      if (colon <= position || colon >= next) throw new ProtocolError(400, "malformed header line");
      const name = text.slice(position, colon).toLowerCase();
      if (!HEADER_NAME.test(name)) throw new ProtocolError(400, "malformed header name");
      const value = text.slice(colon + 1, next).trim();
      position = next + 2;
      const previous = headers.get(name);
      if (previous === undefined) headers.set(name, value);
      else if (name === "content-length") {
        if (previous !== value) throw new ProtocolError(400, "conflicting Content-Length headers");
      } else headers.set(name, `${previous}, ${value}`);
    }
    const framing = this.#framingOf(headers);
    const connection = (headers.get("connection") ?? "").toLowerCase();
    const keepAlive = minor === "0"
      ? connection.includes("keep-alive")
      : !connection.split(",").some((token) => token.trim() === "close");
    const expectContinue = (headers.get("expect") ?? "").toLowerCase() === "100-continue";
    const head: RequestHead = {
      method,
      path: target,
      header: (name) => headers.get(name),
      http2: false,
      contentLength: framing.kind === "length" ? framing.remaining : undefined,
    };
    const current: Current = {
      exchange: undefined as unknown as Exchange,
      framing,
      keepAlive,
      expectContinue,
      continued: false,
      bodyStarted: false,
      responded: false,
    };
    this.#current = current;
    this.#phase = "body";
    current.exchange = this.#core.open(head, { send: (reply) => this.#respond(current, reply) });
    return true;
  }

  #framingOf(headers: Map<string, string>): Framing {
    const transferEncoding = headers.get("transfer-encoding");
    const contentLength = headers.get("content-length");
    if (transferEncoding !== undefined) {
      if (contentLength !== undefined) {
        throw new ProtocolError(400, "both Transfer-Encoding and Content-Length");
      }
      if (transferEncoding.toLowerCase() !== "chunked") {
        throw new ProtocolError(400, `unsupported Transfer-Encoding ${transferEncoding}`);
      }
      return { kind: "chunked", state: "size", remaining: 0 };
    }
    if (contentLength === undefined) return { kind: "length", remaining: 0 };
    if (!/^\d{1,15}$/.test(contentLength)) throw new ProtocolError(400, "invalid Content-Length");
    return { kind: "length", remaining: Number(contentLength) };
  }

  #readBody(): boolean {
    const current = this.#current as Current;
    const { framing, exchange } = current;
    if (current.expectContinue && !current.continued && !current.responded) {
      current.continued = true;
      if (!this.#bodyComplete(framing)) this.#transport.write(CONTINUE);
    }
    if (framing.kind === "length") {
      if (framing.remaining > 0) {
        if (this.#buffer.length === 0) return false;
        const take = Math.min(framing.remaining, this.#buffer.length);
        const chunk = this.#take(take);
        framing.remaining -= take;
        current.bodyStarted = true;
        if (!exchange.done) exchange.data(chunk);
        if (framing.remaining > 0) return false;
      }
    } else if (!this.#readChunked(current, framing)) {
      return false;
    }
    this.#phase = "await-response";
    if (!exchange.done) exchange.end();
    return true;
  }

  #bodyComplete(framing: Framing): boolean {
    return framing.kind === "length" && framing.remaining === 0;
  }

  /** Advances a chunked body; true once the terminating chunk and trailers are read. */
  #readChunked(current: Current, framing: Framing & { kind: "chunked" }): boolean {
    for (;;) {
      switch (framing.state) {
        case "size": {
          const eol = indexOfCrlf(this.#buffer);
          if (eol < 0) {
            if (this.#buffer.length > MAX_CHUNK_LINE_BYTES) {
              throw new ProtocolError(400, "chunk size line too long");
            }
            return false;
          }
          const line = latin1(this.#buffer.subarray(0, eol)).split(";")[0].trim();
          this.#skip(eol + 2);
          if (!/^[0-9a-fA-F]{1,12}$/.test(line)) throw new ProtocolError(400, "invalid chunk size");
          framing.remaining = parseInt(line, 16);
          framing.state = framing.remaining === 0 ? "trailer" : "data";
          current.bodyStarted = true;
          break;
        }
        case "data": {
          if (this.#buffer.length === 0) return false;
          const take = Math.min(framing.remaining, this.#buffer.length);
          const chunk = this.#take(take);
          framing.remaining -= take;
          if (!current.exchange.done) current.exchange.data(chunk);
          if (framing.remaining > 0) return false;
          framing.state = "data-crlf";
          break;
        }
        case "data-crlf": {
          if (this.#buffer.length < 2) return false;
          if (this.#buffer[0] !== 13 || this.#buffer[1] !== 10) {
            throw new ProtocolError(400, "missing CRLF after chunk");
          }
          this.#skip(2);
          framing.state = "size";
          break;
        }
        case "trailer": {
          const eol = indexOfCrlf(this.#buffer);
          if (eol < 0) {
            if (this.#buffer.length > MAX_HEAD_BYTES) {
              throw new ProtocolError(400, "chunked trailers too large");
            }
            return false;
          }
          this.#skip(eol + 2);
          if (eol === 0) return true;
          break;
        }
      }
    }
  }

  #respond(current: Current, reply: Reply) {
    if (current.responded || this.#phase === "closed") return;
    current.responded = true;
    // Rejected before a 100-continue: the client may never send the body, so the
    // connection cannot be reused; say so and close after this response.
    const bodyPending = this.#phase === "body" && !this.#bodyComplete(current.framing);
    if (current.expectContinue && !current.continued && bodyPending) current.keepAlive = false;
    const close = !current.keepAlive || this.#closeWhenIdle;
    let head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? "Status"}\r\n`;
    for (const name in reply.headers) head += `${name}: ${reply.headers[name]}\r\n`;
    head += `content-length: ${reply.body.length}\r\n`;
    if (close) head += "connection: close\r\n";
    head += "\r\n";
    // Header values are ASCII, so the head is one byte per char; the body follows.
    const bytes = allocBytes(head.length + reply.body.length);
    writeAscii(head, bytes, 0);
    bytes.set(reply.body, head.length);
    this.#transport.write(bytes);
    if (close && current.expectContinue && !current.continued && bodyPending) {
      this.#end();
      return;
    }
    if (this.#phase === "await-response") queueMicrotask(() => this.#pump());
  }

  #failConnection(status: number, message: string) {
    if (this.#phase === "closed") return;
    const current = this.#current;
    if (current && !current.responded) {
      current.responded = true;
      current.exchange?.abort();
    }
    const body = asciiEncoder.encode(JSON.stringify({
      code: status === 500 ? "internal" : "invalid_argument",
      message,
    }));
    const head = asciiEncoder.encode(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    );
    this.#transport.write(concat(head, body));
    this.#end();
  }

  #end() {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#current?.exchange?.abort();
    this.#buffer = EMPTY;
    this.#transport.end();
  }

  #destroy() {
    if (this.#phase !== "closed") {
      this.#phase = "closed";
      this.#current?.exchange?.abort();
      this.#buffer = EMPTY;
    }
    this.#transport.destroy();
  }
}
