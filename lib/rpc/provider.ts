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
import type { CallObserver } from "../observe.ts";
import { NO_CALLS } from "../observe.ts";
import { CallCore, type Exchange, type Reply, type RequestHead } from "./_call.ts";
import type { Http1Connection } from "./_http1.ts";
import { connDuplex } from "./_conn.ts";
import { serveHttp1Conn } from "./_http1_server.ts";
import { acceptLoop } from "./_accept.ts";
import { type Activity, guardSession, guardStream, h2ServerOptions } from "./_h2_limits.ts";
import { DEFAULT_MAX_CONNECTIONS, FIRST_BYTES_MS, LINGER_MS } from "./_limits.ts";
import { pathOf, type UnaryMethod } from "./methods.ts";
import { serveGrpcStream, type StreamCall, type StreamMethod } from "./_grpc_stream.ts";
import { HEALTH_SERVICE, healthMethods, HealthState } from "./health.ts";
import { REFLECTION_SERVICES, reflectionMethods } from "./reflection.ts";
import { GREET_SERVICE } from "./greet.ts";
import { file_greet_greet } from "../gen/greet/greet_pb.ts";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.ts";
import { file_grpc_reflection_v1_reflection } from "../gen/grpc/reflection/v1/reflection_pb.ts";
import { file_grpc_reflection_v1alpha_reflection } from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { errorText } from "../error_text.ts";

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
  /** Connections held at once (`--max-connections`, default 10000). */
  maxConnections?: number;
  /** Where accept-loop episode lines go (default stderr). */
  log?: (line: string) => void;
  /**
   * Extra unary methods served next to Greet on every wire (Triple unary and gRPC,
   * JSON or protobuf, gzip), e.g. `MetadataServiceV2/GetMetadataInfo`; they are listed
   * by reflection and report the provider's health. See `methods.ts`.
   */
  methods?: readonly UnaryMethod[];
}

/** A running provider. */
export interface Provider {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Requests in progress. */
  inFlight(): number;
  /**
   * Health reported by `grpc.health.v1.Health` (SERVING from the start). Call
   * `setServing(false)` first on shutdown: `Watch` clients are told NOT_SERVING at once
   * and move their traffic before the port closes.
   */
  setServing(serving: boolean): void;
  /** Stop accepting new connections/requests, wait for in-flight calls up to graceMs, then close. */
  close(graceMs?: number): Promise<void>;
}

/** Default grace period of {@linkcode Provider.close}. */
export const DEFAULT_GRACE_MS = 5000;

/**
 * Streams served on one h2c session before the provider sends a graceful GOAWAY (in-flight
 * streams finish; clients open a new connection, as gRPC clients do on GOAWAY). Works around
 * a crash of Deno 2.9.6's `node:http2` server (nghttp2 assertion `stream->closed_next == NULL`,
 * or `free(): invalid pointer`): a consumer that made ~200 calls on one session and then
 * disconnected aborted `deno task server` every time we tried; with this limit, never.
 */
export const STREAMS_PER_SESSION = 64;

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Starts a provider and resolves once it listens. Rejects with a clear Error when the
 * port is in use or cannot be bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0,
 * });
 * const response = await fetch(`http://127.0.0.1:${provider.port}/greet.GreetService/Greet`, {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ name: "Dubbo" }),
 * });
 * assert.deepEqual(await response.json(), { greeting: "Dubbo" });
 * await provider.close();
 * ```
 */
export function serveProvider(options: ProviderOptions): Promise<Provider> {
  const extra = options.methods ?? [];
  const { health, check, streamMethods } = builtinServices(extra);
  /** Open streaming calls (Watch, reflection), ended when the provider closes. */
  const streamCalls = new Set<StreamCall>();
  const core = new CallCore({
    failureRate: options.failureRate,
    delayMs: options.delayMs,
    group: options.group ?? "",
    version: options.version ?? "",
    observer: options.observer ?? NO_CALLS,
    methods: [...extra, check],
  });
  /** Every accepted connection until it closes (sniffing, HTTP/1.1 or h2c). */
  const conns = new Set<Deno.TcpConn>();
  const http1Connections = new Set<Http1Connection>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const streamsServed = new WeakMap<http2.Http2Session, number>();
  let closing = false;

  const h2 = http2.createServer(h2ServerOptions());
  /** The activity clock of the connection being handed to `h2` (its `session` fires in `emit`). */
  let nextActivity: Activity = { at: 0 };
  h2.on("session", (session: http2.ServerHttp2Session) => {
    guardSession(session, nextActivity);
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => session.destroy());
    if (closing) session.close();
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
    const path = String(headers[":path"] ?? "");
    const method = headers[":method"] === "POST" ? streamMethods.get(path) : undefined;
    if (!method) return serveStream(core, stream, headers);
    if (closing) {
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
    streamCalls.add(call);
    stream.on("close", () => streamCalls.delete(call));
  });

  const route = (
    conn: Deno.TcpConn,
    isHttp2: boolean,
    initial: Uint8Array,
    release: () => void,
  ) => {
    const done = () => {
      conns.delete(conn);
      release();
    };
    if (closing) {
      closeQuietly(conn);
      done();
      return;
    }
    if (isHttp2) {
      const activity = { at: Date.now() };
      const duplex = connDuplex(conn, initial, activity, LINGER_MS);
      duplex.on("error", () => {});
      duplex.on("close", done);
      nextActivity = activity;
      h2.emit("connection", duplex);
      return;
    }
    const connection = serveHttp1Conn(conn, core, initial, () => {
      http1Connections.delete(connection);
      done();
    });
    http1Connections.add(connection);
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
          : `cannot serve Triple on ${where}: ${errorText(error)}`,
        { cause: error },
      ),
    );
  }
  const accepting = acceptLoop(listener, {
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    label: `Triple port ${options.hostname}:${(listener.addr as Deno.NetAddr).port}`,
    log: options.log ?? ((line) => console.error(line)),
    closing: () => closing,
    serve: (conn, release) => {
      conns.add(conn);
      // A silent connection or a partial preface is closed after FIRST_BYTES_MS.
      const timer = setTimeout(() => closeQuietly(conn), FIRST_BYTES_MS);
      sniff(conn).then(
        (seen) => {
          clearTimeout(timer);
          route(conn, seen.isHttp2, seen.initial, release);
        },
        () => {
          clearTimeout(timer);
          closeQuietly(conn);
          conns.delete(conn);
          release();
        },
      );
    },
  }).done;

  const port = (listener.addr as Deno.NetAddr).port;
  let closed: Promise<void> | undefined;
  return Promise.resolve({
    port,
    inFlight: () => core.inFlight(),
    setServing: (serving) => health.setServing(serving),
    close(graceMs = DEFAULT_GRACE_MS) {
      closed ??= (async () => {
        health.setServing(false);
        closing = true;
        for (const call of streamCalls) call.end("unavailable", "the provider is shutting down");
        closeQuietly(listener);
        for (const connection of http1Connections) connection.shutdown();
        // Graceful GOAWAY: each session closes once its streams (including the ended
        // Watch calls, whose last frames must reach the client) are done.
        const sessionsClosed = Promise.all(
          [...sessions].map((session) =>
            new Promise<void>((done) => {
              if (session.closed || session.destroyed) return done();
              session.once("close", () => done());
              session.close();
            })
          ),
        );
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all([core.idle(), sessionsClosed]),
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

/**
 * The services every provider serves besides Greet and `extra`: health (`Check` as a
 * unary method, `Watch` streaming) and reflection v1/v1alpha listing all of them.
 */
function builtinServices(extra: readonly UnaryMethod[]) {
  const health = new HealthState();
  const services = [GREET_SERVICE, HEALTH_SERVICE, ...REFLECTION_SERVICES]
    .concat(extra.map((m) => m.service));
  const { check, watch } = healthMethods(health, services);
  const reflection = reflectionMethods(services, [
    file_greet_greet,
    file_grpc_health_v1_health,
    file_grpc_reflection_v1_reflection,
    file_grpc_reflection_v1alpha_reflection,
    ...extra.flatMap((m) => [m.input.file, m.output.file]),
  ]);
  const streamMethods = new Map<string, StreamMethod>(
    [watch, ...reflection].map((m) => [pathOf(m), m]),
  );
  return { health, check, streamMethods };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
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
  const buffer = new Uint8Array(4096);
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
