/**
 * Method specs of generated protobuf messages: the codec of a message (binary, or protojson
 * with proto field names), and unary and streaming methods built from their schemas.
 *
 * @module
 */
import {
  type DescMessage,
  fromBinary,
  fromJsonString,
  type MessageShape,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import type {
  CallContext,
  MessageCodec,
  MethodSpec,
  StreamCall,
  StreamingMethod,
  StreamListener,
  UnaryMethod,
} from "./_method.ts";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The codec of a generated protobuf message: binary, or protojson with proto field names
 * (unknown fields ignored, an empty JSON body read as `{}`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const codec = protobufCodec(HealthCheckResponseSchema);
 * const json = codec.encode(create(HealthCheckResponseSchema, { status: 1 }), "json");
 * assert.equal(new TextDecoder().decode(json), '{"status":"SERVING"}');
 * assert.equal(codec.decode(new Uint8Array([8, 2]), "proto").status, 2);
 * ```
 */
export function protobufCodec<D extends DescMessage>(schema: D): MessageCodec<MessageShape<D>> {
  return {
    typeName: schema.typeName,
    encode: (message, serialization) =>
      serialization === "proto"
        ? toBinary(schema, message)
        : textEncoder.encode(toJsonString(schema, message, { useProtoFieldName: true })),
    decode: (bytes, serialization) =>
      serialization === "proto"
        ? fromBinary(schema, bytes)
        : fromJsonString(schema, textDecoder.decode(bytes).trim() || "{}", {
          ignoreUnknownFields: true,
        }),
  };
}

/**
 * A method of generated protobuf messages, named: what {@linkcode protobufSpec},
 * {@linkcode unaryMethod} and {@linkcode streamingMethod} are built from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const check: ProtobufMethod<typeof HealthCheckRequestSchema, typeof HealthCheckResponseSchema> = {
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 * };
 * assert.equal(protobufSpec(check).request.typeName, "grpc.health.v1.HealthCheckRequest");
 * ```
 */
export interface ProtobufMethod<I extends DescMessage, O extends DescMessage> {
  service: string;
  method: string;
  /** Generated schema of the request message. */
  input: I;
  /** Generated schema of the response message. */
  output: O;
}

/**
 * The spec of a method of generated protobuf messages: what a client needs to call it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const spec = protobufSpec({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 * });
 * assert.deepEqual(spec.response.decode(new Uint8Array([8, 1]), "proto").status, 1);
 * ```
 */
export function protobufSpec<I extends DescMessage, O extends DescMessage>(
  method: ProtobufMethod<I, O>,
): MethodSpec<MessageShape<I>, MessageShape<O>> {
  return {
    service: method.service,
    method: method.method,
    request: protobufCodec(method.input),
    response: protobufCodec(method.output),
    files: [method.input.file, method.output.file],
  };
}

/**
 * A unary method of generated protobuf messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * import { invokeUnary } from "./_method.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: (request) => create(HealthCheckResponseSchema, { status: request.service ? 3 : 1 }),
 * });
 * const context = { signal: new AbortController().signal };
 * const reply = await new Promise<Uint8Array>((answer, fail) =>
 *   invokeUnary(check, new TextEncoder().encode("{}"), "json", context, { reply: answer, fail })
 * );
 * assert.equal(new TextDecoder().decode(reply), '{"status":"SERVING"}');
 * ```
 */
export function unaryMethod<I extends DescMessage, O extends DescMessage>(
  method: ProtobufMethod<I, O> & {
    handler(
      request: MessageShape<I>,
      context: CallContext,
    ): MessageShape<O> | Promise<MessageShape<O>>;
  },
): UnaryMethod<MessageShape<I>, MessageShape<O>> {
  return { kind: "unary", ...protobufSpec(method), handle: method.handler };
}

/**
 * A streaming method of generated protobuf messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const watch = streamingMethod({
 *   service: "grpc.health.v1.Health", method: "Watch",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   open: (call) => ({ message: (request) => call.end("not_found", request.service), end() {}, closed() {} }),
 * });
 * assert.equal(watch.method, "Watch");
 * ```
 */
export function streamingMethod<I extends DescMessage, O extends DescMessage>(
  method: ProtobufMethod<I, O> & {
    open(call: StreamCall<MessageShape<O>>): StreamListener<MessageShape<I>>;
  },
): StreamingMethod<MessageShape<I>, MessageShape<O>> {
  return { kind: "streaming", ...protobufSpec(method), open: method.open };
}
