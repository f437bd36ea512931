/**
 * The Triple provider: one TCP port that serves HTTP/1.1 (Triple/Connect unary) and
 * h2c prior knowledge (Triple/Connect unary and gRPC), with the greet sample's
 * behaviour (echo, random `unknown` failure, business delay).
 *
 * Design (measured in bench/README.md): a native `Deno.listen` listener reads the first
 * bytes of each connection. The HTTP/2 connection preface goes to a `node:http2` server
 * (the only server in Deno that can send the trailers gRPC needs) through a
 * `node:stream` Duplex over the `Deno.TcpConn`; anything else goes to our own small
 * HTTP/1.1 codec (`_http1.ts`) reading and writing the `Deno.TcpConn` directly (`_conn.ts`).
 * `Deno.serve` cannot send trailers, `node:http2`'s `allowHTTP1` does not serve HTTP/1.1
 * on a plain-text port under Deno, and `node:net` sockets cost about half of the
 * provider's CPU per HTTP/1.1 request in writes alone.
 *
 * @module
 */
import http2 from "node:http2";
import type { Buffer } from "node:buffer";
import type { CallObserver } from "../../lib/observe.ts";
import { NO_CALLS } from "../../lib/observe.ts";
import { CallCore, type Exchange, type Reply, type RequestHead } from "../../lib/rpc/_call.ts";
import { HTTP1_IDLE_TIMEOUT_MS, HTTP1_LINGER_MS, Http1Connection } from "./_http1.ts";
import { connDuplex, ConnStream } from "./_conn.ts";

/** Settings of {@linkcode serveProvider}. */
export interface ProviderOptions {
  /** Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. */
  hostname: string;
  /** Port to bind; 0 picks a free one (see {@linkcode Provider.port}). */
  port: number;
  /** Share of calls that fail with `unknown` / `random error`, 0..1. */
  failureRate: number;
  /** Business delay of each successful call, milliseconds. */
  delayMs: number;
  /** Service group the provider is exported with (default ""). */
  group?: string;
  /** Service version the provider is exported with (default ""). */
  version?: string;
  /** Records every call to a registered method. */
  observer?: CallObserver;
}

/** A running provider. */
export interface Provider {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Requests in progress. */
  inFlight(): number;
  /** Stop accepting new connections/requests, wait for in-flight calls up to graceMs, then close. */
  close(graceMs?: number): Promise<void>;
}

/** Default grace period of {@linkcode Provider.close}. */
export const DEFAULT_GRACE_MS = 5000;

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Starts a provider and resolves once it listens. Rejects with a clear Error when the
 * port is in use or cannot be bound.
 *
 * @example
 * ```ts
 * const provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 20000, failureRate: 1 / 101, delayMs: 10,
 * });
 * // curl -H 'Content-Type: application/json' -d '{"name":"Dubbo"}' \
 * //   http://127.0.0.1:20000/greet.GreetService/Greet   → {"greeting":"Dubbo"}
 * await provider.close();
 * ```
 */
export function serveProvider(options: ProviderOptions): Promise<Provider> {
  const core = new CallCore({
    failureRate: options.failureRate,
    delayMs: options.delayMs,
    group: options.group ?? "",
    version: options.version ?? "",
    observer: options.observer ?? NO_CALLS,
  });
  /** Every accepted connection until it closes (sniffing, HTTP/1.1 or h2c). */
  const conns = new Set<Deno.TcpConn>();
  const http1Connections = new Set<Http1Connection>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let closing = false;

  const h2 = http2.createServer();
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => session.destroy());
    if (closing) session.close();
  });
  h2.on("sessionError", () => {});
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    serveStream(core, stream, headers);
  });

  const route = (conn: Deno.TcpConn, isHttp2: boolean, initial: Uint8Array) => {
    if (closing) {
      closeQuietly(conn);
      conns.delete(conn);
      return;
    }
    if (isHttp2) {
      const duplex = connDuplex(conn, initial);
      duplex.on("error", () => {});
      duplex.on("close", () => conns.delete(conn));
      h2.emit("connection", duplex);
      return;
    }
    const stream = new ConnStream(conn, {
      idleMs: HTTP1_IDLE_TIMEOUT_MS,
      lingerMs: HTTP1_LINGER_MS,
    });
    const connection = new Http1Connection(stream, core, initial);
    http1Connections.add(connection);
    stream.start({
      receive: (chunk) => connection.receive(chunk),
      peerEnded: () => connection.peerEnded(),
      idleTimeout: () => connection.idleTimeout(),
      closed: () => {
        http1Connections.delete(connection);
        conns.delete(conn);
        connection.closed();
      },
    });
  };

  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    const where = `${options.hostname}:${options.port}`;
    return Promise.reject(
      new Error(
        error instanceof Deno.errors.AddrInUse
          ? `cannot serve Triple on ${where}: the port is already in use`
          : `cannot serve Triple on ${where}: ${(error as Error).message}`,
        { cause: error },
      ),
    );
  }
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        continue; // e.g. the peer reset before accept; keep serving
      }
      if (closing) {
        closeQuietly(conn);
        continue;
      }
      conns.add(conn);
      sniff(conn).then(
        (seen) => route(conn, seen.isHttp2, seen.initial),
        () => {
          closeQuietly(conn);
          conns.delete(conn);
        },
      );
    }
  })();

  const port = (listener.addr as Deno.NetAddr).port;
  let closed: Promise<void> | undefined;
  return Promise.resolve({
    port,
    inFlight: () => core.inFlight(),
    close(graceMs = DEFAULT_GRACE_MS) {
      closed ??= (async () => {
        closing = true;
        closeQuietly(listener);
        for (const connection of http1Connections) connection.shutdown();
        for (const session of sessions) session.close();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          core.idle(),
          new Promise<void>((done) => timer = setTimeout(done, Math.max(0, graceMs))),
        ]);
        clearTimeout(timer);
        for (const session of sessions) session.destroy();
        for (const conn of conns) closeQuietly(conn);
        conns.clear();
        await accepting;
      })();
      return closed;
    },
  });
}

function closeQuietly(closer: { close(): void }) {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}

/**
 * Reads just enough of a new connection to tell the HTTP/2 preface from HTTP/1.x.
 * Resolves with the bytes read; rejects if the peer leaves (or fails) first.
 */
async function sniff(conn: Deno.TcpConn): Promise<{ isHttp2: boolean; initial: Uint8Array }> {
  const buffer = new Uint8Array(64 * 1024);
  let seen = 0;
  for (;;) {
    const n = await conn.read(buffer.subarray(seen));
    if (n === null) throw new Error("closed before the first request");
    seen += n;
    const compared = Math.min(seen, PREFACE.length);
    let prefixMatches = true;
    for (let i = 0; i < compared; i++) {
      if (buffer[i] !== PREFACE[i]) {
        prefixMatches = false;
        break;
      }
    }
    if (prefixMatches && seen < PREFACE.length) continue; // need more bytes
    return { isHttp2: prefixMatches, initial: buffer.slice(0, seen) };
  }
}

/** Adapts one HTTP/2 stream to the call core. */
function serveStream(
  core: CallCore,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) {
  stream.on("error", () => {});
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
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
  // Deno, ending the response stream early intermittently stalls the client's upload
  // (measured with curl and a 5 MiB body).
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
