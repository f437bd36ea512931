/**
 * The Greet service of the dubbo-go sample, as an ordinary Triple method spec: the
 * `greet.GreetService` schema (generated from `proto/greet/greet.proto` into
 * `lib/gen/greet/greet_pb.ts`), codecs for its two messages that are faster than the generic
 * protobuf ones on the provider's hot path, and the provider's handler (echo, a random
 * failure rate, a business delay cancelled with the call).
 *
 * @module
 */
import {
  create,
  type DescMessage,
  fromBinary,
  fromJsonString,
  type Message,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { decodeUtf8, encodeUtf8 } from "../bytes.ts";
import { type MessageCodec, type Serialization, type UnaryMethod } from "../triple/mod.ts";
import {
  file_greet_greet,
  type GreetRequest,
  GreetRequestSchema,
  type GreetResponse,
  GreetResponseSchema,
} from "../gen/greet/greet_pb.ts";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

function encode(
  schema: DescMessage,
  message: Message,
  serialization: Serialization,
): Uint8Array<ArrayBuffer> {
  if (serialization === "proto") return toBinary(schema, message) as Uint8Array<ArrayBuffer>;
  // Proto field names, like dubbo-go's protojson (UseProtoNames); identical here anyway.
  return textEncoder.encode(JSON.stringify(toJson(schema, message, { useProtoFieldName: true })));
}

function decode(schema: DescMessage, bytes: Uint8Array, serialization: Serialization): Message {
  if (serialization === "proto") return fromBinary(schema, bytes);
  const text = textDecoder.decode(bytes);
  if (text.trim() === "") throw new Error("zero-length payload is not a valid JSON object");
  return fromJsonString(schema, text, { ignoreUnknownFields: true });
}

/**
 * Serializes a request message `{name}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(encodeGreetRequest("hi", "proto"), new Uint8Array([10, 2, 104, 105]));
 * ```
 */
export function encodeGreetRequest(
  name: string,
  serialization: Serialization,
): Uint8Array<ArrayBuffer> {
  return encode(GreetRequestSchema, create(GreetRequestSchema, { name }), serialization);
}

/**
 * Parses a request; throws on malformed input (invalid protobuf, invalid JSON, wrong types).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decodeGreetRequest(new TextEncoder().encode('{"name":"hi"}'), "json").name, "hi");
 * assert.throws(() => decodeGreetRequest(new Uint8Array([10, 9]), "proto"));
 * ```
 */
export function decodeGreetRequest(bytes: Uint8Array, serialization: Serialization): GreetRequest {
  return decode(GreetRequestSchema, bytes, serialization) as GreetRequest;
}

/**
 * The `name` of a request: the provider's hot path. For JSON, a plain `JSON.parse`
 * settles the common case (an object whose `name` is a string, absent or null; other
 * keys ignored like protojson with `ignoreUnknownFields`); anything else goes through
 * the full protojson parser, which gives the precise error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decodeGreetRequestName(new TextEncoder().encode('{"name":"hi","x":1}'), "json"), "hi");
 * ```
 */
export function decodeGreetRequestName(bytes: Uint8Array, serialization: Serialization): string {
  if (serialization === "json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodeUtf8(bytes, textDecoder));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      const name = (parsed as { name?: unknown }).name;
      if (typeof name === "string") return name;
      if (name === undefined || name === null) return "";
    }
  }
  return decodeGreetRequest(bytes, serialization).name;
}

/**
 * Serializes a response message `{greeting}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(new TextDecoder().decode(encodeGreetResponse("hi", "json")), '{"greeting":"hi"}');
 * ```
 */
export function encodeGreetResponse(
  greeting: string,
  serialization: Serialization,
): Uint8Array<ArrayBuffer> {
  if (serialization === "json") {
    // What protojson writes: proto3 omits a default (empty) string.
    return encodeUtf8(greeting === "" ? "{}" : `{"greeting":${JSON.stringify(greeting)}}`);
  }
  return encode(GreetResponseSchema, create(GreetResponseSchema, { greeting }), serialization);
}

/**
 * Parses a response; throws on malformed input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decodeGreetResponse(encodeGreetResponse("hi", "proto"), "proto").greeting, "hi");
 * ```
 */
export function decodeGreetResponse(
  bytes: Uint8Array,
  serialization: Serialization,
): GreetResponse {
  return decode(GreetResponseSchema, bytes, serialization) as GreetResponse;
}

/** The request's `name`, as the provider reads it and the consumer sends it. */
const GREET_REQUEST: MessageCodec<string> = {
  typeName: GreetRequestSchema.typeName,
  encode: encodeGreetRequest,
  decode: decodeGreetRequestName,
};

/** The response's `greeting`. */
const GREET_RESPONSE: MessageCodec<string> = {
  typeName: GreetResponseSchema.typeName,
  encode: encodeGreetResponse,
  decode: (bytes, serialization) => decodeGreetResponse(bytes, serialization).greeting,
};

/**
 * `greet.GreetService/Greet` as the consumer calls it: the name goes in, the greeting
 * comes back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(GREET.request.decode(GREET.request.encode("hi", "json"), "json"), "hi");
 * assert.equal(`/${GREET.service}/${GREET.method}`, "/greet.GreetService/Greet");
 * ```
 */
export const GREET = {
  service: "greet.GreetService",
  method: "Greet",
  request: GREET_REQUEST,
  response: GREET_RESPONSE,
  files: [file_greet_greet],
} as const;

/**
 * How the provider's Greet behaves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const behaviour: GreetBehaviour = { failureRate: 1, delayMs: 0 };
 * const context = { signal: new AbortController().signal };
 * assert.throws(() => greetService(behaviour).handle("x", context), /random error/);
 * ```
 */
export interface GreetBehaviour {
  /** Share of calls that fail with `unknown` / `random error`, 0..1. */
  failureRate: number;
  /** Business delay of each successful call, milliseconds. */
  delayMs: number;
  /** Source of randomness in [0, 1); tests may pin it. */
  random?: () => number;
}

/**
 * Greet as the provider serves it: echoes the name into the greeting after `delayMs`, except
 * for a `failureRate` share of calls, which fail with `unknown` / `random error` before the
 * delay (as the sample does). The delay ends early when the call does (deadline, cancel).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const greet = greetService({ failureRate: 0, delayMs: 0 });
 * assert.equal(greet.handle("Dubbo", { signal: new AbortController().signal }), "Dubbo");
 * const slow = greetService({ failureRate: 0, delayMs: 60_000 });
 * const call = new AbortController();
 * const answer = slow.handle("late", { signal: call.signal });
 * call.abort(); // the deadline passed: the delay's timer is cleared
 * assert.equal(await answer, "late");
 * ```
 */
export function greetService(behaviour: GreetBehaviour): UnaryMethod<string, string> {
  const random = behaviour.random ?? Math.random;
  const { failureRate, delayMs } = behaviour;
  return {
    kind: "unary",
    ...GREET,
    handle(name, context) {
      // A plain error: `unknown` on the wire, a business failure in the metrics (the
      // seed's go-server returns errors.New("random error"), which dubbo-go counts so).
      if (random() < failureRate) throw new Error("random error");
      if (delayMs <= 0) return name;
      // Read the signal only here: it is made on first use, and the hot path needs none.
      const { signal } = context;
      return new Promise((answer) => {
        const timer = setTimeout(() => answer(name), delayMs);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          answer(name); // nobody waits for it any more
        }, { once: true });
      });
    },
  };
}
