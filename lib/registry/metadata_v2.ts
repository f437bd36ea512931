/**
 * Dubbo's MetadataServiceV2 over Triple: the method our provider serves (the MetadataInfo
 * of its current revision) and the client our consumer uses to read another provider's
 * (gRPC over h2c, which dubbo-go, Dubbo Java and our provider all accept; group = the
 * provider app, version `2.0.0`, as dubbo-go `metadata/client.go` calls it).
 *
 * @module
 */
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type MetadataInfoV2,
  MetadataInfoV2Schema,
  MetadataRequestSchema,
  ServiceInfoV2Schema,
} from "../gen/org/apache/dubbo/metadata/metadata_service_v2_pb.ts";
import type { UnaryMethod } from "../rpc/methods.ts";
import { checkMetadata, type MetadataFetcher, type MetadataInfo } from "./instance.ts";

/** Service name of MetadataServiceV2. */
const METADATA_SERVICE_V2 = "org.apache.dubbo.metadata.MetadataServiceV2";

/**
 * The `GetMetadataInfo` method answering with `current()` (any revision asked), which
 * application-level consumers call to learn what this provider exports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appMetadata } from "./instance.ts";
 *
 * const method = metadataServiceV2(() => appMetadata({ app: "server", port: 20000 }));
 * assert.equal(method.method, "GetMetadataInfo");
 * ```
 */
export function metadataServiceV2(current: () => MetadataInfo | undefined): UnaryMethod {
  return {
    service: METADATA_SERVICE_V2,
    method: "GetMetadataInfo",
    input: MetadataRequestSchema,
    output: MetadataInfoV2Schema,
    handler: () => {
      const info = current();
      if (!info) throw new Error("metadata not ready");
      return toV2(info);
    },
  } as UnaryMethod;
}

function toV2(info: MetadataInfo): MetadataInfoV2 {
  const services: MetadataInfoV2["services"] = {};
  for (const [key, s] of Object.entries(info.services)) {
    services[key] = create(ServiceInfoV2Schema, { ...s, params: { ...s.params } });
  }
  return create(MetadataInfoV2Schema, {
    app: info.app,
    version: info.revision,
    services,
    tag: info.tag,
  });
}

const MAX_REPLY = 1024 * 1024;

/**
 * Calls `GetMetadataInfo` on `host:port` over gRPC (h2c); rejects on any failure, so that
 * the consumer falls back to the instance's advertised endpoints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * // Nobody listens on a port just closed:
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr;
 * listener.close();
 * await assert.rejects(fetchMetadataV2("127.0.0.1", port, "server", "r", 2_000));
 * ```
 */
export const fetchMetadataV2: MetadataFetcher = (host, port, app, revision, timeoutMs) => {
  return new Promise((resolve, reject) => {
    const authority = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    const session = http2.connect(authority);
    const chunks: Buffer[] = [];
    let size = 0;
    let status: string | undefined;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      session.destroy();
      if (error) return reject(error);
      if (status !== "0") return reject(new Error(`grpc-status ${status ?? "missing"}`));
      const body = Buffer.concat(chunks);
      if (body.length < 5) return reject(new Error("empty reply"));
      try {
        const v2 = fromBinary(MetadataInfoV2Schema, body.subarray(5));
        const info = checkMetadata({ ...v2, revision: v2.version });
        if (typeof info === "string") reject(new Error(info));
        else resolve(info);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    session.on("error", (e) => finish(e));
    const message = toBinary(MetadataRequestSchema, create(MetadataRequestSchema, { revision }));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": `/${METADATA_SERVICE_V2}/GetMetadataInfo`,
      "content-type": "application/grpc+proto",
      te: "trailers",
      "grpc-timeout": `${timeoutMs}m`,
      "tri-service-group": app,
      "tri-service-version": "2.0.0",
    });
    stream.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
    });
    stream.on("trailers", (trailers) => status = String(trailers["grpc-status"]));
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REPLY) return finish(new Error("reply too large"));
      chunks.push(chunk);
    });
    stream.on("end", () => finish());
    stream.on("error", (e) => finish(e));
    stream.end(frame);
  });
};
