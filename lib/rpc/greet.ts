/**
 * The `greet.GreetService` schema of the dubbo-go sample (generated from
 * `proto/greet/greet.proto` into `lib/gen/greet/greet_pb.ts`), plus the two codecs the
 * wire uses: protobuf binary and protojson.
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
import type { CallTarget } from "../observe.ts";
import {
  type GreetRequest,
  GreetRequestSchema,
  type GreetResponse,
  GreetResponseSchema,
  GreetService,
} from "../gen/greet/greet_pb.ts";

export {
  type GreetRequest,
  GreetRequestSchema,
  type GreetResponse,
  GreetResponseSchema,
  GreetService,
};

/**
 * Fully-qualified proto name of the service, also the first URL path segment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(GREET_SERVICE, GreetService.typeName);
 * ```
 */
export const GREET_SERVICE = "greet.GreetService";
/**
 * The only method of {@linkcode GREET_SERVICE}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(GreetService.method.greet.name, GREET_METHOD);
 * ```
 */
export const GREET_METHOD = "Greet";
/**
 * The URL path of the method: `/<service>/<method>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(GREET_PATH, "/greet.GreetService/Greet");
 * ```
 */
export const GREET_PATH = `/${GREET_SERVICE}/${GREET_METHOD}`;
/**
 * Greet in the default group and version: the method the programs register metrics for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(GREET_TARGET.interface, GREET_SERVICE);
 * ```
 */
export const GREET_TARGET: Readonly<CallTarget> = {
  interface: GREET_SERVICE,
  method: GREET_METHOD,
  group: "",
  version: "",
};

/**
 * How a message is serialized on the wire.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const codec: Codec = "json";
 * assert.equal(decodeGreetRequestName(encodeGreetRequest("hi", codec), codec), "hi");
 * ```
 */
export type Codec = "proto" | "json";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

function encode(schema: DescMessage, message: Message, codec: Codec): Uint8Array<ArrayBuffer> {
  if (codec === "proto") return toBinary(schema, message) as Uint8Array<ArrayBuffer>;
  // Proto field names, like dubbo-go's protojson (UseProtoNames); identical here anyway.
  return textEncoder.encode(JSON.stringify(toJson(schema, message, { useProtoFieldName: true })));
}

function decode(schema: DescMessage, bytes: Uint8Array, codec: Codec): Message {
  if (codec === "proto") return fromBinary(schema, bytes);
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
export function encodeGreetRequest(name: string, codec: Codec): Uint8Array<ArrayBuffer> {
  return encode(GreetRequestSchema, create(GreetRequestSchema, { name }), codec);
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
export function decodeGreetRequest(bytes: Uint8Array, codec: Codec): GreetRequest {
  return decode(GreetRequestSchema, bytes, codec) as GreetRequest;
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
export function decodeGreetRequestName(bytes: Uint8Array, codec: Codec): string {
  if (codec === "json") {
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
  return decodeGreetRequest(bytes, codec).name;
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
export function encodeGreetResponse(greeting: string, codec: Codec): Uint8Array<ArrayBuffer> {
  if (codec === "json") {
    // What protojson writes: proto3 omits a default (empty) string.
    return encodeUtf8(greeting === "" ? "{}" : `{"greeting":${JSON.stringify(greeting)}}`);
  }
  return encode(GreetResponseSchema, create(GreetResponseSchema, { greeting }), codec);
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
export function decodeGreetResponse(bytes: Uint8Array, codec: Codec): GreetResponse {
  return decode(GreetResponseSchema, bytes, codec) as GreetResponse;
}
