/**
 * The consumer: unary `greet.GreetService/Greet` calls as Triple unary (HTTP/1.1 or
 * h2c) or gRPC (h2c prior knowledge), protobuf or JSON, with a per-call deadline sent
 * as a header, pooled keep-alive connections, and gzip. Every failure surfaces as an
 * {@linkcode RpcError}: refused/reset connections as `unavailable`, a missed deadline
 * as `deadline_exceeded`, a peer's error with the peer's code and message whatever its
 * error shape (dubbo-go, dubbo-js, Java).
 *
 * @module
 */
import type { CallObserver, CallTarget } from "../observe.ts";
import { NO_CALLS } from "../observe.ts";
import { errorFromBody, RpcError } from "./errors.ts";
import { maybeGzip } from "./compression.ts";
import { GrpcClient } from "./_grpc_client.ts";
import { MAX_MESSAGE_BYTES } from "./_call.ts";
import { MS_TIMEOUT_HEADERS } from "./_deadline.ts";
import {
  type Codec,
  decodeGreetResponse,
  encodeGreetRequest,
  GREET_METHOD,
  GREET_PATH,
  GREET_SERVICE,
} from "./greet.ts";

import { type Endpoint, endpointKey } from "../endpoint.ts";
import { concat } from "../bytes.ts";
import { errorText } from "../error_text.ts";

export { type Endpoint, endpointKey };

/**
 * Settings of {@linkcode createConsumer}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveProvider } from "./provider.ts";
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 });
 * const options: ConsumerOptions = {
 *   timeoutMs: 3000, serialization: "json", protocol: "grpc", http: "2",
 * };
 * const consumer = createConsumer(options);
 * assert.equal(await consumer.greet({ host: "127.0.0.1", port: provider.port }, "grpc"), "grpc");
 * consumer.close();
 * await provider.close();
 * ```
 */
export interface ConsumerOptions {
  /** Per-call deadline, milliseconds; sent as `Triple-Timeout-Ms` and friends. */
  timeoutMs: number;
  /** Wire format: `protobuf` (`application/proto`) or `json` (`application/json`). */
  serialization: "protobuf" | "json";
  /** `tri-service-group` to ask for (omitted when empty). */
  group?: string;
  /** `tri-service-version` to ask for (omitted when empty). */
  version?: string;
  /** Records each call attempt. */
  observer?: CallObserver;
  /**
   * Wire protocol: `triple` (Triple/Connect unary, the default here) or `grpc` (what
   * dubbo-go and Java consumers send; needs `http: "2"`).
   */
  protocol?: "triple" | "grpc";
  /** HTTP version: `1.1` (default for `triple`) or `2` (h2c prior knowledge). */
  http?: "1.1" | "2";
  /** Older spelling of `http`: `http1` = `1.1`, `h2c` = `2`. */
  transport?: "http1" | "h2c";
  /** gzip request messages of at least 1 KiB (responses are always accepted gzipped). */
  compressRequests?: boolean;
}

/**
 * The value of `tri-protocol-version` we send, as dubbo-js does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(TRI_PROTOCOL_VERSION, "1.0.0");
 * ```
 */
export const TRI_PROTOCOL_VERSION = "1.0.0";

/**
 * Calls providers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveProvider } from "./provider.ts";
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 });
 * const consumer: Consumer = createConsumer({ timeoutMs: 3000, serialization: "protobuf" });
 * assert.equal(await consumer.greet({ host: "127.0.0.1", port: provider.port }, "hi"), "hi");
 * consumer.close();
 * await provider.close();
 * ```
 */
export interface Consumer {
  /** Calls Greet on `endpoint`; resolves to the greeting, rejects with an {@linkcode RpcError}. */
  greet(endpoint: Endpoint, name: string): Promise<string>;
  /** Closes pooled connections. */
  close(): void;
}

function urlOf(endpoint: Endpoint): string {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return `http://${host}:${endpoint.port}${GREET_PATH}`;
}

/**
 * Reads a response body (fetch has already gunzipped it, as a stream) up to `limit`
 * bytes; past it the read stops, so a compressed bomb costs at most `limit`.
 */
async function readBounded(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new RpcError("resource_exhausted", `response larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

async function readError(response: Response): Promise<RpcError> {
  let text = "";
  try {
    text = new TextDecoder().decode(await readBounded(response, 64 * 1024));
  } catch {
    // unreadable or huge error body: the status decides
  }
  return errorFromBody(response.status, text);
}

/**
 * Creates a consumer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./errors.ts";
 * import { serveProvider } from "./provider.ts";
 * const provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0,
 * });
 * const consumer = createConsumer({ timeoutMs: 3000, serialization: "protobuf" });
 * try {
 *   assert.equal(await consumer.greet({ host: "127.0.0.1", port: provider.port }, "hi"), "hi");
 *   await provider.close();
 *   await assert.rejects(
 *     consumer.greet({ host: "127.0.0.1", port: provider.port }, "hi"),
 *     (error) => error instanceof RpcError && error.code === "unavailable",
 *   );
 * } finally {
 *   consumer.close();
 * }
 * ```
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const codec: Codec = options.serialization === "json" ? "json" : "proto";
  const target = {
    interface: GREET_SERVICE,
    method: GREET_METHOD,
    group: options.group ?? "",
    version: options.version ?? "",
  };
  const protocol = options.protocol ?? "triple";
  const http = options.http ?? (options.transport === "h2c" ? "2" : undefined) ??
    (protocol === "grpc" ? "2" : "1.1");
  if (protocol === "grpc" && http !== "2") {
    throw new TypeError("gRPC needs HTTP/2: use --http=2 with --protocol=grpc");
  }
  const routing: Record<string, string> = {};
  if (target.group) routing["tri-service-group"] = target.group;
  if (target.version) routing["tri-service-version"] = target.version;
  const wire: Wire = {
    codec,
    routing,
    timeoutMs: options.timeoutMs,
    compress: options.compressRequests ?? false,
  };
  const inner = protocol === "grpc" ? grpcConsumer(wire) : tripleConsumer(wire, http);
  return observed(options.observer ?? NO_CALLS, target, inner);
}

/** What both transports need to know. */
interface Wire {
  codec: Codec;
  /** `tri-service-group`/`-version` headers, when set. */
  routing: Record<string, string>;
  timeoutMs: number;
  compress: boolean;
}

function decodeGreeting(bytes: Uint8Array, codec: Codec): string {
  try {
    return decodeGreetResponse(bytes, codec).greeting;
  } catch (error) {
    throw new RpcError("internal", `cannot decode greet.GreetResponse: ${errorText(error)}`);
  }
}

/** gRPC over h2c, one pooled session per endpoint. */
function grpcConsumer(wire: Wire): Consumer {
  const grpc = new GrpcClient();
  const contentType = wire.codec === "json" ? "application/grpc+json" : "application/grpc+proto";
  return {
    greet: async (endpoint, name) =>
      decodeGreeting(
        await grpc.unary(endpoint, {
          path: GREET_PATH,
          contentType,
          headers: wire.routing,
          message: encodeGreetRequest(name, wire.codec),
          timeoutMs: wire.timeoutMs,
          compress: wire.compress,
          maxBytes: MAX_MESSAGE_BYTES,
        }),
        wire.codec,
      ),
    close: () => grpc.close(),
  };
}

/** Triple/Connect unary over HTTP/1.1 or h2c with `fetch` and a pooled client. */
function tripleConsumer(wire: Wire, http: "1.1" | "2"): Consumer {
  const client = http === "2"
    ? Deno.createHttpClient({ http1: false, http2: true })
    : Deno.createHttpClient({ http1: true, http2: false });
  const headers: Record<string, string> = {
    "content-type": wire.codec === "json" ? "application/json" : "application/proto",
    "tri-protocol-version": TRI_PROTOCOL_VERSION,
    "accept-encoding": "gzip",
    ...wire.routing,
  };
  for (const name of MS_TIMEOUT_HEADERS) headers[name] = String(wire.timeoutMs);

  async function call(endpoint: Endpoint, name: string): Promise<string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), wire.timeoutMs);
    try {
      const message = encodeGreetRequest(name, wire.codec);
      const { bytes: body, gzipped } = maybeGzip(message, wire.compress);
      const response = await fetch(urlOf(endpoint), {
        method: "POST",
        headers: gzipped ? { ...headers, "content-encoding": "gzip" } : headers,
        body: body as Uint8Array<ArrayBuffer>,
        client,
        signal: controller.signal,
      });
      if (response.status !== 200) throw await readError(response);
      return decodeGreeting(await readBounded(response, MAX_MESSAGE_BYTES), wire.codec);
    } catch (error) {
      if (error instanceof RpcError) throw error;
      if (controller.signal.aborted) {
        throw new RpcError(
          "deadline_exceeded",
          `call to ${endpointKey(endpoint)} exceeded its ${wire.timeoutMs}ms deadline`,
        );
      }
      throw new RpcError("unavailable", `${endpointKey(endpoint)}: ${errorText(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  return { greet: call, close: () => client.close() };
}

/** Wraps a consumer so each call is observed once, with its code. */
function observed(
  observer: CallObserver,
  target: CallTarget,
  inner: Consumer,
): Consumer {
  return {
    async greet(endpoint, name) {
      const end = observer.start(target);
      try {
        const greeting = await inner.greet(endpoint, name);
        end(null);
        return greeting;
      } catch (error) {
        end(error instanceof RpcError ? error.code : "unknown");
        throw error;
      }
    },
    close: () => inner.close(),
  };
}
