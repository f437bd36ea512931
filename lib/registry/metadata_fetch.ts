/**
 * Reads a provider instance's MetadataInfo the way the instance advertises it:
 * `storage-type=remote` from ZooKeeper (Java `/dubbo/metadata/<app>/<revision>`, dubbo-go
 * `/dubbo/<app>/<revision>`), else its MetadataService: V2 over Triple when
 * `url-params` say `tri` and `meta-v` is `2.0.0`, V1 over the Dubbo binary protocol
 * with hessian2 when they say `dubbo`. Then turns instance + metadata into endpoints.
 *
 * @module
 */
import { reason } from "./_zk_error.ts";
import type { Endpoint } from "../endpoint.ts";
import { checkMetadata, type Instance, type MetadataInfo } from "./instance.ts";
import { fetchMetadataV2 } from "./metadata_v2.ts";
import { fetchMetadataV1 } from "./metadata_v1.ts";
import type { ProviderFilter } from "./url.ts";

/** How long one metadata fetch may take. */
const METADATA_TIMEOUT_MS = 5_000;

/**
 * Reads a ZooKeeper node's data (for remote metadata), so fetching needs no session.
 *
 * @example
 * ```ts
 * const nodes = new Map([["/dubbo/metadata/s/r", "{}"]]);
 * const readNode: ReadNode = (path) => Promise.resolve(nodes.get(path) ?? "");
 * import assert from "node:assert/strict";
 * assert.equal(await readNode("/dubbo/metadata/s/r"), "{}");
 * ```
 */
export type ReadNode = (path: string) => Promise<string>;

/**
 * Fetches the MetadataInfo of `instance`'s revision; rejects with a clear reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appMetadata, instanceJson, parseInstance } from "./instance.ts";
 *
 * const stored = appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000 });
 * const instance = parseInstance("server", instanceJson(stored, "10.0.0.5", 20000));
 * assert(typeof instance !== "string");
 * instance.storageType = "remote"; // read from ZooKeeper: here, a stand-in for the node
 * const info = await fetchMetadata(instance, () => Promise.resolve(JSON.stringify(stored)));
 * assert.equal(info.revision, stored.revision);
 * ```
 */
export async function fetchMetadata(
  instance: Instance,
  readNode: ReadNode,
  chroot = "",
): Promise<MetadataInfo> {
  const { app, revision, host } = instance;
  if (instance.storageType === "remote") {
    let last: unknown;
    for (const path of [`/dubbo/metadata/${app}/${revision}`, `/dubbo/${app}/${revision}`]) {
      try {
        const info = checkMetadata(JSON.parse(await readNode(`${chroot}${path}`)));
        if (typeof info === "string") throw new Error(info);
        return info;
      } catch (error) {
        last = error;
      }
    }
    throw new Error(`remote metadata of ${app}@${revision} not readable: ${reason(last)}`);
  }
  const service = instance.metadataService;
  if (!service) throw new Error("instance advertises no metadata service (url-params)");
  if (service.protocol === "tri" && instance.metaVersion === "2.0.0") {
    return await fetchMetadataV2(host, service.port, app, revision, METADATA_TIMEOUT_MS);
  }
  if (service.protocol === "dubbo") {
    return await fetchMetadataV1(host, service.port, app, revision, METADATA_TIMEOUT_MS);
  }
  throw new Error(
    `unsupported metadata service ${service.protocol} (meta-v ${instance.metaVersion || "none"})`,
  );
}

/**
 * The Triple endpoints of `instance` for the wanted service: with metadata, only when it
 * exports a matching `tri` service (port from `dubbo.endpoints`, as dubbo-go takes it);
 * without, the `tri` port of `dubbo.endpoints` (or the instance port).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appMetadata, instanceJson, parseInstance } from "./instance.ts";
 *
 * const metadata = appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000, group: "g" });
 * const instance = parseInstance("server", instanceJson(metadata, "10.0.0.5", 20000));
 * assert(typeof instance !== "string");
 * const want = { interface: "greet.GreetService", group: "g", version: "" };
 * assert.deepEqual(instanceEndpoints(instance, metadata, want), [
 *   { host: "10.0.0.5", port: 20000 },
 * ]);
 * assert.deepEqual(instanceEndpoints(instance, metadata, { ...want, group: "h" }), []);
 * ```
 */
export function instanceEndpoints(
  instance: Instance,
  metadata: MetadataInfo | undefined,
  filter: ProviderFilter,
): Endpoint[] {
  const triPort = instance.endpoints.find((e) => e.protocol === "tri")?.port;
  if (!metadata) {
    if (instance.endpoints.length > 0 && triPort === undefined) return [];
    return [{ host: instance.host, port: triPort ?? instance.port }];
  }
  const matches = Object.values(metadata.services).filter((s) =>
    s.name === filter.interface && s.protocol === "tri" &&
    (filter.group === "*" || s.group === filter.group) &&
    (filter.version === "*" || s.version === filter.version) &&
    ["", "protobuf", "json"].includes(s.params.serialization ?? "")
  );
  if (matches.length === 0) return [];
  const port = triPort ?? (matches[0].port > 0 ? matches[0].port : instance.port);
  return [{ host: instance.host, port }];
}
