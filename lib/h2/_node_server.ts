/**
 * The h2c server on `node:http2` (until lib/h2's own HTTP/2 replaces it; Deno's `Deno.serve`
 * cannot send the trailers gRPC needs): fed connections another listener sniffed, it hands
 * every stream to a lib/net {@linkcode Handler} (whole replies and streamed ones), guards
 * its sessions, and owns them and their drain.
 *
 * @module
 */
import http2 from "node:http2";
import type { Buffer } from "node:buffer";
import {
  closeQuietly,
  type ConnectionServer,
  type Exchange,
  type Handler,
  LINGER_MS,
  type Reply,
  type ReplyHead,
  type RequestHead,
  type StreamedReply,
} from "../net/mod.ts";
import { connDuplex } from "./_node_duplex.ts";
import { type Activity, h2ServerOptions, SessionGuard } from "./_node_guard.ts";

/**
 * Streams served on one h2c session before the server sends a graceful GOAWAY (in-flight
 * streams finish; clients open a new connection, as gRPC clients do on GOAWAY). Works around
 * a crash of Deno 2.9.6's `node:http2` server (nghttp2 assertion `stream->closed_next == NULL`,
 * or `free(): invalid pointer`) that aborts the process when a consumer that made a couple of
 * hundred calls on one session disconnects; sessions this short do not trigger it.
 */
export const STREAMS_PER_SESSION = 64;

/**
 * An h2c server on `node:http2` serving `handler`; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { ANSWERED } from "../net/mod.ts";
 * const server = new NodeH2Server({
 *   open(head, sink) {
 *     sink.send({ status: 200, headers: {}, body: new TextEncoder().encode(head.path) });
 *     return ANSWERED;
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * listener.accept().then((conn) => server.serve(conn, new Uint8Array(0)));
 * const client = http2.connect(`http://127.0.0.1:${listener.addr.port}`);
 * const stream = client.request({ ":method": "POST", ":path": "/h2c" });
 * stream.end();
 * let text = "";
 * stream.setEncoding("utf8");
 * stream.on("data", (chunk: string) => text += chunk);
 * await new Promise((done) => stream.on("end", done));
 * assert.equal(text, "/h2c");
 * assert.equal(server.connections(), 1);
 * client.close();
 * await server.close(1000);
 * assert.equal(server.connections(), 0);
 * listener.close();
 * ```
 */
export class NodeH2Server implements ConnectionServer {
  #handler: Handler;
  #h2 = http2.createServer(h2ServerOptions());
  #guard = new SessionGuard();
  #sessions = new Set<http2.ServerHttp2Session>();
  #transports = new Set<Deno.TcpConn>();
  #streamsServed = new WeakMap<http2.Http2Session, number>();
  /** The activity clock of the connection being handed to node:http2 (its `session` fires in `emit`). */
  #nextActivity: Activity = { at: 0 };
  #closing = false;
  #onClosed: (conn: Deno.TcpConn) => void;

  /** Answers every stream with `handler`; `onClosed` hears of each connection once it has closed. */
  constructor(handler: Handler, onClosed: (conn: Deno.TcpConn) => void = () => {}) {
    this.#handler = handler;
    this.#onClosed = onClosed;
    this.#h2.on("session", (session: http2.ServerHttp2Session) => this.#session(session));
    this.#h2.on("sessionError", () => {});
    this.#h2.on(
      "stream",
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) =>
        this.#stream(stream, headers),
    );
  }

  /** Serves `conn`, whose first bytes (the preface at least) are `initial`. */
  serve(conn: Deno.TcpConn, initial: Uint8Array): void {
    const activity = { at: Date.now() };
    const duplex = connDuplex(conn, initial, activity, LINGER_MS);
    this.#transports.add(conn);
    duplex.on("error", () => {});
    duplex.on("close", () => {
      if (this.#transports.delete(conn)) this.#onClosed(conn);
    });
    this.#nextActivity = activity;
    this.#h2.emit("connection", duplex);
  }

  /** Connections open now. */
  connections(): number {
    return this.#transports.size;
  }

  /**
   * Sends every session a graceful GOAWAY (each closes once its streams are done), waits up
   * to `graceMs`, then destroys what is left.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    const sessionsClosed = Promise.all(
      [...this.#sessions].map((session) =>
        new Promise<void>((done) => {
          if (session.closed || session.destroyed) return done();
          session.once("close", () => done());
          session.close();
        })
      ),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      sessionsClosed,
      new Promise<void>((done) => timer = setTimeout(done, Math.max(0, graceMs))),
    ]);
    clearTimeout(timer);
    for (const session of this.#sessions) session.destroy();
    for (const conn of this.#transports) closeQuietly(conn);
  }

  #session(session: http2.ServerHttp2Session) {
    this.#guard.session(session, this.#nextActivity);
    this.#sessions.add(session);
    session.on("close", () => this.#sessions.delete(session));
    session.on("error", () => session.destroy());
    if (this.#closing) session.close();
  }

  #stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
    this.#guard.stream(stream);
    const session = stream.session;
    if (session) {
      const served = (this.#streamsServed.get(session) ?? 0) + 1;
      this.#streamsServed.set(session, served);
      if (served === STREAMS_PER_SESSION) session.close();
    }
    serveStream(this.#handler, stream, headers);
  }
}

/** A header's value; repeated fields joined as one list. */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The lib/net request head of a stream. */
function requestHead(headers: http2.IncomingHttpHeaders): RequestHead {
  const header = (name: string): string | undefined => joined(headers[name]);
  const declared = header("content-length");
  return {
    method: header(":method") ?? "",
    path: header(":path") ?? "/",
    header,
    http2: true,
    contentLength: declared !== undefined && /^\d{1,15}$/.test(declared)
      ? Number(declared)
      : undefined,
  };
}

/** Writes a whole reply on `stream`. */
function writeReply(stream: http2.ServerHttp2Stream, reply: Reply) {
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
}

/** A reply streamed on `stream`: head with the first chunk, trailers at the end. */
function streamedReply(stream: http2.ServerHttp2Stream, head: ReplyHead): StreamedReply {
  const responseHeaders = { ":status": head.status, ...head.headers };
  let responded = false;
  let ended = false;
  const gone = () => ended || stream.destroyed || stream.closed;
  return {
    write(chunk) {
      if (gone()) return;
      if (!responded) {
        responded = true;
        stream.respond(responseHeaders, { waitForTrailers: true });
      }
      stream.write(chunk);
    },
    end(trailers = {}) {
      if (gone()) return;
      ended = true;
      try {
        if (!responded) {
          responded = true;
          stream.respond({ ...responseHeaders, ...trailers }, { endStream: true });
          return;
        }
        stream.once("wantTrailers", () => stream.sendTrailers(trailers));
        stream.end();
      } catch {
        stream.destroy();
      }
    },
  };
}

/** Adapts one HTTP/2 stream to `handler`. */
function serveStream(
  handler: Handler,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) {
  stream.on("error", () => {});
  let requestEnded = false;
  let deferred: Reply | undefined;
  // A whole reply given while the request body is still arriving (too large, deadline,
  // early rejection) waits for the body's end, which is discarded meanwhile: under
  // Deno, ending the response stream early intermittently stalls the client's upload.
  // A streamed reply starts at once (a bidi client keeps sending).
  const send = (reply: Reply) => {
    if (requestEnded) writeReply(stream, reply);
    else deferred = reply;
  };
  // Listen before `open` may answer: under Deno, a stream answered before it had a
  // data listener stops draining the request body and the client stalls.
  const call: { exchange?: Exchange } = {};
  stream.on("data", (chunk: Buffer) => call.exchange?.data(chunk));
  stream.on("end", () => {
    requestEnded = true;
    call.exchange?.end();
    if (deferred) writeReply(stream, deferred);
  });
  stream.on("close", () => call.exchange?.abort());
  call.exchange = handler.open(requestHead(headers), {
    send,
    stream: (head) => streamedReply(stream, head),
  });
}
