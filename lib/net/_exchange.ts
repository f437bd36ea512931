/**
 * The contract between a server (an HTTP/1.1 connection, an HTTP/2 stream) and the
 * {@linkcode Handler} that answers its requests: the request head, the body in between, and
 * the reply, sent whole or, where the transport can stream (HTTP/2), as a head, body chunks
 * and trailers.
 *
 * @module
 */

/**
 * What a server knows once a request's head has arrived.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head: RequestHead = {
 *   method: "POST", path: "/pkg.Service/Method", http2: false, contentLength: 2,
 *   header: (name) => name === "content-type" ? "application/json" : undefined,
 * };
 * assert.equal(head.header("content-type"), "application/json");
 * ```
 */
export interface RequestHead {
  method: string;
  /** Request target, possibly with a query string. */
  path: string;
  /** Header value by lowercase name. */
  header(name: string): string | undefined;
  /** Whether the request came over HTTP/2 (gRPC needs it). */
  http2: boolean;
  /** Declared body length, if any. */
  contentLength: number | undefined;
}

/**
 * The status and headers of a reply. Header names are lowercase.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head: ReplyHead = { status: 200, headers: { "content-type": "application/grpc" } };
 * assert.equal(head.headers["content-type"], "application/grpc");
 * ```
 */
export interface ReplyHead {
  status: number;
  headers: Record<string, string>;
}

/**
 * One whole reply as a server writes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reply: Reply = { status: 204, headers: {}, body: new Uint8Array(0) };
 * assert.equal(reply.trailers, undefined);
 * ```
 */
export interface Reply extends ReplyHead {
  body: Uint8Array;
  /** HTTP/2 trailers (gRPC only). */
  trailers?: Record<string, string>;
}

/**
 * A reply written piece by piece (gRPC server streaming). The head goes out with the first
 * chunk; ending without a chunk sends head and trailers as one header block (gRPC's
 * "trailers-only" reply).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent: string[] = [];
 * const reply: StreamedReply = {
 *   write: (chunk) => sent.push(`${chunk.length} bytes`),
 *   end: (trailers) => sent.push(`end ${JSON.stringify(trailers)}`),
 * };
 * reply.write(new Uint8Array(5));
 * reply.end({ "grpc-status": "0" });
 * assert.deepEqual(sent, ["5 bytes", 'end {"grpc-status":"0"}']);
 * ```
 */
export interface StreamedReply {
  /** Sends body bytes (the head first, once). Ignored once the exchange is gone. */
  write(chunk: Uint8Array): void;
  /** Ends the reply, with `trailers` when given. Later calls are ignored. */
  end(trailers?: Record<string, string>): void;
}

/**
 * The server's half of one exchange: where the reply goes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const replies: Reply[] = [];
 * const sink: ReplySink = { send: (reply) => replies.push(reply) };
 * sink.send({ status: 204, headers: {}, body: new Uint8Array(0) });
 * assert.equal(replies.length, 1);
 * assert.equal(sink.stream, undefined); // this transport cannot stream
 * ```
 */
export interface ReplySink {
  /** Sends the one whole reply. */
  send(reply: Reply): void;
  /**
   * Starts a streamed reply instead, answering at once (before the request body ends).
   * Absent where the transport cannot stream (HTTP/1.1).
   */
  stream?: (head: ReplyHead) => StreamedReply;
}

/**
 * The handler's half of one exchange, driven by the server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(ANSWERED.done, true); // a server drops further body bytes
 * ```
 */
export interface Exchange {
  /** True once the reply has been sent (or the call was abandoned): body bytes can be dropped. */
  readonly done: boolean;
  /** More request body. */
  data(chunk: Uint8Array): void;
  /** The request body is complete. */
  end(): void;
  /**
   * The server is done with the exchange: the peer went away before the reply, or (HTTP/2)
   * the stream closed after it. Called at most once.
   */
  abort(): void;
}

/**
 * What answers a server's requests: `open` is called once per request head and replies
 * through `sink` exactly once (a whole reply, or one streamed reply).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const paths: string[] = [];
 * const handler: Handler = {
 *   open(head, sink) {
 *     paths.push(head.path);
 *     sink.send({ status: 204, headers: {}, body: new Uint8Array(0) });
 *     return ANSWERED;
 *   },
 * };
 * handler.open({ method: "GET", path: "/", header: () => undefined, http2: false, contentLength: 0 }, {
 *   send() {},
 * });
 * assert.deepEqual(paths, ["/"]);
 * ```
 */
export interface Handler {
  /** Starts one exchange for a request head. */
  open(head: RequestHead, sink: ReplySink): Exchange;
}

/**
 * The exchange of a request answered as soon as it was opened: the rest of its body is dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * ANSWERED.data(new Uint8Array(1)); // ignored
 * assert.equal(ANSWERED.done, true);
 * ```
 */
export const ANSWERED: Exchange = Object.freeze({
  done: true,
  data() {},
  end() {},
  abort() {},
});

/**
 * A server fed connections by someone else's listener (the provider sniffs each new
 * connection and hands it to its HTTP/1.1 or HTTP/2 server). It owns the connections it is
 * given and their drain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const held = new Map<Deno.TcpConn, (() => void) | undefined>();
 * const server: ConnectionServer = {
 *   serve: (conn, _initial, done) => void held.set(conn, done),
 *   connections: () => held.size,
 *   close: () => {
 *     for (const [conn, done] of held) {
 *       conn.close();
 *       done?.();
 *     }
 *     held.clear();
 *     return Promise.resolve();
 *   },
 * };
 * await server.close(0);
 * assert.equal(server.connections(), 0);
 * ```
 */
export interface ConnectionServer {
  /**
   * Serves `conn`, whose first bytes (already read) are `initial`; `done` is called once
   * the connection is closed (the accept loop's slot).
   */
  serve(conn: Deno.TcpConn, initial: Uint8Array, done?: () => void): void;
  /** Connections held now. */
  connections(): number;
  /**
   * Graceful close: no new requests; what is in flight may finish within `graceMs`, then
   * every connection is closed.
   */
  close(graceMs: number): Promise<void>;
}
