/**
 * Method specs: what the provider serves and the client calls, described generically. A spec
 * names the service and method, gives the codecs of its request and response (protobuf
 * schemas by default; a spec may bring faster codecs of its own), and the descriptor files
 * reflection lists. A unary method adds a handler with a cancellation signal; a streaming one
 * (server streaming, or bidi as reflection is) opens a call per request stream. Specs of
 * generated protobuf messages are built in `_protobuf.ts`.
 *
 * A method is served at `POST /<service>/<method>` (also with a lower-case first letter, as
 * dubbo-go routes) over every wire the provider speaks (Triple unary JSON/proto, gRPC
 * proto/json, gzip or not); streaming methods over gRPC with protobuf only.
 *
 * @module
 */
import type { DescFile } from "@bufbuild/protobuf";
import { RpcError } from "./_errors.ts";
import type { Code } from "./_errors.ts";
import type { Serialization } from "./_content_type.ts";
import type { CallTarget } from "../observe.ts";
import { errorText } from "../error_text.ts";

/**
 * Encodes and decodes one message type in both serializations. `decode` throws on malformed
 * input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const upper: MessageCodec<string> = {
 *   typeName: "example.Text",
 *   encode: (text) => new TextEncoder().encode(text),
 *   decode: (bytes) => new TextDecoder().decode(bytes).toUpperCase(),
 * };
 * assert.equal(upper.decode(upper.encode("hi", "proto"), "proto"), "HI");
 * ```
 */
export interface MessageCodec<T> {
  /** Full proto name of the message, for error messages. */
  readonly typeName: string;
  encode(message: T, serialization: Serialization): Uint8Array;
  decode(bytes: Uint8Array, serialization: Serialization): T;
}

/**
 * What names a method and types its messages: enough for a client to call it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * import { protobufCodec } from "./_protobuf.ts";
 * const spec: MethodSpec = {
 *   service: "grpc.health.v1.Health", method: "Check",
 *   request: protobufCodec(HealthCheckRequestSchema), response: protobufCodec(HealthCheckResponseSchema),
 * };
 * assert.equal(pathOf(spec), "/grpc.health.v1.Health/Check");
 * ```
 */
export interface MethodSpec<I = unknown, O = unknown> {
  /** Fully-qualified proto service name, e.g. `grpc.health.v1.Health`. */
  service: string;
  /** Method name as in the proto, e.g. `Check`. */
  method: string;
  request: MessageCodec<I>;
  response: MessageCodec<O>;
  /** Generated descriptor files (`file_*`) that reflection serves for this method. */
  files?: readonly DescFile[];
}

/**
 * What a unary handler is told about its call besides the request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const controller = new AbortController();
 * const context: CallContext = { signal: controller.signal };
 * controller.abort(); // the call ended without the handler's answer (deadline, cancel)
 * assert.equal(context.signal.aborted, true);
 * ```
 */
export interface CallContext {
  /** Aborted when the call ends without the handler's answer (deadline, cancel, shutdown). */
  readonly signal: AbortSignal;
}

/**
 * A unary method: `handle` answers one request (or a promise of it); throwing an
 * {@linkcode RpcError} answers with its code and message, any other error with `unknown`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const echo: UnaryMethod<string, string> = {
 *   kind: "unary", service: "example.Echo", method: "Echo",
 *   request: { typeName: "example.Text", encode: (t) => new TextEncoder().encode(t), decode: (b) => new TextDecoder().decode(b) },
 *   response: { typeName: "example.Text", encode: (t) => new TextEncoder().encode(t), decode: (b) => new TextDecoder().decode(b) },
 *   handle: (text) => text,
 * };
 * const shout: UnaryMethod<string, string> = { ...echo, handle: (text) => Promise.resolve(text.toUpperCase()) };
 * const context = { signal: new AbortController().signal };
 * const replies: string[] = [];
 * for (const method of [echo, shout]) {
 *   await new Promise<void>((done, fail) =>
 *     invokeUnary(method, new TextEncoder().encode("hi"), "proto", context, {
 *       reply(bytes) {
 *         replies.push(new TextDecoder().decode(bytes));
 *         done();
 *       },
 *       fail,
 *     })
 *   );
 * }
 * assert.deepEqual(replies, ["hi", "HI"]);
 * ```
 */
export interface UnaryMethod<I = unknown, O = unknown> extends MethodSpec<I, O> {
  kind: "unary";
  /** Answers one request. */
  handle(request: I, context: CallContext): O | Promise<O>;
}

/**
 * The server's half of one streaming call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sent: string[] = [];
 * const call: StreamCall<string> = { send: (message) => sent.push(message), end() {}, ended: false };
 * call.send("SERVING");
 * assert.deepEqual(sent, ["SERVING"]);
 * ```
 */
export interface StreamCall<O = unknown> {
  /** Sends one response message. */
  send(message: O): void;
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
 * let ended = false;
 * const listener: StreamListener<string> = { message() {}, end: () => ended = true, closed() {} };
 * listener.end();
 * assert.equal(ended, true);
 * ```
 */
export interface StreamListener<I = unknown> {
  /** One request message arrived. */
  message(request: I): void;
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
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * import { streamingMethod } from "./_protobuf.ts";
 * const watch: StreamingMethod = streamingMethod({
 *   service: "grpc.health.v1.Health", method: "Watch",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   open: (call) => ({ message() {}, end: () => call.end(), closed() {} }),
 * });
 * assert.equal(watch.kind, "streaming");
 * ```
 */
export interface StreamingMethod<I = unknown, O = unknown> extends MethodSpec<I, O> {
  kind: "streaming";
  /** Starts one call. */
  open(call: StreamCall<O>): StreamListener<I>;
}

/**
 * Any method a provider serves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const kinds = (methods: Method[]) => methods.map((m) => m.kind);
 * assert.deepEqual(kinds([]), []);
 * ```
 */
export type Method = UnaryMethod | StreamingMethod;

/**
 * What the metrics record a call of `method` as, in `group` and `version`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(callTarget({ service: "pkg.Service", method: "Call" }), {
 *   interface: "pkg.Service", method: "Call", group: "", version: "",
 * });
 * ```
 */
export function callTarget(
  method: { service: string; method: string },
  group = "",
  version = "",
): CallTarget {
  return { interface: method.service, method: method.method, group, version };
}

/**
 * `/<service>/<method>`, the request path of a method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(pathOf({ service: "pkg.Service", method: "Call" }), "/pkg.Service/Call");
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
 * assert.deepEqual(pathsOf({ service: "pkg.Service", method: "Call" }), [
 *   "/pkg.Service/Call",
 *   "/pkg.Service/call",
 * ]);
 * ```
 */
export function pathsOf(method: { service: string; method: string }): string[] {
  const lower = method.method.charAt(0).toLowerCase() + method.method.slice(1);
  return [...new Set([pathOf(method), `/${method.service}/${lower}`])];
}

/**
 * Where the outcome of {@linkcode invokeUnary} goes: exactly one of the two is called.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./_errors.ts";
 * const outcomes: string[] = [];
 * const answer: Answer = {
 *   reply: (bytes) => outcomes.push(`${bytes.length} bytes`),
 *   fail: (error) => outcomes.push(error.code),
 * };
 * answer.fail(new RpcError("unknown", "random error"));
 * assert.deepEqual(outcomes, ["unknown"]);
 * ```
 */
export interface Answer {
  /** The encoded response message. */
  reply(bytes: Uint8Array): void;
  /** Why there is none. */
  fail(error: RpcError): void;
}

/**
 * Decodes, runs and encodes one call of `method`, answering `answer` (synchronously when the
 * handler answers synchronously): `fail` gets `invalid_argument` for an undecodable request,
 * the handler's {@linkcode RpcError}, or `unknown` for any other error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * import { unaryMethod } from "./_protobuf.ts";
 * import type { RpcError } from "./_errors.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: () => create(HealthCheckResponseSchema, { status: 1 }),
 * });
 * const context = { signal: new AbortController().signal };
 * const outcomes: string[] = [];
 * const answer = {
 *   reply: (bytes: Uint8Array) => outcomes.push(`reply ${bytes.join(",")}`),
 *   fail: (error: RpcError) => outcomes.push(error.code),
 * };
 * invokeUnary(check, new Uint8Array(0), "proto", context, answer);
 * invokeUnary(check, new TextEncoder().encode("["), "json", context, answer);
 * assert.deepEqual(outcomes, ["reply 8,1", "invalid_argument"]);
 * ```
 */
export function invokeUnary(
  method: UnaryMethod,
  body: Uint8Array,
  serialization: Serialization,
  context: CallContext,
  answer: Answer,
): void {
  let request: unknown;
  try {
    request = method.request.decode(body, serialization);
  } catch (error) {
    const message = `cannot decode ${method.request.typeName}: ${errorText(error)}`;
    return answer.fail(new RpcError("invalid_argument", message));
  }
  let response: unknown;
  try {
    response = method.handle(request, context);
  } catch (error) {
    return answer.fail(handlerError(error));
  }
  if (response instanceof Promise) {
    response.then(
      (value) => encodeAnswer(method, value, serialization, answer),
      (error) => answer.fail(handlerError(error)),
    );
  } else encodeAnswer(method, response, serialization, answer);
}

function encodeAnswer(
  method: UnaryMethod,
  response: unknown,
  serialization: Serialization,
  answer: Answer,
): void {
  let bytes: Uint8Array | undefined;
  let failure: unknown;
  try {
    bytes = method.response.encode(response, serialization);
  } catch (error) {
    failure = error;
  }
  if (bytes) answer.reply(bytes);
  else answer.fail(asRpcError(failure));
}

function asRpcError(error: unknown): RpcError {
  return error instanceof RpcError ? error : new RpcError("unknown", errorText(error));
}

/**
 * What a handler threw: an RpcError as it is (classified by its code), anything else
 * `unknown` on the wire and a business failure in the metrics, as dubbo-go counts a
 * handler's plain error and Java a service's exception.
 */
function handlerError(error: unknown): RpcError {
  return error instanceof RpcError
    ? error
    : new RpcError("unknown", errorText(error), { business: true });
}
