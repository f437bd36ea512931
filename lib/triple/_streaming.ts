/**
 * Streaming gRPC calls (server streaming and bidi) over a transport's streamed reply, for
 * the methods that need them: `grpc.health.v1.Health/Watch` and server reflection.
 * Messages are protobuf, in envelopes, gzip accepted per message; each request message is
 * at most 4 MiB after decompression.
 *
 * @module
 */
import type { Exchange, ReplySink, RequestHead, StreamedReply } from "../net/mod.ts";
import { type Code, grpcStatusOf, RpcError } from "./_errors.ts";
import { isGzip, isSupportedEncoding } from "./_compression.ts";
import { encodeGrpcMessage } from "./_replies.ts";
import { encodeEnvelope, EnvelopeDecoder, openEnvelope } from "./_envelope.ts";
import type { StreamCall, StreamingMethod } from "./_method.ts";
import { MAX_MESSAGE_BYTES } from "./_unary_call.ts";
import { parseContentType } from "./_content_type.ts";
import { errorText } from "../error_text.ts";

const RESPONSE_HEAD = {
  status: 200,
  headers: { "content-type": "application/grpc+proto", "grpc-accept-encoding": "gzip" },
};

/**
 * One streaming call being served: the transport's {@linkcode Exchange}, and the server's
 * {@linkcode StreamCall} (to end it on shutdown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * const served: ServedStream = {
 *   exchange: ANSWERED, call: { send() {}, end() {}, ended: true },
 * };
 * assert.equal(served.call.ended, true);
 * ```
 */
export interface ServedStream {
  exchange: Exchange;
  call: StreamCall;
}

/**
 * Serves one streaming call of `method` on `stream` (a transport's streamed reply). The
 * response content type is fixed (`application/grpc+proto`); only protobuf is spoken here.
 * `onClosed` runs once when the transport is done with the call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * import { streamingMethod } from "./_protobuf.ts";
 * import { encodeEnvelope } from "./_envelope.ts";
 * // Answers every request message with SERVING, and ends the call when the client does.
 * const watch = streamingMethod({
 *   service: "grpc.health.v1.Health", method: "Watch",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   open: (call) => ({
 *     message: () => call.send(create(HealthCheckResponseSchema, { status: 1 })),
 *     end: () => call.end(),
 *     closed() {},
 *   }),
 * });
 * const wire: string[] = [];
 * const { exchange } = serveStreaming(watch, {
 *   method: "POST", path: "/grpc.health.v1.Health/Watch", http2: true, contentLength: undefined,
 *   header: (name) => name === "content-type" ? "application/grpc" : undefined,
 * }, (head) => ({
 *   write: (chunk) => wire.push(`${head.status} message of ${chunk.length - 5} bytes`),
 *   end: (trailers) => wire.push(`grpc-status ${trailers?.["grpc-status"]}`),
 * }), () => {});
 * exchange.data(encodeEnvelope({ compressed: false, message: new Uint8Array(0) }));
 * exchange.end();
 * assert.deepEqual(wire, ["200 message of 2 bytes", "grpc-status 0"]);
 * ```
 */
export function serveStreaming(
  method: StreamingMethod,
  head: RequestHead,
  stream: NonNullable<ReplySink["stream"]>,
  onClosed: () => void,
): ServedStream {
  let ended = false;
  let closed = false;
  let reply: StreamedReply | undefined;
  const started = () => reply ??= stream(RESPONSE_HEAD);
  const call: StreamCall = {
    get ended() {
      return ended;
    },
    send(message) {
      if (ended) return;
      const bytes = method.response.encode(message, "proto");
      started().write(encodeEnvelope({ compressed: false, message: bytes }));
    },
    end(code?: Code, message = "") {
      if (ended) return;
      ended = true;
      started().end({
        "grpc-status": String(code ? grpcStatusOf(code) : 0),
        "grpc-message": encodeGrpcMessage(message),
      });
    },
  };
  const rejected = rejection(head);
  if (rejected) {
    call.end("unimplemented", rejected);
    return { call, exchange: closedExchange(() => onClosed()) };
  }
  const gzipped = isGzip(head.header("grpc-encoding"));
  const decoder = new EnvelopeDecoder(MAX_MESSAGE_BYTES);
  const listener = method.open(call);
  const exchange: Exchange = {
    get done() {
      return ended;
    },
    data(chunk) {
      if (ended) return;
      try {
        for (const envelope of decoder.push(chunk)) {
          const bytes = openEnvelope(envelope, gzipped, MAX_MESSAGE_BYTES);
          listener.message(method.request.decode(bytes, "proto"));
        }
      } catch (error) {
        const failure = error instanceof RpcError
          ? error
          : new RpcError("invalid_argument", `cannot decode request: ${errorText(error)}`);
        call.end(failure.code, failure.message);
      }
    },
    end: () => listener.end(),
    abort() {
      if (closed) return;
      closed = true;
      ended = true;
      onClosed();
      listener.closed();
    },
  };
  return { call, exchange };
}

/** Why a streaming request cannot be served, or `undefined` when it can. */
function rejection(head: RequestHead): string | undefined {
  const type = parseContentType(head.header("content-type"));
  if (type?.protocol !== "grpc" || type.serialization !== "proto") {
    return "streaming methods speak application/grpc+proto only";
  }
  if (!isSupportedEncoding(head.header("grpc-encoding"))) {
    return "unsupported compression; accepted: gzip, identity";
  }
  return undefined;
}

/** The exchange of a call answered at open: body dropped, `onClosed` once the stream goes. */
function closedExchange(onClosed: () => void): Exchange {
  let closed = false;
  return {
    done: true,
    data() {},
    end() {},
    abort() {
      if (closed) return;
      closed = true;
      onClosed();
    },
  };
}
