/**
 * Dubbo's MetadataServiceV2 over Triple: the method our provider serves (the MetadataInfo
 * of its current revision) and the client our consumer uses to read another provider's
 * (gRPC over h2c, which dubbo-go, Dubbo Java and our provider all accept; group = the
 * provider app, version `2.0.0`, as dubbo-go `metadata/client.go` calls it).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  type MetadataInfoV2,
  MetadataInfoV2Schema,
  MetadataRequestSchema,
  ServiceInfoV2Schema,
} from "../gen/org/apache/dubbo/metadata/metadata_service_v2_pb.ts";
import { createClient, protobufSpec, type UnaryMethod, unaryMethod } from "../triple/mod.ts";
import { checkMetadata, type MetadataFetcher, type MetadataInfo } from "./instance.ts";

/** `MetadataServiceV2/GetMetadataInfo`: its names and message schemas. */
const GET_METADATA_INFO = {
  service: "org.apache.dubbo.metadata.MetadataServiceV2",
  method: "GetMetadataInfo",
  input: MetadataRequestSchema,
  output: MetadataInfoV2Schema,
};
/** What the client calls: built once, not per fetch. */
const GET_METADATA_INFO_SPEC = protobufSpec(GET_METADATA_INFO);

/**
 * The `GetMetadataInfo` method answering with `current()` (any revision asked), which
 * application-level consumers call to learn what this provider exports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appMetadata } from "./instance.ts";
 *
 * const method = metadataServiceV2(() => appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000 }));
 * assert.equal(method.method, "GetMetadataInfo");
 * ```
 */
export function metadataServiceV2(current: () => MetadataInfo | undefined): UnaryMethod {
  return unaryMethod({
    ...GET_METADATA_INFO,
    handler: () => {
      const info = current();
      if (!info) throw new Error("metadata not ready");
      return toV2(info);
    },
  });
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

/** Largest MetadataInfo accepted from a provider. */
const MAX_REPLY = 1024 * 1024;

/**
 * Calls `GetMetadataInfo` on `host:port` over gRPC (h2c) with the one Triple client; rejects
 * on any failure, so that the consumer falls back to the instance's advertised endpoints.
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
export const fetchMetadataV2: MetadataFetcher = async (host, port, app, revision, timeoutMs) => {
  // group = the provider app, version 2.0.0: as dubbo-go `metadata/client.go` calls it.
  const client = createClient({
    protocol: "grpc",
    http: "2",
    serialization: "protobuf",
    timeoutMs,
    group: app,
    version: "2.0.0",
    maxResponseBytes: MAX_REPLY,
  });
  try {
    const request = create(MetadataRequestSchema, { revision });
    const v2 = await client.call(GET_METADATA_INFO_SPEC, { host, port }, request);
    const info = checkMetadata({ ...v2, revision: v2.version });
    if (typeof info === "string") throw new Error(info);
    return info;
  } finally {
    client.close();
  }
};
