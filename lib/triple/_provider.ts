/**
 * The Triple provider: one TCP port that serves HTTP/1.1 (Triple/Connect unary) and h2c
 * prior knowledge (Triple/Connect unary and gRPC, streaming included), composed of the
 * layers below it: lib/net's accept loop and sniffer hand each connection to lib/http1's
 * connections or the h2c server, which both feed one {@linkcode TripleHandler}; health and
 * reflection are served next to the application's methods.
 *
 * Design (bench/README.md has the measurements): `Deno.serve` cannot send trailers, and
 * `node:net` socket writes dominate the provider's CPU per HTTP/1.1 request, so HTTP/1.1 is
 * our own server on native `Deno.Conn`s; h2c is lib/h2, our own HTTP/2 on the same
 * connections (Deno 2.9's `node:http2` aborted the process on long sessions).
 *
 * @module
 */
import {
  acceptLoop,
  closeQuietly,
  DEFAULT_MAX_CONNECTIONS,
  FIRST_BYTES_MS,
  sniffHttp2,
} from "../net/mod.ts";
import { Http1Connections } from "../http1/mod.ts";
import { createH2ConnectionServer } from "../h2/mod.ts";
import type { CallObserver } from "../observe.ts";
import { NO_CALLS } from "../observe.ts";
import { TripleHandler } from "./_handler.ts";
import type { Method, UnaryMethod } from "./_method.ts";
import { HEALTH_SERVICE, healthMethods, HealthState } from "./_health.ts";
import { REFLECTION_SERVICES, reflectionMethods } from "./_reflection.ts";
import { file_grpc_reflection_v1_reflection } from "../gen/grpc/reflection/v1/reflection_pb.ts";
import { file_grpc_reflection_v1alpha_reflection } from "../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { errorText } from "../error_text.ts";

/**
 * Settings of {@linkcode serveProvider}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { unaryMethod } from "./_protobuf.ts";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const options: ProviderOptions = {
 *   hostname: "127.0.0.1", port: 0, maxConnections: 10, services: [], internal: [
 *     unaryMethod({
 *       service: "example.Status", method: "Get",
 *       input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *       handler: () => create(HealthCheckResponseSchema, { status: 2 }),
 *     }),
 *   ],
 * };
 * const provider = await serveProvider(options);
 * const response = await fetch(`http://127.0.0.1:${provider.port}/example.Status/Get`, {
 *   method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
 * });
 * assert.deepEqual(await response.json(), { status: "NOT_SERVING" });
 * await provider.close();
 * ```
 */
export interface ProviderOptions {
  /** Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. */
  hostname: string;
  /** Port to bind; 0 picks a free one (see {@linkcode Provider.port}). */
  port: number;
  /**
   * The application's unary methods: observed by `observer`, routed by group and version,
   * reported by health, listed by reflection.
   */
  services: readonly UnaryMethod[];
  /**
   * The provider's own extra methods (e.g. `MetadataServiceV2/GetMetadataInfo`), served on
   * every wire next to health and reflection: not observed, any group and version.
   */
  internal?: readonly Method[];
  /** Service group the services are exported with (default ""). */
  group?: string;
  /** Service version the services are exported with (default ""). */
  version?: string;
  /** Records every call to a service. */
  observer?: CallObserver;
  /** Connections held at once (`--max-connections`, default 10000). */
  maxConnections?: number;
  /** Where accept-loop episode lines go (default stderr). */
  log?: (line: string) => void;
}

/**
 * A running provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const provider: Provider = await serveProvider({ hostname: "127.0.0.1", port: 0, services: [] });
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
  /**
   * Drains: NOT_SERVING, streaming calls ended, no new connections; in-flight calls get up
   * to `graceMs`, then every connection is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/** Default grace period of {@linkcode Provider.close}. */
export const DEFAULT_GRACE_MS = 5000;

/**
 * Starts a provider and resolves once it listens. Rejects with a clear Error when the
 * port is in use or cannot be bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, services: [] });
 * const response = await fetch(`http://127.0.0.1:${provider.port}/grpc.health.v1.Health/Check`, {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: "{}",
 * });
 * assert.deepEqual(await response.json(), { status: "SERVING" });
 * await provider.close();
 * ```
 */
export function serveProvider(options: ProviderOptions): Promise<Provider> {
  const { health, methods } = builtinMethods(options.services, options.internal ?? []);
  const handler = new TripleHandler({
    services: options.services,
    internal: methods,
    group: options.group ?? "",
    version: options.version ?? "",
    observer: options.observer ?? NO_CALLS,
  });
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    return Promise.reject(bindError(`${options.hostname}:${options.port}`, error));
  }
  const port = (listener.addr as Deno.NetAddr).port;
  const http1 = new Http1Connections(handler);
  const log = options.log ?? ((line: string) => console.error(line));
  const h2 = createH2ConnectionServer(handler, {
    log,
    label: `Triple port ${options.hostname}:${port} (h2c)`,
  });
  /** Connections whose first bytes are still awaited: no server has them yet. */
  const sniffing = new Set<Deno.TcpConn>();
  let closing = false;
  const accepting = acceptLoop(listener, {
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    label: `Triple port ${options.hostname}:${port}`,
    log,
    closing: () => closing,
    serve(conn, done) {
      sniffing.add(conn);
      sniffHttp2(conn, FIRST_BYTES_MS).then(
        (seen) => {
          sniffing.delete(conn);
          if (closing) {
            closeQuietly(conn);
            done();
          } else (seen.http2 ? h2 : http1).serve(conn, seen.initial, done);
        },
        () => {
          sniffing.delete(conn);
          closeQuietly(conn);
          done();
        },
      );
    },
  }).done;

  let closed: Promise<void> | undefined;
  return Promise.resolve({
    port,
    inFlight: () => handler.inFlight(),
    setServing: (serving) => health.setServing(serving),
    close(graceMs = DEFAULT_GRACE_MS) {
      closed ??= (async () => {
        health.setServing(false);
        handler.endStreams("the provider is shutting down");
        closing = true;
        closeQuietly(listener);
        for (const conn of sniffing) closeQuietly(conn);
        await Promise.all([http1.close(graceMs), h2.close(graceMs), idle(handler, graceMs)]);
        await accepting;
      })();
      return closed;
    },
  });
}

/** Resolves when `handler` has no call in flight, or after `graceMs`. */
async function idle(handler: TripleHandler, graceMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    handler.idle(),
    new Promise<void>((done) => timer = setTimeout(done, Math.max(0, graceMs))),
  ]);
  clearTimeout(timer);
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

/**
 * The provider's own methods next to `internal`: health (`Check` unary, `Watch` streaming)
 * reporting every service, and reflection v1/v1alpha listing them.
 */
function builtinMethods(services: readonly UnaryMethod[], internal: readonly Method[]) {
  const health = new HealthState();
  const names = [
    ...services.map((m) => m.service),
    HEALTH_SERVICE,
    ...REFLECTION_SERVICES,
    ...internal.map((m) => m.service),
  ];
  const { check, watch } = healthMethods(health, names);
  const described = [...services, check, watch, ...internal];
  const reflection = reflectionMethods(names, [
    ...described.flatMap((m) => m.files ?? []),
    file_grpc_reflection_v1_reflection,
    file_grpc_reflection_v1alpha_reflection,
  ]);
  return { health, methods: [...internal, check, watch, ...reflection] };
}
