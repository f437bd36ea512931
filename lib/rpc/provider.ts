/**
 * The Triple provider: one TCP port that serves HTTP/1.1 (Triple/Connect unary) and
 * h2c prior knowledge (Triple/Connect unary and gRPC), with the greet sample's
 * behaviour (echo, random `unknown` failure, business delay).
 *
 * Design (bench/README.md has the measurements): a native `Deno.listen` listener reads the first
 * bytes of each connection. The HTTP/2 connection preface goes to a `node:http2` server
 * (the only server in Deno that can send the trailers gRPC needs) through a
 * `node:stream` Duplex over the `Deno.TcpConn`; anything else goes to our own small
 * HTTP/1.1 codec (`_http1.ts`) reading and writing the `Deno.TcpConn` directly (`_conn.ts`).
 * `Deno.serve` cannot send trailers, `node:http2`'s `allowHTTP1` does not serve HTTP/1.1
 * on a plain-text port under Deno, and `node:net` socket writes dominate the provider's
 * CPU per HTTP/1.1 request.
 *
 * @module
 */
import type http2 from "node:http2";
import type { CallObserver } from "../observe.ts";
import { NO_CALLS } from "../observe.ts";
import { CallCore } from "./_call.ts";
import type { Http1Connection } from "./_http1.ts";
import { serveHttp1Conn } from "./_http1_server.ts";
import { acceptLoop, closeQuietly } from "./_accept.ts";
import { createH2Server, type H2Server, STREAMS_PER_SESSION } from "./_h2_server.ts";
import { DEFAULT_MAX_CONNECTIONS, FIRST_BYTES_MS } from "./_limits.ts";
import { pathOf, type UnaryMethod } from "./methods.ts";
import type { StreamCall, StreamMethod } from "./_grpc_stream.ts";
import { HEALTH_SERVICE, healthMethods, HealthState } from "./health.ts";
import { REFLECTION_SERVICES, reflectionMethods } from "./reflection.ts";
import { GREET_SERVICE } from "./greet.ts";
import { file_greet_greet } from "../gen/greet/greet_pb.ts";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.ts";
import { file_grpc_reflection_v1_reflection } from "../gen/grpc/reflection/v1/reflection_pb.ts";
import { file_grpc_reflection_v1alpha_reflection } from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { errorText } from "../error_text.ts";

export { STREAMS_PER_SESSION };

/**
 * Settings of {@linkcode serveProvider}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options: ProviderOptions = {
 *   hostname: "127.0.0.1", port: 0, failureRate: 1, delayMs: 0, maxConnections: 10,
 * };
 * const provider = await serveProvider(options);
 * const response = await fetch(`http://127.0.0.1:${provider.port}/greet.GreetService/Greet`, {
 *   method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
 * });
 * assert.equal((await response.json()).message, "random error");
 * await provider.close();
 * ```
 */
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

/**
 * A running provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const provider: Provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0,
 * });
 * assert.ok(provider.port > 0);
 * assert.equal(provider.inFlight(), 0);
 * provider.setServing(false);
 * await provider.close(100);
 * ```
 */
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

/**
 * Default grace period of {@linkcode Provider.close}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_GRACE_MS, 5000);
 * ```
 */
export const DEFAULT_GRACE_MS = 5000;

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
  const state: ProviderState = {
    closing: false,
    conns: new Set(),
    http1Connections: new Set(),
    sessions: new Set(),
    streamCalls: new Set(),
    core: new CallCore({
      failureRate: options.failureRate,
      delayMs: options.delayMs,
      group: options.group ?? "",
      version: options.version ?? "",
      observer: options.observer ?? NO_CALLS,
      methods: [...extra, check],
    }),
  };
  const h2 = createH2Server({ ...state, streamMethods, closing: () => state.closing });
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    return Promise.reject(bindError(`${options.hostname}:${options.port}`, error));
  }
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = acceptLoop(listener, {
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    label: `Triple port ${options.hostname}:${port}`,
    log: options.log ?? ((line) => console.error(line)),
    closing: () => state.closing,
    serve: (conn, release) => accept(state, h2, conn, release),
  }).done;

  let closed: Promise<void> | undefined;
  return Promise.resolve({
    port,
    inFlight: () => state.core.inFlight(),
    setServing: (serving) => health.setServing(serving),
    close(graceMs = DEFAULT_GRACE_MS) {
      closed ??= (async () => {
        health.setServing(false);
        state.closing = true;
        await drain(state, listener, graceMs);
        await accepting;
      })();
      return closed;
    },
  });
}

/** What the parts of one running provider share. */
interface ProviderState {
  /** Set once `close` starts: new connections, sessions and streams are turned away. */
  closing: boolean;
  /** Every accepted connection until it closes (sniffing, HTTP/1.1 or h2c). */
  readonly conns: Set<Deno.TcpConn>;
  readonly http1Connections: Set<Http1Connection>;
  readonly sessions: Set<http2.ServerHttp2Session>;
  /** Open streaming calls (Watch, reflection), ended when the provider closes. */
  readonly streamCalls: Set<StreamCall>;
  readonly core: CallCore;
}

/** The clear error of a port that cannot be bound. */
function bindError(where: string, error: unknown): Error {
  return new Error(
    error instanceof Deno.errors.AddrInUse
      ? `cannot serve Triple on ${where}: the port is already in use`
      : `cannot serve Triple on ${where}: ${errorText(error)}`,
    { cause: error },
  );
}

/** Sniffs a new connection's first bytes and hands it to h2c or HTTP/1.1. */
function accept(state: ProviderState, h2: H2Server, conn: Deno.TcpConn, release: () => void) {
  state.conns.add(conn);
  // A silent connection or a partial preface is closed after FIRST_BYTES_MS.
  const timer = setTimeout(() => closeQuietly(conn), FIRST_BYTES_MS);
  sniff(conn).then(
    (seen) => {
      clearTimeout(timer);
      route(state, h2, conn, seen.isHttp2, seen.initial, release);
    },
    () => {
      clearTimeout(timer);
      closeQuietly(conn);
      state.conns.delete(conn);
      release();
    },
  );
}

function route(
  state: ProviderState,
  h2: H2Server,
  conn: Deno.TcpConn,
  isHttp2: boolean,
  initial: Uint8Array,
  release: () => void,
) {
  const done = () => {
    state.conns.delete(conn);
    release();
  };
  if (state.closing) {
    closeQuietly(conn);
    done();
    return;
  }
  if (isHttp2) return h2.serve(conn, initial, done);
  const connection = serveHttp1Conn(conn, state.core, initial, () => {
    state.http1Connections.delete(connection);
    done();
  });
  state.http1Connections.add(connection);
}

/**
 * Ends the streaming calls, stops accepting, shuts the HTTP/1.1 connections and GOAWAYs the sessions,
 * waits up to `graceMs` for in-flight calls, then closes whatever is left.
 */
async function drain(
  state: ProviderState,
  listener: Deno.TcpListener,
  graceMs: number,
): Promise<void> {
  for (const call of state.streamCalls) call.end("unavailable", "the provider is shutting down");
  closeQuietly(listener);
  for (const connection of state.http1Connections) connection.shutdown();
  // Graceful GOAWAY: each session closes once its streams (including the ended
  // Watch calls, whose last frames must reach the client) are done.
  const sessionsClosed = Promise.all(
    [...state.sessions].map((session) =>
      new Promise<void>((done) => {
        if (session.closed || session.destroyed) return done();
        session.once("close", () => done());
        session.close();
      })
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all([state.core.idle(), sessionsClosed]),
    new Promise<void>((done) => timer = setTimeout(done, Math.max(0, graceMs))),
  ]);
  clearTimeout(timer);
  for (const session of state.sessions) session.destroy();
  for (const conn of state.conns) closeQuietly(conn);
  state.conns.clear();
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
