/**
 * The handler's view of one request stream: the request head, body events with
 * back-pressure, and the response (headers, data under flow control, trailers, reset).
 *
 * @module
 */
import { ErrorCode } from "./frame.ts";
import { type OutgoingHeaders, Stream } from "./_stream.ts";
import { fieldValue, isConnectionSpecific, isValidField, type RequestPseudo } from "./_headers.ts";

/**
 * What a stream needs from its session.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Implemented by the server's sessions; a handler never sees it.
 * const host = {} as StreamHost;
 * assert.equal(typeof host, "object");
 * ```
 */
export interface StreamHost {
  respond(stream: ServerStream, status: number, headers: OutgoingHeaders, end: boolean): void;
  write(stream: ServerStream, bytes: Uint8Array): boolean;
  end(stream: ServerStream, trailers: OutgoingHeaders | undefined): void;
  resetStream(stream: Stream, code: number): void;
  resume(stream: Stream): void;
}

/** Checks outgoing fields (our own, so a bad one is a bug): throws, or returns them cleaned. */
function outgoing(headers: OutgoingHeaders): OutgoingHeaders {
  let clean = headers;
  for (const name in headers) {
    const value = headers[name];
    if (!isValidField(name, value)) {
      throw new TypeError(`invalid response field ${JSON.stringify(name)}`);
    }
    if (isConnectionSpecific(name)) { // HTTP/1.1 habits: dropped (RFC 9113 §8.2.2)
      if (clean === headers) clean = { ...headers };
      delete clean[name];
    }
  }
  return clean;
}

/**
 * One request stream, as the server's handler gets it. Set the `on…` callbacks before
 * the handler returns (or call {@linkcode pause}): body chunks that arrive with no
 * `ondata` set are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { H2Server } from "./server.ts";
 * import { H2Client } from "./client.ts";
 * const server = new H2Server({
 *   handler(stream: ServerStream) {
 *     const chunks: Uint8Array[] = [];
 *     stream.ondata = (chunk) => chunks.push(chunk);
 *     stream.onend = () => {
 *       stream.respond(200, { "content-type": "text/plain" });
 *       stream.write(new TextEncoder().encode(`${stream.method} ${stream.path} `));
 *       for (const chunk of chunks) stream.write(chunk);
 *       stream.end({ "x-done": "yes" });
 *     };
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * void listener.accept().then((conn) => server.serve(conn));
 * const client = new H2Client();
 * const response = await client.request(`http://127.0.0.1:${listener.addr.port}`, {
 *   method: "POST", path: "/echo", body: new TextEncoder().encode("hello"),
 * });
 * assert.equal(new TextDecoder().decode(response.body), "POST /echo hello");
 * assert.equal(response.trailers.get("x-done"), "yes");
 * client.close();
 * await server.close(1000);
 * listener.close();
 * ```
 */
export class ServerStream extends Stream {
  /** Request pseudo-header fields. */
  readonly method: string;
  readonly scheme: string;
  readonly path: string;
  readonly authority: string;
  /** All request fields as received, flat: name, value, name, value, … */
  readonly fields: readonly string[];
  /** A body chunk (a copy the handler may keep). */
  ondata: ((chunk: Uint8Array) => void) | undefined = undefined;
  /** The request is complete; `trailers` (flat list) when the client sent some. */
  onend: ((trailers: readonly string[] | undefined) => void) | undefined = undefined;
  /** The stream was reset (by the client when `byPeer`) or its connection was lost. */
  onabort: ((code: number, byPeer: boolean) => void) | undefined = undefined;
  /** `write` said false earlier, and the queue has drained below the high-water mark. */
  ondrain: (() => void) | undefined = undefined;
  /** The stream is over (completed, reset or lost), after every other event. */
  onclose: (() => void) | undefined = undefined;
  #host: StreamHost;

  constructor(
    host: StreamHost,
    id: number,
    pseudo: RequestPseudo,
    fields: readonly string[],
    windows: { recv: number; send: number; now: number },
  ) {
    super(id, windows.recv, windows.send, windows.now);
    this.#host = host;
    this.method = pseudo.method;
    this.scheme = pseudo.scheme;
    this.path = pseudo.path;
    this.authority = pseudo.authority;
    this.fields = fields;
  }

  /** A request field by lowercase name (repeated fields joined), or undefined. */
  header(name: string): string | undefined {
    return fieldValue(this.fields, name);
  }

  /** True once the stream is over (ended both ways, reset, or its connection lost). */
  get done(): boolean {
    return this.closed;
  }

  /** Whether the response head has been sent. */
  get responded(): boolean {
    return this.headersSent;
  }

  /** Stops delivering body chunks (they are held, bounded by the stream window) until `resume`. */
  pause(): void {
    this.paused = true;
  }

  /** Delivers held chunks and resumes. */
  resume(): void {
    if (this.paused) this.#host.resume(this);
  }

  /** Sends the response head; `endStream` for a response without body or trailers. */
  respond(
    status: number,
    headers: OutgoingHeaders = {},
    options: { endStream?: boolean } = {},
  ): void {
    if (this.closed || this.localEnded || this.headersSent) return;
    this.#host.respond(this, status, outgoing(headers), options.endStream ?? false);
  }

  /**
   * Sends body bytes (kept by reference until sent: do not modify them). False when more
   * than the high-water mark is queued: wait for `ondrain` before writing more.
   */
  write(bytes: Uint8Array): boolean {
    if (this.closed || this.localEnded || this.endQueued) return false;
    if (!this.headersSent) this.respond(200);
    return this.#host.write(this, bytes);
  }

  /** Ends the response, with trailers if given, once queued data has gone out. */
  end(trailers?: OutgoingHeaders): void {
    if (this.closed || this.localEnded || this.endQueued) return;
    if (!this.headersSent) {
      if (trailers === undefined) return this.respond(200, {}, { endStream: true });
      this.respond(200);
    }
    this.#host.end(this, trailers && outgoing(trailers));
  }

  /** Resets the stream (RST_STREAM, default CANCEL); nothing more is sent or delivered. */
  reset(code: number = ErrorCode.CANCEL): void {
    if (!this.closed) this.#host.resetStream(this, code);
  }

  override receiveData(chunk: Uint8Array): void {
    this.ondata?.(chunk);
  }

  override receiveEnd(trailers: string[] | undefined): void {
    this.onend?.(trailers);
  }

  override aborted(code: number, byPeer: boolean): void {
    this.onabort?.(code, byPeer);
  }

  override drained(): void {
    this.ondrain?.();
  }

  override finished(): void {
    this.onclose?.();
  }
}
