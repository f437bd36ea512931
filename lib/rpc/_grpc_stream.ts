/**
 * Streaming gRPC methods on an HTTP/2 stream (server streaming and bidi), for the two
 * services that need them: `grpc.health.v1.Health/Watch` and server reflection.
 * Messages are protobuf, length-prefixed, gzip accepted per message; each request
 * message is at most 4 MiB after decompression.
 *
 * @module
 */
import type http2 from "node:http2";
import type { Buffer } from "node:buffer";
import { type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { type Code, grpcStatusOf, RpcError } from "./errors.ts";
import { gunzip, isGzip, isSupportedEncoding } from "./compression.ts";
import { concat } from "../bytes.ts";
import { MAX_MESSAGE_BYTES } from "./_call.ts";
import { encodeGrpcMessage } from "./_replies.ts";
import { errorText } from "../error_text.ts";
import type { MethodSchema } from "./methods.ts";

/**
 * The server's half of one streaming call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const sent: number[] = [];
 * const call: StreamCall<typeof HealthCheckResponseSchema> = {
 *   send: (message) => sent.push(message.status),
 *   end() {},
 *   ended: false,
 * };
 * call.send(create(HealthCheckResponseSchema, { status: 1 }));
 * assert.deepEqual(sent, [1]);
 * ```
 */
export interface StreamCall<O extends DescMessage = DescMessage> {
  /** Sends one response message. */
  send(message: MessageShape<O>): void;
  /** Ends the call with `code` (default OK). Later sends are ignored. */
  end(code?: Code, message?: string): void;
  /** Whether the call has ended (either side). */
  readonly ended: boolean;
}

/**
 * What a streaming method is told about its call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthCheckRequestSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * let ended = false;
 * const listener: StreamListener<typeof HealthCheckRequestSchema> = {
 *   message() {}, end: () => ended = true, closed() {},
 * };
 * listener.end();
 * assert.equal(ended, true);
 * ```
 */
export interface StreamListener<I extends DescMessage = DescMessage> {
  /** One request message arrived. */
  message(request: MessageShape<I>): void;
  /** The client finished sending (half-close). */
  end(): void;
  /** The call is gone (client cancel, connection loss, or server end). */
  closed(): void;
}

/**
 * A streaming method: `open` is called once per call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   HealthCheckRequestSchema,
 *   HealthCheckResponseSchema,
 * } from "../gen/grpc/health/v1/health_pb.ts";
 * const method: StreamMethod = streamMethod({
 *   service: "grpc.health.v1.Health", method: "Watch",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   open: (call) => ({ message() {}, end: () => call.end(), closed() {} }),
 * });
 * assert.equal(method.method, "Watch");
 * ```
 */
export interface StreamMethod<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> extends MethodSchema<I, O> {
  /** Starts one call. */
  open(call: StreamCall<O>): StreamListener<I>;
}

/**
 * Builds a {@linkcode StreamMethod} with its types checked, erased for the provider's list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   HealthCheckRequestSchema,
 *   HealthCheckResponseSchema,
 * } from "../gen/grpc/health/v1/health_pb.ts";
 * const watch = streamMethod({
 *   service: "grpc.health.v1.Health", method: "Watch",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   open: (call) => ({ message: (request) => call.end("not_found", request.service), end() {}, closed() {} }),
 * });
 * assert.equal(watch.service, "grpc.health.v1.Health");
 * ```
 */
export function streamMethod<I extends DescMessage, O extends DescMessage>(
  method: StreamMethod<I, O>,
): StreamMethod {
  return method as unknown as StreamMethod;
}

/**
 * Serves one HTTP/2 stream with `method`. The response content type is fixed
 * (`application/grpc+proto`); only protobuf is spoken here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
 * import {
 *   HealthCheckRequestSchema,
 *   HealthCheckResponseSchema,
 * } from "../gen/grpc/health/v1/health_pb.ts";
 * // Answers every request message with SERVING, and ends the call when the client does.
 * const method: StreamMethod = streamMethod({
 *   service: "grpc.health.v1.Health", method: "Watch",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   open(call: StreamCall<typeof HealthCheckResponseSchema>) {
 *     const listener: StreamListener<typeof HealthCheckRequestSchema> = {
 *       message: () => call.send(create(HealthCheckResponseSchema, { status: 1 })),
 *       end: () => call.end(),
 *       closed() {},
 *     };
 *     return listener;
 *   },
 * });
 * const server = http2.createServer();
 * server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
 *   serveGrpcStream(stream, (name) => headers[name] as string | undefined, method);
 * });
 * await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
 * const { port } = server.address() as { port: number };
 * const client = http2.connect(`http://127.0.0.1:${port}`);
 * const call = client.request({
 *   ":method": "POST", ":path": "/grpc.health.v1.Health/Watch", "content-type": "application/grpc",
 * });
 * const message = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema));
 * const frame = new Uint8Array(5 + message.length);
 * frame.set(message, 5);
 * call.end(frame);
 * const chunks: Uint8Array[] = [];
 * call.on("data", (chunk: Uint8Array) => chunks.push(chunk));
 * await new Promise((done) => call.on("end", done));
 * const reply = fromBinary(HealthCheckResponseSchema, Uint8Array.from(chunks.flatMap((c) => [...c])).subarray(5));
 * assert.equal(reply.status, 1);
 * client.close();
 * await new Promise((done) => server.close(done));
 * ```
 */
export function serveGrpcStream(
  stream: http2.ServerHttp2Stream,
  header: (name: string) => string | undefined,
  method: StreamMethod,
): StreamCall {
  let ended = false;
  let responded = false;
  const respondHeaders = {
    ":status": 200,
    "content-type": "application/grpc+proto",
    "grpc-accept-encoding": "gzip",
  };
  const call: StreamCall = {
    get ended() {
      return ended || stream.destroyed || stream.closed;
    },
    send(message) {
      if (call.ended) return;
      const bytes = toBinary(method.output, message);
      const frame = new Uint8Array(5 + bytes.length);
      new DataView(frame.buffer).setUint32(1, bytes.length);
      frame.set(bytes, 5);
      if (!responded) {
        responded = true;
        stream.respond(respondHeaders, { waitForTrailers: true });
      }
      stream.write(frame);
    },
    end(code, message = "") {
      if (call.ended) return;
      ended = true;
      const trailers = {
        "grpc-status": String(code ? grpcStatusOf(code) : 0),
        "grpc-message": encodeGrpcMessage(message),
      };
      try {
        if (!responded) {
          responded = true;
          stream.respond({ ...respondHeaders, ...trailers }, { endStream: true });
          return;
        }
        stream.once("wantTrailers", () => stream.sendTrailers(trailers));
        stream.end();
      } catch {
        stream.destroy();
      }
    },
  };
  const type = header("content-type")?.split(";")[0].trim().toLowerCase();
  if (type !== "application/grpc" && type !== "application/grpc+proto") {
    call.end("unimplemented", "streaming methods speak application/grpc+proto only");
    stream.resume();
    return call;
  }
  const encoding = header("grpc-encoding");
  if (!isSupportedEncoding(encoding)) {
    call.end("unimplemented", "unsupported compression; accepted: gzip, identity");
    stream.resume();
    return call;
  }
  const listener = method.open(call);
  readFrames(stream, call, isGzip(encoding), (bytes) => {
    listener.message(fromBinary(method.input, bytes));
  });
  stream.on("end", () => listener.end());
  stream.on("close", () => {
    ended = true;
    listener.closed();
  });
  stream.on("error", () => {});
  return call;
}

/**
 * Hands each request frame's message to `deliver` as it completes; a malformed or
 * oversized frame, or a `deliver` that throws, ends `call`.
 */
function readFrames(
  stream: http2.ServerHttp2Stream,
  call: StreamCall,
  gzipped: boolean,
  deliver: (message: Uint8Array) => void,
): void {
  // Chunks are joined only once a whole frame is there (no copy per chunk).
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let needed = 5;
  stream.on("data", (chunk: Buffer) => {
    if (call.ended) return;
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < needed) return;
    let buffered = concat(pending, pendingBytes);
    try {
      buffered = deframe(buffered, gzipped, deliver);
      pending = buffered.length > 0 ? [buffered] : [];
      pendingBytes = buffered.length;
      needed = buffered.length < 5
        ? 5
        : 5 + new DataView(buffered.buffer, buffered.byteOffset, 5).getUint32(1);
    } catch (error) {
      const failure = error instanceof RpcError
        ? error
        : new RpcError("invalid_argument", `cannot decode request: ${errorText(error)}`);
      call.end(failure.code, failure.message);
    }
  });
}

/** Delivers every complete frame of `buffer`; returns the incomplete rest. */
function deframe(
  buffer: Uint8Array,
  gzipped: boolean,
  deliver: (message: Uint8Array) => void,
): Uint8Array {
  let offset = 0;
  while (buffer.length - offset >= 5) {
    const flag = buffer[offset];
    const length = new DataView(buffer.buffer, buffer.byteOffset + offset + 1, 4).getUint32(0);
    if (length > MAX_MESSAGE_BYTES) {
      throw new RpcError("resource_exhausted", `message larger than ${MAX_MESSAGE_BYTES} bytes`);
    }
    if (buffer.length - offset - 5 < length) break;
    const payload = buffer.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if (flag === 0) deliver(payload);
    else if (flag === 1 && gzipped) deliver(gunzip(payload, MAX_MESSAGE_BYTES));
    else throw new RpcError("internal", `unexpected gRPC frame flags ${flag}`);
  }
  return buffer.slice(offset);
}
