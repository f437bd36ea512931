/**
 * The Triple provider: one TCP port that serves HTTP/1.1 (Triple/Connect unary) and
 * h2c prior knowledge (Triple/Connect unary and gRPC), with the greet sample's
 * behaviour (echo, random `unknown` failure, business delay).
 *
 * Design (measured in bench/README.md): a `node:net` server reads the first bytes of
 * each connection. The HTTP/2 connection preface goes to a `node:http2` server (the
 * only server in Deno that can send the trailers gRPC needs); anything else goes to
 * our own small HTTP/1.1 codec (`_http1.ts`). `Deno.serve` cannot send trailers, and
 * `node:http2`'s `allowHTTP1` does not serve HTTP/1.1 on a plain-text port under Deno.
 *
 * @module
 */
import net from "node:net";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import type { CallObserver } from "../observe.ts";
import { NO_CALLS } from "../observe.ts";
import { CallCore, type Exchange, type Reply, type RequestHead } from "./_call.ts";
import { Http1Connection } from "./_http1.ts";

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

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

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
  const sockets = new Set<net.Socket>();
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

  const server = net.createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    sniff(socket, (isHttp2, initial) => {
      if (isHttp2) {
        socket.unshift(initial);
        h2.emit("connection", socket);
      } else {
        const connection = new Http1Connection(socket, core, initial);
        http1Connections.add(connection);
        socket.on("close", () => http1Connections.delete(connection));
      }
    });
  });

  return new Promise((resolve, reject) => {
    const onListenError = (error: NodeJS.ErrnoException) => {
      const where = `${options.hostname}:${options.port}`;
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `cannot serve Triple on ${where}: the port is already in use`
            : `cannot serve Triple on ${where}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    server.once("error", onListenError);
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.off("error", onListenError);
      server.on("error", () => {});
      const port = (server.address() as net.AddressInfo).port;
      let closed: Promise<void> | undefined;
      resolve({
        port,
        inFlight: () => core.inFlight(),
        close(graceMs = DEFAULT_GRACE_MS) {
          closed ??= (async () => {
            closing = true;
            const stopped = new Promise<void>((done) => server.close(() => done()));
            for (const connection of http1Connections) connection.shutdown();
            for (const session of sessions) session.close();
            let timer: ReturnType<typeof setTimeout> | undefined;
            await Promise.race([
              core.idle(),
              new Promise<void>((done) => timer = setTimeout(done, Math.max(0, graceMs))),
            ]);
            clearTimeout(timer);
            for (const session of sessions) session.destroy();
            for (const socket of sockets) socket.destroy();
            await stopped;
          })();
          return closed;
        },
      });
    });
  });
}

/** Reads just enough of a new connection to tell the HTTP/2 preface from HTTP/1.x. */
function sniff(socket: net.Socket, route: (isHttp2: boolean, initial: Buffer) => void) {
  let seen: Buffer = Buffer.alloc(0);
  const onError = () => socket.destroy();
  const onReadable = () => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    }
    const compared = Math.min(seen.length, PREFACE.length);
    const prefixMatches = seen.subarray(0, compared).equals(PREFACE.subarray(0, compared));
    if (prefixMatches && seen.length < PREFACE.length) return; // need more bytes
    socket.off("readable", onReadable);
    socket.off("error", onError);
    route(prefixMatches, seen);
  };
  socket.on("readable", onReadable);
  socket.on("error", onError);
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
