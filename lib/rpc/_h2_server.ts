/**
 * The h2c side of the Triple port: a `node:http2` server (the only server in Deno that
 * can send the trailers gRPC needs) fed connections the provider has sniffed, serving
 * unary calls through the {@linkcode CallCore} and the streaming methods (health `Watch`,
 * reflection) through `_grpc_stream.ts`.
 *
 * @module
 */
import http2 from "node:http2";
import type { Buffer } from "node:buffer";
import type { CallCore, Exchange, Reply, RequestHead } from "./_call.ts";
import { connDuplex } from "./_conn.ts";
import { type Activity, guardSession, guardStream, h2ServerOptions } from "./_h2_limits.ts";
import { LINGER_MS } from "./_limits.ts";
import { serveGrpcStream, type StreamCall, type StreamMethod } from "./_grpc_stream.ts";

/**
 * Streams served on one h2c session before the provider sends a graceful GOAWAY (in-flight
 * streams finish; clients open a new connection, as gRPC clients do on GOAWAY). Works around
 * a crash of Deno 2.9.6's `node:http2` server (nghttp2 assertion `stream->closed_next == NULL`,
 * or `free(): invalid pointer`) that aborts the process when a consumer that made a couple of
 * hundred calls on one session disconnects; sessions this short do not trigger it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(STREAMS_PER_SESSION < 200);
 * ```
 */
export const STREAMS_PER_SESSION = 64;

/**
 * What the h2c side shares with its provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { CallCore } from "./_call.ts";
 * import { NO_CALLS } from "../observe.ts";
 * const core = new CallCore({ failureRate: 0, delayMs: 0, group: "", version: "", observer: NO_CALLS });
 * const host: H2Host = {
 *   core, streamMethods: new Map(), sessions: new Set(), streamCalls: new Set(), closing: () => false,
 * };
 * const server: H2Server = createH2Server(host);
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = listener.accept().then((conn) =>
 *   new Promise<void>((done) => server.serve(conn, new Uint8Array(0), done))
 * );
 * const client = http2.connect(`http://127.0.0.1:${listener.addr.port}`);
 * const stream = client.request({
 *   ":method": "POST", ":path": "/greet.GreetService/Greet", "content-type": "application/json",
 * });
 * stream.end('{"name":"h2c"}');
 * let text = "";
 * stream.setEncoding("utf8");
 * stream.on("data", (chunk: string) => text += chunk);
 * await new Promise((done) => stream.on("end", done));
 * assert.equal(text, '{"greeting":"h2c"}');
 * client.close();
 * await served;
 * listener.close();
 * ```
 */
export interface H2Host {
  /** Serves the unary calls. */
  readonly core: CallCore;
  /** Streaming methods by path. */
  readonly streamMethods: ReadonlyMap<string, StreamMethod>;
  /** Open sessions, kept up to date here; the provider closes them on shutdown. */
  readonly sessions: Set<http2.ServerHttp2Session>;
  /** Open streaming calls, kept up to date here; the provider ends them on shutdown. */
  readonly streamCalls: Set<StreamCall>;
  /** True once the provider is shutting down: new sessions and streams are turned away. */
  closing(): boolean;
}

/**
 * Hands sniffed h2c connections to one `node:http2` server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { CallCore } from "./_call.ts";
 * import { NO_CALLS } from "../observe.ts";
 * const core = new CallCore({ failureRate: 0, delayMs: 0, group: "", version: "", observer: NO_CALLS });
 * const host: H2Host = {
 *   core, streamMethods: new Map(), sessions: new Set(), streamCalls: new Set(), closing: () => false,
 * };
 * const server: H2Server = createH2Server(host);
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = listener.accept().then((conn) =>
 *   new Promise<void>((done) => server.serve(conn, new Uint8Array(0), done))
 * );
 * const client = http2.connect(`http://127.0.0.1:${listener.addr.port}`);
 * const stream = client.request({
 *   ":method": "POST", ":path": "/greet.GreetService/Greet", "content-type": "application/json",
 * });
 * stream.end('{"name":"h2c"}');
 * let text = "";
 * stream.setEncoding("utf8");
 * stream.on("data", (chunk: string) => text += chunk);
 * await new Promise((done) => stream.on("end", done));
 * assert.equal(text, '{"greeting":"h2c"}');
 * client.close();
 * await served;
 * listener.close();
 * ```
 */
export interface H2Server {
  /** Serves `conn`, whose first bytes (the preface at least) are `initial`; `done` once it closes. */
  serve(conn: Deno.TcpConn, initial: Uint8Array, done: () => void): void;
}

/**
 * Creates the h2c server of a provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { CallCore } from "./_call.ts";
 * import { NO_CALLS } from "../observe.ts";
 * const core = new CallCore({ failureRate: 0, delayMs: 0, group: "", version: "", observer: NO_CALLS });
 * const host: H2Host = {
 *   core, streamMethods: new Map(), sessions: new Set(), streamCalls: new Set(), closing: () => false,
 * };
 * const server: H2Server = createH2Server(host);
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = listener.accept().then((conn) =>
 *   new Promise<void>((done) => server.serve(conn, new Uint8Array(0), done))
 * );
 * const client = http2.connect(`http://127.0.0.1:${listener.addr.port}`);
 * const stream = client.request({
 *   ":method": "POST", ":path": "/greet.GreetService/Greet", "content-type": "application/json",
 * });
 * stream.end('{"name":"h2c"}');
 * let text = "";
 * stream.setEncoding("utf8");
 * stream.on("data", (chunk: string) => text += chunk);
 * await new Promise((done) => stream.on("end", done));
 * assert.equal(text, '{"greeting":"h2c"}');
 * client.close();
 * await served;
 * listener.close();
 * ```
 */
export function createH2Server(host: H2Host): H2Server {
  const h2 = http2.createServer(h2ServerOptions());
  const streamsServed = new WeakMap<http2.Http2Session, number>();
  /** The activity clock of the connection being handed to `h2` (its `session` fires in `emit`). */
  let nextActivity: Activity = { at: 0 };
  h2.on("session", (session: http2.ServerHttp2Session) => {
    guardSession(session, nextActivity);
    host.sessions.add(session);
    session.on("close", () => host.sessions.delete(session));
    session.on("error", () => session.destroy());
    if (host.closing()) session.close();
  });
  h2.on("sessionError", () => {});
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    guardStream(stream);
    const session = stream.session;
    if (session) {
      const served = (streamsServed.get(session) ?? 0) + 1;
      streamsServed.set(session, served);
      if (served === STREAMS_PER_SESSION) session.close();
    }
    dispatch(host, stream, headers);
  });
  return {
    serve(conn, initial, done) {
      const activity = { at: Date.now() };
      const duplex = connDuplex(conn, initial, activity, LINGER_MS);
      duplex.on("error", () => {});
      duplex.on("close", done);
      nextActivity = activity;
      h2.emit("connection", duplex);
    },
  };
}

/** Sends one stream to its streaming method, or to the call core for unary calls. */
function dispatch(
  host: H2Host,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
): void {
  const path = String(headers[":path"] ?? "");
  const method = headers[":method"] === "POST" ? host.streamMethods.get(path) : undefined;
  if (!method) return serveStream(host.core, stream, headers);
  if (host.closing()) {
    stream.respond({
      ":status": 200,
      "content-type": "application/grpc+proto",
      "grpc-status": "14",
    }, {
      endStream: true,
    });
    return;
  }
  const call = serveGrpcStream(stream, (name) => single(headers[name]), method);
  host.streamCalls.add(call);
  stream.on("close", () => host.streamCalls.delete(call));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Adapts one HTTP/2 stream to the call core. */
function serveStream(
  core: CallCore,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) {
  stream.on("error", () => {});
  const header = (name: string): string | undefined => single(headers[name]);
  const declared = header("content-length");
  const head: RequestHead = {
    method: header(":method") ?? "",
    path: header(":path") ?? "/",
    header,
    http2: true,
    contentLength: declared !== undefined && /^\d{1,15}$/.test(declared)
      ? Number(declared)
      : undefined,
  };
  let requestEnded = false;
  let deferred: Reply | undefined;
  const write = (reply: Reply) => {
    if (stream.destroyed || stream.closed) return;
    try {
      const responseHeaders = { ":status": reply.status, ...reply.headers };
      if (reply.trailers) {
        const trailers = reply.trailers;
        stream.respond(responseHeaders, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers(trailers));
        stream.end(reply.body);
      } else if (reply.body.length > 0) {
        stream.respond(responseHeaders);
        stream.end(reply.body);
      } else {
        stream.respond(responseHeaders, { endStream: true });
      }
    } catch {
      stream.destroy();
    }
  };
  // An answer given while the request body is still arriving (too large, deadline,
  // early rejection) waits for the body's end, which is discarded meanwhile: under
  // Deno, ending the response stream early intermittently stalls the client's upload.
  const send = (reply: Reply) => {
    if (requestEnded) write(reply);
    else deferred = reply;
  };
  // Listen before `open` may answer: under Deno, a stream answered before it had a
  // data listener stops draining the request body and the client stalls.
  const call: { exchange?: Exchange } = {};
  stream.on("data", (chunk: Buffer) => call.exchange?.data(chunk));
  stream.on("end", () => {
    requestEnded = true;
    call.exchange?.end();
    if (deferred) write(deferred);
  });
  stream.on("close", () => call.exchange?.abort());
  call.exchange = core.open(head, { send });
}
