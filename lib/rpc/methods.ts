/**
 * Extra unary methods a provider serves next to Greet, described generically: the
 * service and method names, the generated protobuf schemas of input and output, and a
 * handler. Used for `grpc.health.v1.Health/Check` and by the application-level
 * registry for `org.apache.dubbo.metadata.MetadataServiceV2/GetMetadataInfo`.
 *
 * A method is served at `POST /<service>/<method>` (also with a lower-case first
 * letter, as dubbo-go routes) over every wire the provider speaks
 * (Triple unary JSON/proto, gRPC proto/json, gzip or not), without group/version
 * routing and without call metrics (only Greet is the sample's business method).
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
import { RpcError } from "./errors.ts";
import type { Codec } from "./greet.ts";
import { errorText } from "../error_text.ts";

/**
 * One unary method: `handler` gets the decoded request and returns the response (or a
 * promise of it); throwing an {@linkcode RpcError} answers with its code and message,
 * any other error with `unknown`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import {
 *   HealthCheckRequestSchema,
 *   HealthCheckResponseSchema,
 * } from "../gen/grpc/health/v1/health_pb.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: () => create(HealthCheckResponseSchema, { status: 1 }),
 * });
 * assert.equal(pathOf(check), "/grpc.health.v1.Health/Check");
 * ```
 */
export interface UnaryMethod<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> extends MethodSchema<I, O> {
  /** Answers one request. */
  handler(request: MessageShape<I>): MessageShape<O> | Promise<MessageShape<O>>;
}

/**
 * What names a method and types its messages, shared by unary and streaming methods.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const schema: MethodSchema = {
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 * };
 * assert.equal(pathOf(schema), "/grpc.health.v1.Health/Check");
 * ```
 */
export interface MethodSchema<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> {
  /** Fully-qualified proto service name, e.g. `grpc.health.v1.Health`. */
  service: string;
  /** Method name as in the proto, e.g. `Check`. */
  method: string;
  /** Generated schema of the request message. */
  input: I;
  /** Generated schema of the response message. */
  output: O;
}

/**
 * Builds a {@linkcode UnaryMethod} with its types checked, erased for the provider's list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: (request) => create(HealthCheckResponseSchema, { status: request.service ? 3 : 1 }),
 * });
 * assert.equal(check.method, "Check");
 * ```
 */
export function unaryMethod<I extends DescMessage, O extends DescMessage>(
  method: UnaryMethod<I, O>,
): UnaryMethod {
  return method as unknown as UnaryMethod;
}

/**
 * `/<service>/<method>`, the request path of a method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(pathOf({ service: "greet.GreetService", method: "Greet" }), "/greet.GreetService/Greet");
 * ```
 */
export function pathOf(method: { service: string; method: string }): string {
  return `/${method.service}/${method.method}`;
}

/**
 * The paths a method is routed by: `/<service>/<Method>` and, as dubbo-go also routes,
 * the method name with a lower-case first letter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(pathsOf({ service: "greet.GreetService", method: "Greet" }), [
 *   "/greet.GreetService/Greet",
 *   "/greet.GreetService/greet",
 * ]);
 * ```
 */
export function pathsOf(method: { service: string; method: string }): string[] {
  const lower = method.method.charAt(0).toLowerCase() + method.method.slice(1);
  return [...new Set([pathOf(method), `/${method.service}/${lower}`])];
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes, runs and encodes one call of `method`. Rejects with an
 * {@linkcode RpcError}: `invalid_argument` for an undecodable request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: () => create(HealthCheckResponseSchema, { status: 1 }),
 * });
 * const reply = await invokeUnary(check, new TextEncoder().encode("{}"), "json");
 * assert.equal(new TextDecoder().decode(reply), '{"status":"SERVING"}');
 * ```
 */
export async function invokeUnary(
  method: UnaryMethod,
  body: Uint8Array,
  codec: Codec,
): Promise<Uint8Array> {
  let request;
  try {
    request = codec === "proto"
      ? fromBinary(method.input, body)
      : fromJsonString(method.input, textDecoder.decode(body).trim() || "{}", {
        ignoreUnknownFields: true,
      });
  } catch (error) {
    throw new RpcError(
      "invalid_argument",
      `cannot decode ${method.input.typeName}: ${errorText(error)}`,
    );
  }
  let response;
  try {
    response = await method.handler(request);
  } catch (error) {
    if (error instanceof RpcError) throw error;
    throw new RpcError("unknown", errorText(error));
  }
  return codec === "proto"
    ? toBinary(method.output, response)
    : textEncoder.encode(toJsonString(method.output, response, { useProtoFieldName: true }));
}
