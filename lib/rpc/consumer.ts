/**
 * The Triple consumer: unary `greet.GreetService/Greet` calls over HTTP/1.1 or h2c
 * (prior knowledge), protobuf or JSON, with a per-call deadline sent as a header and
 * pooled keep-alive connections. Every failure surfaces as an {@linkcode RpcError}:
 * refused/reset connections as `unavailable`, a missed deadline as `deadline_exceeded`.
 *
 * @module
 */
import type { CallObserver } from "../observe.ts";
import { NO_CALLS } from "../observe.ts";
import { type Code, codeOfHttpStatus, isCode, RpcError } from "./errors.ts";
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

export { type Endpoint, endpointKey };

/** Settings of {@linkcode createConsumer}. */
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
  /** HTTP version: `http1` (default, what every Triple server speaks) or `h2c`. */
  transport?: "http1" | "h2c";
}

/** Calls providers. */
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

async function readError(response: Response): Promise<RpcError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (body && isCode(body.code)) {
      return new RpcError(body.code, typeof body.message === "string" ? body.message : "");
    }
    // dubbo-go names codes outside Connect's set "code_<n>" (a handler's error is code_17,
    // its CodeBizError): unknown to us, but the peer's message is kept.
    if (body && typeof body.code === "string" && /^code_\d{1,3}$/.test(body.code)) {
      return new RpcError("unknown", typeof body.message === "string" ? body.message : "");
    }
  } catch {
    // not a Connect error body; fall back to the status
  }
  const code: Code = codeOfHttpStatus(response.status);
  return new RpcError(code, `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}

/**
 * Creates a consumer.
 *
 * @example
 * ```ts
 * const consumer = createConsumer({ timeoutMs: 3000, serialization: "protobuf" });
 * try {
 *   console.log(await consumer.greet({ host: "127.0.0.1", port: 20000 }, "hello world"));
 * } catch (error) {
 *   if (error instanceof RpcError) console.error(`${error.code}: ${error.message}`);
 * } finally {
 *   consumer.close();
 * }
 * ```
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const codec: Codec = options.serialization === "json" ? "json" : "proto";
  const contentType = codec === "json" ? "application/json" : "application/proto";
  const observer = options.observer ?? NO_CALLS;
  const target = {
    interface: GREET_SERVICE,
    method: GREET_METHOD,
    group: options.group ?? "",
    version: options.version ?? "",
  };
  const client = options.transport === "h2c"
    ? Deno.createHttpClient({ http1: false, http2: true })
    : Deno.createHttpClient({ http1: true, http2: false });
  const headers: Record<string, string> = { "content-type": contentType };
  for (const name of MS_TIMEOUT_HEADERS) headers[name] = String(options.timeoutMs);
  if (target.group) headers["tri-service-group"] = target.group;
  if (target.version) headers["tri-service-version"] = target.version;

  async function call(endpoint: Endpoint, name: string): Promise<string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      const response = await fetch(urlOf(endpoint), {
        method: "POST",
        headers,
        body: encodeGreetRequest(name, codec),
        client,
        signal: controller.signal,
      });
      if (response.status !== 200) throw await readError(response);
      const bytes = new Uint8Array(await response.arrayBuffer());
      try {
        return decodeGreetResponse(bytes, codec).greeting;
      } catch (error) {
        throw new RpcError("internal", `cannot decode greet.GreetResponse: ${messageOf(error)}`);
      }
    } catch (error) {
      if (error instanceof RpcError) throw error;
      if (controller.signal.aborted) {
        throw new RpcError(
          "deadline_exceeded",
          `call to ${endpointKey(endpoint)} exceeded its ${options.timeoutMs}ms deadline`,
        );
      }
      throw new RpcError("unavailable", `${endpointKey(endpoint)}: ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async greet(endpoint, name) {
      const end = observer.start(target);
      try {
        const greeting = await call(endpoint, name);
        end(null);
        return greeting;
      } catch (error) {
        end((error as RpcError).code);
        throw error;
      }
    },
    close() {
      client.close();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
