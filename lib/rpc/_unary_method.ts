/**
 * Extra unary methods a provider serves beside greet.GreetService (e.g. Dubbo's
 * `org.apache.dubbo.metadata.MetadataServiceV2/GetMetadataInfo`): the method's protobuf
 * schemas and a handler. Triple/Connect unary (proto or JSON) and gRPC, like Greet; any
 * group/version is accepted (Dubbo callers send the provider app as the group). These
 * calls are not observed as business calls.
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
import type { Code } from "./errors.ts";
import { concatBytes } from "./_bytes.ts";
import { decodeUtf8, encodeUtf8 } from "./_bytes.ts";

/** One unary method: `/<service>/<method>`, its schemas and what answers it. */
export interface UnaryMethod<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> {
  service: string;
  method: string;
  input: I;
  output: O;
  handler(request: MessageShape<I>): MessageShape<O> | Promise<MessageShape<O>>;
}

/** How the core answers: success body, or an error code and message. */
export interface UnaryReplies {
  ok(message: Uint8Array): void;
  fail(code: Code, message: string): void;
}

/** What `findUnaryMethod` found: feed the body, then `end`. */
export interface UnaryCall {
  data(chunk: Uint8Array): void;
  end(): void;
}

const LIMIT = 1024 * 1024;

/** The method routed by `path` (query ignored; first letter case-insensitive), if any. */
export function findUnaryMethod(
  methods: readonly UnaryMethod[] | undefined,
  path: string,
): UnaryMethod | undefined {
  if (!methods?.length) return undefined;
  const bare = path.split("?")[0];
  return methods.find((m) => {
    const prefix = `/${m.service}/`;
    if (!bare.startsWith(prefix)) return false;
    const name = bare.slice(prefix.length);
    return name === m.method || name === m.method[0].toLowerCase() + m.method.slice(1);
  });
}

/** Reads one request of `method` and replies through `replies`. */
export function openUnaryCall(
  method: UnaryMethod,
  grpc: boolean,
  json: boolean,
  replies: UnaryReplies,
): UnaryCall {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let failed = false;
  return {
    data(chunk) {
      if (failed) return;
      size += chunk.length;
      if (size > LIMIT) {
        failed = true;
        replies.fail("resource_exhausted", `message larger than ${LIMIT} bytes`);
        return;
      }
      chunks.push(chunk);
    },
    end() {
      if (failed) return;
      let body = concatBytes(chunks, size);
      if (grpc) {
        if (body.length < 5 || body[0] !== 0) {
          return replies.fail("invalid_argument", "expected one uncompressed gRPC message");
        }
        body = body.subarray(5);
      }
      let request;
      try {
        request = json
          ? fromJsonString(method.input, decodeUtf8(body) || "{}")
          : fromBinary(method.input, body);
      } catch (error) {
        const what = error instanceof Error ? error.message : String(error);
        return replies.fail("invalid_argument", `cannot decode ${method.input.typeName}: ${what}`);
      }
      Promise.resolve().then(() => method.handler(request)).then(
        (response) =>
          replies.ok(
            json
              ? encodeUtf8(toJsonString(method.output, response))
              : toBinary(method.output, response),
          ),
        (error) => replies.fail("internal", error instanceof Error ? error.message : String(error)),
      );
    },
  };
}
