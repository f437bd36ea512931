/**
 * The `greet.GreetService` schema of the dubbo-go sample, built in code from a
 * `FileDescriptorProto` (same content as the checked-in `greet.proto`), plus the two
 * codecs the wire uses: protobuf binary and protojson.
 *
 * @module
 */
import {
  create,
  createFileRegistry,
  type DescMessage,
  type DescService,
  fromBinary,
  fromJsonString,
  type Message,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import { decodeUtf8, encodeUtf8 } from "./_bytes.ts";
import type { CallTarget } from "../observe.ts";
import type { GenMessage, GenService } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

/** Fully-qualified proto name of the service, also the first URL path segment. */
export const GREET_SERVICE = "greet.GreetService";
/** The only method of {@linkcode GREET_SERVICE}. */
export const GREET_METHOD = "Greet";
/** The URL path of the method: `/<service>/<method>`. */
export const GREET_PATH = `/${GREET_SERVICE}/${GREET_METHOD}`;
/** Greet in the default group and version: the method the programs register metrics for. */
export const GREET_TARGET: Readonly<CallTarget> = {
  interface: GREET_SERVICE,
  method: GREET_METHOD,
  group: "",
  version: "",
};

const TYPE_STRING = 9;
const LABEL_OPTIONAL = 1;

const greetFile = create(FileDescriptorProtoSchema, {
  name: "greet.proto",
  package: "greet",
  syntax: "proto3",
  messageType: [
    {
      name: "GreetRequest",
      field: [{
        name: "name",
        number: 1,
        type: TYPE_STRING,
        label: LABEL_OPTIONAL,
        jsonName: "name",
      }],
    },
    {
      name: "GreetResponse",
      field: [{
        name: "greeting",
        number: 1,
        type: TYPE_STRING,
        label: LABEL_OPTIONAL,
        jsonName: "greeting",
      }],
    },
  ],
  service: [{
    name: "GreetService",
    method: [{
      name: "Greet",
      inputType: ".greet.GreetRequest",
      outputType: ".greet.GreetResponse",
    }],
  }],
});

const registry = createFileRegistry(greetFile, () => undefined);

function mustMessage(typeName: string): DescMessage {
  const desc = registry.getMessage(typeName);
  if (!desc) throw new Error(`greet descriptor lacks ${typeName}`);
  return desc;
}

/** `greet.GreetRequest { string name = 1; }` */
export type GreetRequest = Message<"greet.GreetRequest"> & { name: string };
/** `greet.GreetResponse { string greeting = 1; }` */
export type GreetResponse = Message<"greet.GreetResponse"> & { greeting: string };

/** Descriptor of `greet.GreetRequest`. */
export const GreetRequestSchema: GenMessage<GreetRequest> = mustMessage(
  "greet.GreetRequest",
) as GenMessage<GreetRequest>;
/** Descriptor of `greet.GreetResponse`. */
export const GreetResponseSchema: GenMessage<GreetResponse> = mustMessage(
  "greet.GreetResponse",
) as GenMessage<GreetResponse>;

/**
 * Descriptor of `greet.GreetService`, usable with `@connectrpc/connect`
 * (`createClient(GreetService, transport)`, `router.service(GreetService, impl)`).
 */
export const GreetService: GenService<{
  greet: {
    methodKind: "unary";
    input: typeof GreetRequestSchema;
    output: typeof GreetResponseSchema;
  };
}> = (() => {
  const desc = registry.getService(GREET_SERVICE);
  if (!desc) throw new Error(`greet descriptor lacks ${GREET_SERVICE}`);
  return desc as DescService as never;
})();

/** How a message is serialized on the wire. */
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

/** Serializes a request message `{name}`. */
export function encodeGreetRequest(name: string, codec: Codec): Uint8Array<ArrayBuffer> {
  return encode(
    GreetRequestSchema,
    create(GreetRequestSchema, { name }),
    codec,
  );
}

/** Parses a request; throws on malformed input (invalid protobuf, invalid JSON, wrong types). */
export function decodeGreetRequest(bytes: Uint8Array, codec: Codec): GreetRequest {
  return decode(GreetRequestSchema, bytes, codec) as GreetRequest;
}

/**
 * The `name` of a request: the provider's hot path. For JSON, a plain `JSON.parse`
 * settles the common case (an object whose `name` is a string, absent or null; other
 * keys ignored like protojson with `ignoreUnknownFields`); anything else goes through
 * the full protojson parser, which gives the precise error.
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

/** Serializes a response message `{greeting}`. */
export function encodeGreetResponse(greeting: string, codec: Codec): Uint8Array<ArrayBuffer> {
  if (codec === "json") {
    // What protojson writes: proto3 omits a default (empty) string.
    return encodeUtf8(greeting === "" ? "{}" : `{"greeting":${JSON.stringify(greeting)}}`);
  }
  return encode(
    GreetResponseSchema,
    create(GreetResponseSchema, { greeting }),
    codec,
  );
}

/** Parses a response; throws on malformed input. */
export function decodeGreetResponse(bytes: Uint8Array, codec: Codec): GreetResponse {
  return decode(GreetResponseSchema, bytes, codec) as GreetResponse;
}
