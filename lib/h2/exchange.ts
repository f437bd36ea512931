/**
 * lib/h2 under lib/net's request/reply contract: the h2c {@linkcode ConnectionServer} of a
 * port that sniffs its connections. Each request stream opens one {@linkcode Exchange} of
 * the {@linkcode Handler}; a whole reply goes out as HEADERS, DATA and trailers (or one
 * HEADERS frame when it has neither body nor trailers: gRPC's trailers-only answer), a
 * streamed reply (health `Watch`, reflection) as its messages come.
 *
 * @module
 */
import type {
  ConnectionServer,
  Exchange,
  Handler,
  Reply,
  ReplyHead,
  RequestHead,
  StreamedReply,
} from "../net/mod.ts";
import { H2Server } from "./server.ts";
import type { ServerStream } from "./server_stream.ts";
import type { H2Limits } from "./_limits.ts";
import type { H2Stats } from "./_events.ts";

/**
 * Settings of {@linkcode createH2ConnectionServer}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options: H2ConnectionOptions = { label: "Triple port 127.0.0.1:20000 (h2c)" };
 * assert.ok(options.label?.includes("h2c"));
 * ```
 */
export interface H2ConnectionOptions {
  /** Overrides of lib/h2's defaults. */
  limits?: Partial<H2Limits>;
  /** Where limit breaches and connection errors are logged (default: nowhere). */
  log?: (line: string) => void;
  label?: string;
}

/**
 * The h2c side of a sniffing port, plus lib/h2's counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const server: H2ConnectionServer = createH2ConnectionServer({
 *   open: (_head, sink) => {
 *     sink.send({ status: 204, headers: {}, body: new Uint8Array(0) });
 *     return { done: true, data() {}, end() {}, abort() {} };
 *   },
 * });
 * assert.equal(server.connections(), 0);
 * assert.equal(server.stats.streamsOpened, 0);
 * await server.close(0);
 * ```
 */
export interface H2ConnectionServer extends ConnectionServer {
  /** Sessions, streams, GOAWAYs, connection errors and limit breaches so far. */
  readonly stats: H2Stats;
}

/**
 * Serves `handler` on h2c connections handed over by a sniffing accept loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { H2Client } from "./client.ts";
 * const server = createH2ConnectionServer({
 *   open(head, sink) {
 *     sink.send({
 *       status: 200, headers: { "content-type": "text/plain" },
 *       body: new TextEncoder().encode(`${head.method} ${head.path}`), trailers: { "x-end": "1" },
 *     });
 *     return { done: true, data() {}, end() {}, abort() {} };
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * void listener.accept().then((conn) => server.serve(conn, new Uint8Array(0)));
 * const client = new H2Client();
 * const response = await client.request(`http://127.0.0.1:${listener.addr.port}`, { path: "/x" });
 * assert.equal(new TextDecoder().decode(response.body), "GET /x");
 * assert.equal(response.trailers.get("x-end"), "1");
 * client.close();
 * await server.close(1000);
 * listener.close();
 * ```
 */
export function createH2ConnectionServer(
  handler: Handler,
  options: H2ConnectionOptions = {},
): H2ConnectionServer {
  const server = new H2Server({
    handler: (stream) => openExchange(handler, stream),
    limits: options.limits,
    log: options.log,
    label: options.label,
  });
  return {
    serve: (conn, initial, done) => server.serve(conn, initial, done),
    connections: () => server.stats.sessionsOpen,
    close: (graceMs) => server.close(graceMs),
    stats: server.stats,
  };
}

/**
 * Request body bytes read and dropped after an early whole reply (given before the request
 * ended: too large, rejected at once) before the reply goes out anyway, with RST_STREAM
 * NO_ERROR to stop the upload. Until then the reply waits for the request's end, as
 * HTTP/1.1 drains a body: clients such as curl treat a reset upload as a failed call. Twice
 * the largest message, so a body just over the limit still gets its error; dropping costs
 * no memory (the session's body cap and the stream's stall deadline still apply).
 */
const MAX_DRAIN_BYTES = 8 * 1024 * 1024;

/** Opens `handler`'s exchange for one request stream and wires the stream's events to it. */
function openExchange(handler: Handler, stream: ServerStream): void {
  const length = stream.expectedLength;
  const head: RequestHead = {
    method: stream.method,
    path: stream.path,
    header: (name) => stream.header(name),
    http2: true,
    contentLength: length >= 0 ? length : undefined,
  };
  let ended = false;
  let early: Reply | undefined;
  let drained = 0;
  const exchange: Exchange = handler.open(head, {
    send(reply) {
      if (ended) sendReply(stream, reply);
      else early = reply;
    },
    stream: (replyHead) => streamedReply(stream, replyHead),
  });
  stream.ondata = (chunk) => {
    if (!early) return exchange.data(chunk);
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) sendReply(stream, early);
  };
  stream.onend = () => {
    ended = true;
    exchange.end();
    if (early) sendReply(stream, early);
  };
  stream.onclose = () => exchange.abort();
}

/** A whole reply: one HEADERS frame when it has no body and no trailers. */
function sendReply(stream: ServerStream, reply: Reply): void {
  if (reply.body.length === 0 && !reply.trailers) {
    return stream.respond(reply.status, reply.headers, { endStream: true });
  }
  stream.respond(reply.status, reply.headers);
  if (reply.body.length > 0) stream.write(reply.body);
  stream.end(reply.trailers);
}

/** A reply whose messages are written as they come; the head goes with the first. */
function streamedReply(stream: ServerStream, head: ReplyHead): StreamedReply {
  return {
    write(chunk) {
      if (!stream.responded) stream.respond(head.status, head.headers);
      stream.write(chunk);
    },
    end(trailers) {
      if (stream.responded) return stream.end(trailers);
      // Nothing written: a trailers-only answer (gRPC) in one HEADERS frame.
      stream.respond(head.status, { ...head.headers, ...trailers }, { endStream: true });
    },
  };
}
