/**
 * The consumer's gRPC transport: unary calls over h2c prior knowledge with
 * `node:http2`, one pooled session per endpoint (reused by every call until it fails
 * or is closed), `grpc-timeout` plus a local deadline, gzip per message.
 *
 * Status rule (gRPC over HTTP/2): a trailers-only response's `grpc-status` wins over a
 * non-200 HTTP status, except HTTP 408, which stays `deadline_exceeded` (Dubbo Java
 * answers an expired deadline with 408).
 *
 * @module
 */
import http2 from "node:http2";
import type { Buffer } from "node:buffer";
import { codeOfGrpcFailure, codeOfGrpcStatus, RpcError } from "./errors.ts";
import { formatGrpcTimeout } from "./_deadline.ts";
import { concat } from "../bytes.ts";
import { gunzip, isGzip, maybeGzip } from "./compression.ts";
import { type Endpoint, endpointKey } from "../endpoint.ts";
import { errorText } from "../error_text.ts";
import { onlyGrpcFrame } from "./_replies.ts";

/**
 * One unary gRPC request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveProvider } from "./provider.ts";
 * import { decodeGreetResponse, encodeGreetRequest } from "./greet.ts";
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 });
 * const client = new GrpcClient();
 * const request: GrpcRequest = {
 *   path: "/greet.GreetService/Greet",
 *   contentType: "application/grpc+proto",
 *   headers: {},
 *   message: encodeGreetRequest("grpc", "proto"),
 *   timeoutMs: 3000,
 *   compress: false,
 *   maxBytes: 1024,
 * };
 * const reply = await client.unary({ host: "127.0.0.1", port: provider.port }, request);
 * assert.equal(decodeGreetResponse(reply, "proto").greeting, "grpc");
 * client.close();
 * await provider.close();
 * ```
 */
export interface GrpcRequest {
  path: string;
  /** `application/grpc+proto` or `application/grpc+json`. */
  contentType: string;
  /** Extra request headers (lowercase names). */
  headers: Record<string, string>;
  message: Uint8Array;
  timeoutMs: number;
  /** gzip the request message when it is ≥ 1 KiB. */
  compress: boolean;
  /** Largest response message accepted, after decompression. */
  maxBytes: number;
}

function decodeGrpcMessage(value: unknown): string {
  if (typeof value !== "string") return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A pool of h2c sessions, one per endpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveProvider } from "./provider.ts";
 * import { decodeGreetResponse, encodeGreetRequest } from "./greet.ts";
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 });
 * const client = new GrpcClient();
 * const request: GrpcRequest = {
 *   path: "/greet.GreetService/Greet",
 *   contentType: "application/grpc+proto",
 *   headers: {},
 *   message: encodeGreetRequest("grpc", "proto"),
 *   timeoutMs: 3000,
 *   compress: false,
 *   maxBytes: 1024,
 * };
 * const reply = await client.unary({ host: "127.0.0.1", port: provider.port }, request);
 * assert.equal(decodeGreetResponse(reply, "proto").greeting, "grpc");
 * client.close();
 * await provider.close();
 * ```
 */
export class GrpcClient {
  #sessions = new Map<string, http2.ClientHttp2Session>();

  #session(endpoint: Endpoint): http2.ClientHttp2Session {
    const key = endpointKey(endpoint);
    const existing = this.#sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    const session = http2.connect(`http://${host}:${endpoint.port}`);
    const forget = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    session.on("error", forget);
    session.on("close", forget);
    session.on("goaway", forget);
    this.#sessions.set(key, session);
    return session;
  }

  /** Sends one unary call; resolves to the response message, rejects with an RpcError. */
  unary(endpoint: Endpoint, request: GrpcRequest): Promise<Uint8Array> {
    const where = endpointKey(endpoint);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error: RpcError | undefined, value?: Uint8Array) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value!);
      };
      const { bytes, gzipped } = maybeGzip(request.message, request.compress);
      const frame = new Uint8Array(5 + bytes.length);
      frame[0] = gzipped ? 1 : 0;
      new DataView(frame.buffer).setUint32(1, bytes.length);
      frame.set(bytes, 5);
      const headers: http2.OutgoingHttpHeaders = {
        ":method": "POST",
        ":path": request.path,
        "content-type": request.contentType,
        "te": "trailers",
        "grpc-timeout": formatGrpcTimeout(request.timeoutMs),
        "grpc-accept-encoding": "gzip",
        ...request.headers,
      };
      if (gzipped) headers["grpc-encoding"] = "gzip";
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.#session(endpoint).request(headers);
      } catch (error) {
        settle(new RpcError("unavailable", `${where}: ${errorText(error)}`));
        return;
      }
      const timer = setTimeout(() => {
        settle(
          new RpcError(
            "deadline_exceeded",
            `call to ${where} exceeded its ${request.timeoutMs}ms deadline`,
          ),
        );
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, request.timeoutMs);
      let responseHeaders: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Uint8Array[] = [];
      let size = 0;
      stream.on("response", (h) => responseHeaders = h);
      stream.on("trailers", (t) => trailers = t);
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxBytes + 5) {
          settle(new RpcError("resource_exhausted", `response larger than ${request.maxBytes}`));
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (error: Error) => {
        settle(new RpcError("unavailable", `${where}: ${error.message}`, { cause: error }));
      });
      stream.on("close", () => {
        if (settled) return;
        if (!responseHeaders) {
          settle(new RpcError("unavailable", `${where}: stream closed without a response`));
          return;
        }
        try {
          settle(undefined, readResponse(responseHeaders, trailers, chunks, size, request));
        } catch (error) {
          settle(error as RpcError);
        }
      });
      stream.end(frame);
    });
  }

  /** Closes every pooled session. */
  close(): void {
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }
}

/** The message of a finished response, or throws its RpcError. */
function readResponse(
  headers: http2.IncomingHttpHeaders,
  trailers: http2.IncomingHttpHeaders | undefined,
  chunks: Uint8Array[],
  size: number,
  request: GrpcRequest,
): Uint8Array {
  const httpStatus = Number(headers[":status"]);
  const headerStatus = single(headers["grpc-status"]);
  if (httpStatus !== 200) {
    const code = codeOfGrpcFailure(httpStatus, headerStatus);
    const message = decodeGrpcMessage(single(headers["grpc-message"])) || `HTTP ${httpStatus}`;
    throw new RpcError(code, message);
  }
  const status = single(trailers?.["grpc-status"]) ?? headerStatus;
  const grpcMessage = single(trailers?.["grpc-message"]) ?? single(headers["grpc-message"]);
  if (status === undefined) throw new RpcError("internal", "response without grpc-status");
  if (status !== "0") {
    const code = /^\d{1,3}$/.test(status) ? codeOfGrpcStatus(Number(status)) : undefined;
    throw new RpcError(code ?? "unknown", decodeGrpcMessage(grpcMessage));
  }
  const body = concat(chunks, size);
  const payload = onlyGrpcFrame(body, "response", "internal", "response without a gRPC message");
  if (body[0] === 0) return payload;
  if (!isGzip(single(headers["grpc-encoding"]))) {
    throw new RpcError("internal", "compressed gRPC message without a known grpc-encoding");
  }
  return gunzip(payload, request.maxBytes);
}
