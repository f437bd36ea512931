/**
 * The content types of the Triple family: which wire protocol a request speaks (Triple/Connect
 * unary or gRPC) and how its messages are serialized (protobuf binary or protojson).
 *
 * @module
 */

/**
 * The two wire protocols: Triple/Connect unary and gRPC.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const protocol: Protocol = "grpc";
 * assert.equal(parseContentType("application/grpc+json")?.protocol, protocol);
 * ```
 */
export type Protocol = "connect" | "grpc";

/**
 * How a message is serialized on the wire: protobuf binary or protojson.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const serialization: Serialization = "json";
 * assert.equal(parseContentType("application/json; charset=utf-8")?.serialization, serialization);
 * ```
 */
export type Serialization = "proto" | "json";

/**
 * A request's content type, understood.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const type: ContentType | undefined = parseContentType("application/grpc");
 * assert.deepEqual(type, { protocol: "grpc", serialization: "proto", responseType: "application/grpc" });
 * ```
 */
export interface ContentType {
  protocol: Protocol;
  serialization: Serialization;
  /** The response's content type, from a fixed set (never the request's text). */
  responseType: string;
}

/**
 * The content types the provider accepts, listed in `Accept-Post` on a 415.
 */
export const ACCEPTED_CONTENT_TYPES =
  "application/json, application/proto, application/grpc, application/grpc+proto, application/grpc+json";

/**
 * What a `content-type` header asks for; `undefined` for anything the provider does not
 * speak (then 415).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseContentType("application/proto")?.protocol, "connect");
 * assert.equal(parseContentType("application/json; charset=latin1"), undefined);
 * assert.equal(parseContentType("text/plain"), undefined);
 * ```
 */
export function parseContentType(value: string | undefined): ContentType | undefined {
  if (value === undefined) return undefined;
  const [base, ...params] = value.toLowerCase().split(";").map((part) => part.trim());
  switch (base) {
    case "application/json": {
      const charset = params.find((p) => p.startsWith("charset="));
      if (charset && charset !== "charset=utf-8") return undefined;
      return { protocol: "connect", serialization: "json", responseType: "application/json" };
    }
    case "application/proto":
      return { protocol: "connect", serialization: "proto", responseType: "application/proto" };
    case "application/grpc":
      return { protocol: "grpc", serialization: "proto", responseType: "application/grpc" };
    case "application/grpc+proto":
      return { protocol: "grpc", serialization: "proto", responseType: "application/grpc+proto" };
    case "application/grpc+json":
      return { protocol: "grpc", serialization: "json", responseType: "application/grpc+json" };
    default:
      return undefined;
  }
}

/**
 * The content type a client sends for `protocol` and `serialization`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(requestContentType("grpc", "json"), "application/grpc+json");
 * assert.equal(parseContentType(requestContentType("connect", "proto"))?.protocol, "connect");
 * ```
 */
export function requestContentType(protocol: Protocol, serialization: Serialization): string {
  if (protocol === "grpc") {
    return serialization === "json" ? "application/grpc+json" : "application/grpc+proto";
  }
  return serialization === "json" ? "application/json" : "application/proto";
}
