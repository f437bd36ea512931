/**
 * The Triple protocol family as Dubbo speaks it: Triple/Connect unary and gRPC over
 * HTTP/1.1 and h2c. A provider ({@linkcode serveProvider}) serves method specs (the
 * application's services, observed by the metrics, and the provider's own: health,
 * reflection, metadata); the one client ({@linkcode createClient}) calls any unary method
 * spec. One envelope codec, content types, timeouts, error mapping and compression are
 * shared by both sides. It stands on lib/net, lib/http1 and lib/h2 and knows no application
 * method by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { createClient, serveProvider, unaryMethod } from "./mod.ts";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const status = unaryMethod({
 *   service: "example.Status", method: "Get",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: (request) => create(HealthCheckResponseSchema, { status: request.service ? 1 : 2 }),
 * });
 * const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, services: [status] });
 * const client = createClient({ timeoutMs: 3000, serialization: "protobuf", protocol: "grpc" });
 * const endpoint = { host: "127.0.0.1", port: provider.port };
 * const reply = await client.call(status, endpoint, create(HealthCheckRequestSchema, { service: "x" }));
 * assert.equal(reply.status, 1);
 * client.close();
 * await provider.close();
 * ```
 *
 * @module
 */
export {
  type Code,
  codeOfGrpcFailure,
  codeOfGrpcStatus,
  codeOfHttpStatus,
  codeOfName,
  CODES,
  errorFromBody,
  grpcStatusOf,
  httpStatusOf,
  RpcError,
} from "./_errors.ts";
export { acceptsGzip, gunzip, gzip } from "./_compression.ts";
export { encodeEnvelope, type Envelope, EnvelopeDecoder, onlyEnvelope } from "./_envelope.ts";
export { type Protocol, type Serialization } from "./_content_type.ts";
export { formatGrpcTimeout, readTimeout } from "./_timeout.ts";
export {
  type CallContext,
  callTarget,
  type MessageCodec,
  type Method,
  type MethodSpec,
  pathOf,
  type StreamCall,
  type StreamingMethod,
  type StreamListener,
  type UnaryMethod,
} from "./_method.ts";
export {
  protobufCodec,
  type ProtobufMethod,
  protobufSpec,
  streamingMethod,
  unaryMethod,
} from "./_protobuf.ts";
export { MAX_MESSAGE_BYTES } from "./_unary_call.ts";
export { type Provider, type ProviderOptions, serveProvider } from "./_provider.ts";
export { type ClientOptions, createClient, type TripleClient } from "./_client.ts";
