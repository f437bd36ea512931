/**
 * The one Triple client, for the consumer and for the application-level registry's metadata
 * fetch: unary calls of any method spec as Triple/Connect unary (HTTP/1.1 with `fetch`, or
 * h2c with lib/h2) or gRPC (h2c prior knowledge with lib/h2: one connection per endpoint,
 * calls not processed by a server that went away retried on a new one), protobuf or JSON,
 * with a per-call deadline sent as a header, gzip, and bounded responses. Every failure
 * surfaces as an {@linkcode RpcError}: refused/reset connections as `unavailable`, a missed
 * deadline as `deadline_exceeded`, a peer's error with the peer's code and message whatever
 * its error shape (dubbo-go, dubbo-js, Java).
 *
 * gRPC status rule: a trailers-only response's `grpc-status` wins over a non-200 HTTP status,
 * except HTTP 408, which stays `deadline_exceeded` (Dubbo Java answers an expired deadline
 * with 408).
 *
 * @module
 */
import { type CallObserver, type CallTarget, NO_CALLS } from "../observe.ts";
import type { Endpoint } from "../endpoint.ts";
import { RpcError } from "./_errors.ts";
import type { Serialization } from "./_content_type.ts";
import { MAX_MESSAGE_BYTES } from "./_unary_call.ts";
import { callTarget, type MethodSpec, pathOf } from "./_method.ts";
import { ConnectionFailure, TransportDiagnosis } from "./_transport_probe.ts";
import { grpcTransport, tripleTransport, type Wire } from "./_transports.ts";
import { errorText } from "../error_text.ts";

/**
 * Settings of {@linkcode createClient}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { serveProvider } from "./_provider.ts";
 * import { unaryMethod } from "./_protobuf.ts";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const check = unaryMethod({
 *   service: "example.Status", method: "Get",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: (request) => create(HealthCheckResponseSchema, { status: request.service === "up" ? 1 : 2 }),
 * });
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, services: [check] });
 * const options: ClientOptions = { timeoutMs: 3000, serialization: "json", protocol: "grpc", http: "2" };
 * const client = createClient(options);
 * const endpoint = { host: "127.0.0.1", port: provider.port };
 * const reply = await client.call(check, endpoint, create(HealthCheckRequestSchema, { service: "up" }));
 * assert.equal(reply.status, 1);
 * client.close();
 * await provider.close();
 * ```
 */
export interface ClientOptions {
  /** Per-call deadline, milliseconds; sent as `grpc-timeout`, `Triple-Timeout-Ms` and friends. */
  timeoutMs: number;
  /** Wire format: `protobuf` or `json`. */
  serialization: "protobuf" | "json";
  /** `tri-service-group` to ask for (omitted when empty). */
  group?: string;
  /** `tri-service-version` to ask for (omitted when empty). */
  version?: string;
  /** Records each call attempt (target: the method spec's service and method, group, version). */
  observer?: CallObserver;
  /**
   * Wire protocol: `triple` (Triple/Connect unary, the default here) or `grpc` (what
   * dubbo-go and Java consumers send; needs `http: "2"`).
   */
  protocol?: "triple" | "grpc";
  /** HTTP version: `1.1` (default for `triple`) or `2` (h2c prior knowledge). */
  http?: "1.1" | "2";
  /** gzip request messages of at least 1 KiB (responses are always accepted gzipped). */
  compressRequests?: boolean;
  /** Largest response message accepted, after decompression (default 4 MiB). */
  maxResponseBytes?: number;
  /**
   * Gets one line, once per provider, when a provider does not speak the transport chosen
   * (it answers the h2c preface in HTTP/1.1, or closes or resets on it): the line names the
   * flag to change. Such calls still fail as `unavailable`, with a message that says why.
   */
  onTransportMismatch?: (line: string) => void;
}

/**
 * Calls providers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./_errors.ts";
 * import { unaryMethod } from "./_protobuf.ts";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: () => create(HealthCheckResponseSchema),
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const endpoint = { host: "127.0.0.1", port: listener.addr.port };
 * listener.close(); // nobody listens there now
 * const client: TripleClient = createClient({ timeoutMs: 3000, serialization: "protobuf" });
 * await assert.rejects(
 *   client.call(check, endpoint, create(HealthCheckRequestSchema)),
 *   (error) => error instanceof RpcError && error.code === "unavailable",
 * );
 * client.close();
 * ```
 */
export interface TripleClient {
  /** Calls `method` on `endpoint`; resolves to the response, rejects with an {@linkcode RpcError}. */
  call<I, O>(method: MethodSpec<I, O>, endpoint: Endpoint, request: I): Promise<O>;
  /** Closes pooled connections. */
  close(): void;
}

/**
 * Creates a client. gRPC needs HTTP/2: `protocol: "grpc"` with `http: "1.1"` throws a
 * `TypeError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => createClient({ timeoutMs: 1, serialization: "json", protocol: "grpc", http: "1.1" }), TypeError);
 * ```
 */
export function createClient(options: ClientOptions): TripleClient {
  const protocol = options.protocol ?? "triple";
  const http = options.http ?? (protocol === "grpc" ? "2" : "1.1");
  if (protocol === "grpc" && http !== "2") {
    throw new TypeError("gRPC needs HTTP/2: use --http=2 with --protocol=grpc");
  }
  const group = options.group ?? "";
  const version = options.version ?? "";
  const routing: Record<string, string> = {};
  if (group) routing["tri-service-group"] = group;
  if (version) routing["tri-service-version"] = version;
  const wire: Wire = {
    serialization: options.serialization === "json" ? "json" : "proto",
    routing,
    timeoutMs: options.timeoutMs,
    compress: options.compressRequests ?? false,
    maxBytes: options.maxResponseBytes ?? MAX_MESSAGE_BYTES,
  };
  const transport = protocol === "grpc" ? grpcTransport(wire) : tripleTransport(wire, http);
  const diagnosis = options.onTransportMismatch &&
    new TransportDiagnosis(
      protocol,
      http,
      Math.min(1000, wire.timeoutMs),
      options.onTransportMismatch,
    );
  const observer = options.observer ?? NO_CALLS;
  const targets = new WeakMap<object, CallTarget>();
  return {
    async call<I, O>(method: MethodSpec<I, O>, endpoint: Endpoint, request: I): Promise<O> {
      let target = targets.get(method);
      if (!target) {
        target = callTarget(method, group, version);
        targets.set(method, target);
      }
      const end = observer.start(target);
      try {
        const message = method.request.encode(request, wire.serialization);
        const bytes = await transport.send(endpoint, { path: pathOf(method), message });
        const response = decodeResponse(method, bytes, wire.serialization);
        end(null);
        return response;
      } catch (error) {
        end(error instanceof RpcError ? error.metricCode : "unknown");
        if (diagnosis && error instanceof ConnectionFailure) {
          throw await diagnosis.explain(endpoint, error);
        }
        throw error;
      }
    },
    close: () => transport.close(),
  };
}

function decodeResponse<O>(method: MethodSpec<unknown, O>, bytes: Uint8Array, as: Serialization) {
  try {
    return method.response.decode(bytes, as);
  } catch (error) {
    throw new RpcError(
      "internal",
      `cannot decode ${method.response.typeName}: ${errorText(error)}`,
    );
  }
}
