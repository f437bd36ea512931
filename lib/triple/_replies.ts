/**
 * The provider's wire replies (Triple/Connect unary and gRPC, success and error, gzip
 * when the peer accepts it) and the unwrapping of a request body into its message.
 *
 * @module
 */
import type { Reply } from "../net/mod.ts";
import { type Code, grpcStatusOf, httpStatusOf } from "./_errors.ts";
import { gunzip, maybeGzip } from "./_compression.ts";
import type { Protocol } from "./_content_type.ts";
import { encodeEnvelope, onlyEnvelope, openEnvelope } from "./_envelope.ts";

const textEncoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * A Triple/Connect unary JSON error reply with the dubbo-go HTTP status: `code` is what
 * dubbo-go and Connect clients read, the numeric gRPC `status` what dubbo-js reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reply = connectError("unavailable", "down");
 * assert.equal(reply.status, 503);
 * assert.deepEqual(JSON.parse(new TextDecoder().decode(reply.body)), {
 *   code: "unavailable", status: 14, message: "down",
 * });
 * ```
 */
export function connectError(code: Code, message: string, status = httpStatusOf(code)): Reply {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: textEncoder.encode(JSON.stringify({ code, status: grpcStatusOf(code), message })),
  };
}

/**
 * Percent-encodes a grpc-message value as the gRPC HTTP/2 spec asks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(encodeGrpcMessage("50% é"), "50%25 %C3%A9");
 * ```
 */
export function encodeGrpcMessage(message: string): string {
  return Array.from(
    textEncoder.encode(message),
    (byte) =>
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
  ).join("");
}

/**
 * A gRPC "trailers-only" error reply: HTTP 200, status in the headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reply = grpcError("application/grpc", "unknown", "random error");
 * assert.equal(reply.headers["grpc-status"], "2");
 * assert.equal(reply.body.length, 0);
 * ```
 */
export function grpcError(contentType: string, code: Code, message: string): Reply {
  return {
    status: 200,
    headers: {
      "content-type": contentType,
      "grpc-status": String(grpcStatusOf(code)),
      "grpc-message": encodeGrpcMessage(message),
    },
    body: EMPTY,
  };
}

/**
 * An error reply in the request's protocol (JSON body, or gRPC trailers-only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(errorReply("connect", "application/json", "not_found", "x").status, 404);
 * ```
 */
export function errorReply(
  protocol: Protocol,
  contentType: string,
  code: Code,
  message: string,
): Reply {
  return protocol === "grpc" ? grpcError(contentType, code, message) : connectError(code, message);
}

/**
 * The successful reply; the message is gzipped when `gzipOk` and it is ≥ 1 KiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const reply = successReply("grpc", "application/grpc", new Uint8Array([8, 1]), false);
 * assert.deepEqual(reply.body, new Uint8Array([0, 0, 0, 0, 2, 8, 1]));
 * assert.equal(reply.trailers?.["grpc-status"], "0");
 * ```
 */
export function successReply(
  protocol: Protocol,
  contentType: string,
  plain: Uint8Array,
  gzipOk: boolean,
): Reply {
  const { bytes: message, gzipped } = maybeGzip(plain, gzipOk);
  if (protocol === "connect") {
    const headers: Record<string, string> = {
      "content-type": contentType,
      "accept-encoding": "gzip",
    };
    if (gzipped) headers["content-encoding"] = "gzip";
    return { status: 200, headers, body: message };
  }
  const headers: Record<string, string> = {
    "content-type": contentType,
    "grpc-accept-encoding": "gzip",
  };
  if (gzipped) headers["grpc-encoding"] = "gzip";
  return {
    status: 200,
    headers,
    body: encodeEnvelope({ compressed: gzipped, message }),
    trailers: { "grpc-status": "0", "grpc-message": "" },
  };
}

/**
 * The request message inside a body: the single gRPC envelope's message (or the whole
 * Triple body), gunzipped when compressed, at most `maxBytes` once
 * decompressed. Throws an `RpcError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = new Uint8Array([0, 0, 0, 0, 2, 8, 1]);
 * assert.deepEqual(unwrapMessage(frame, "grpc", false, 1024), new Uint8Array([8, 1]));
 * assert.deepEqual(unwrapMessage(frame, "connect", false, 1024), frame);
 * ```
 */
export function unwrapMessage(
  body: Uint8Array,
  protocol: Protocol,
  gzipped: boolean,
  maxBytes: number,
): Uint8Array {
  if (protocol === "connect") return gzipped ? gunzip(body, maxBytes) : body;
  const envelope = onlyEnvelope(body, "request", "invalid_argument", "missing gRPC message frame");
  return openEnvelope(envelope, gzipped, maxBytes);
}
