/**
 * Application-level discovery records: the app's `MetadataInfo` (what it exports, with a
 * stable revision) and the Curator `ServiceInstance` JSON Dubbo writes at
 * `/services/<app>/<ip>:<port>`, as dubbo-go 3.3 and Dubbo Java 3.3 write and read them.
 * Parsing treats the JSON as hostile: anything malformed is an error string, never a throw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const metadata = appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000 });
 * const instance = parseInstance("server", instanceJson(metadata, "10.0.0.5", 20000));
 * assert(typeof instance !== "string");
 * assert.equal(instance.revision, metadata.revision);
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ServiceInfoV2 } from "../gen/org/apache/dubbo/metadata/metadata_service_v2_pb.ts";
import type { ServiceInterface } from "./url.ts";

/**
 * Root of instance nodes (Java `ZookeeperServiceDiscovery`, dubbo-go `registry.group`):
 * an instance lives at `/services/<app>/<ip>:<port>`.
 */
export const SERVICES_ROOT = "/services";
/** Payload class both Dubbo implementations put in the Curator JSON. */
const INSTANCE_PAYLOAD_CLASS = "org.apache.dubbo.registry.zookeeper.ZookeeperInstance";
/** Metadata keys (dubbo-go `common/constant/key.go`). */
const META = {
  revision: "dubbo.metadata.revision",
  storageType: "dubbo.metadata.storage-type",
  endpoints: "dubbo.endpoints",
  urlParams: "dubbo.metadata-service.url-params",
  metaVersion: "meta-v",
} as const;

/**
 * One exported service as MetadataInfo lists it (Java `MetadataInfo$ServiceInfo`): the
 * fields of the `ServiceInfoV2` wire message, without protobuf's bookkeeping.
 *
 * @example
 * ```ts
 * const service: ServiceInfo = appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "s", port: 1 }).services["greet.GreetService:tri"];
 * import assert from "node:assert/strict";
 * assert.equal(service.protocol, "tri");
 * ```
 */
export type ServiceInfo = Omit<ServiceInfoV2, "$typeName" | "$unknown">;

/**
 * An application's exported services at one revision (Java `MetadataInfo`).
 *
 * @example
 * ```ts
 * const info: MetadataInfo = appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000 });
 * import assert from "node:assert/strict";
 * assert.deepEqual(Object.keys(info.services), ["greet.GreetService:tri"]);
 * ```
 */
export interface MetadataInfo {
  app: string;
  revision: string;
  tag: string;
  /** Keyed by match key, e.g. `greet.GreetService:tri` or `g/greet.GreetService:1.0:tri`. */
  services: Record<string, ServiceInfo>;
}

/**
 * Reads the MetadataInfo of `app` at `revision` from its MetadataService at `host:port`
 * (V1 over Dubbo/hessian2 or V2 over Triple); rejects after `timeoutMs` or on any failure.
 *
 * @example
 * ```ts no-assert
 * import { fetchMetadataV2 } from "./metadata_v2.ts";
 *
 * const fetcher: MetadataFetcher = fetchMetadataV2;
 * console.log(typeof fetcher);
 * ```
 */
export type MetadataFetcher = (
  host: string,
  port: number,
  app: string,
  revision: string,
  timeoutMs: number,
) => Promise<MetadataInfo>;

/**
 * dubbo-go `common.ServiceKey` + `MatchKey`: `[group/]name[:version]:protocol`, the key
 * of a service in `MetadataInfo.services`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(matchKey("greet.GreetService", "g", "1.0", "tri"), "g/greet.GreetService:1.0:tri");
 * ```
 */
export function matchKey(name: string, group: string, version: string, protocol: string): string {
  return `${group ? `${group}/` : ""}${name}${version ? `:${version}` : ""}:${protocol}`;
}

/**
 * What our provider exports, for `appMetadata`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const exported: ExportInfo = {
 *   service: { name: "demo.EchoService", methods: ["Echo", "Shout"] },
 *   app: "server", port: 20000, version: "1.0.0",
 * };
 * const { params } = appMetadata(exported).services["demo.EchoService:1.0.0:tri"];
 * assert.equal(params.methods, "Echo,Shout");
 * ```
 */
export interface ExportInfo {
  service: ServiceInterface;
  app: string;
  port: number;
  group?: string;
  version?: string;
}

/**
 * Our app's MetadataInfo: its service over tri, with a revision hashed from it, so
 * that consumers fetch it again only when what we export changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const a = appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000 });
 * assert.equal(a.revision, appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000 }).revision);
 * assert.notEqual(a.revision, appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "server", port: 20000, version: "2" }).revision);
 * ```
 */
export function appMetadata(info: ExportInfo): MetadataInfo {
  const group = info.group ?? "";
  const version = info.version ?? "";
  const { name, methods } = info.service;
  const service: ServiceInfo = {
    name,
    group,
    version,
    protocol: "tri",
    port: info.port,
    path: name,
    params: {
      application: info.app,
      interface: name,
      methods: methods.join(","),
      "prefer.serialization": "protobuf",
      serialization: "protobuf",
      side: "provider",
      ...(group ? { group } : {}),
      ...(version ? { version } : {}),
    },
  };
  const services = { [matchKey(name, group, version, "tri")]: service };
  return { app: info.app, revision: revisionOf(info.app, services), tag: "", services };
}

/** A stable, never-"0" hash of the app and its sorted service descriptors. */
function revisionOf(app: string, services: Record<string, ServiceInfo>): string {
  const hash = createHash("sha256").update(app);
  for (const key of Object.keys(services).sort()) {
    const s = services[key];
    const params = Object.keys(s.params).sort().map((k) => `${k}=${s.params[k]}`).join("&");
    hash.update(`\n${key}|${s.name}|${s.group}|${s.version}|${s.protocol}|${s.path}|${params}`);
  }
  return hash.digest("hex").slice(0, 32);
}

/**
 * The Curator ServiceInstance JSON of our provider instance, as Dubbo Java and dubbo-go
 * write and read it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const json = JSON.parse(instanceJson(appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "s", port: 1 }), "10.0.0.5", 1));
 * assert.equal(json.id, "10.0.0.5:1");
 * ```
 */
export function instanceJson(metadata: MetadataInfo, ip: string, port: number): string {
  const id = `${ip}:${port}`;
  const meta: Record<string, string> = {
    [META.revision]: metadata.revision,
    [META.storageType]: "local",
    [META.endpoints]: JSON.stringify([{ port, protocol: "tri" }]),
    [META.urlParams]: JSON.stringify({ port: String(port), protocol: "tri" }),
    [META.metaVersion]: "2.0.0",
  };
  return JSON.stringify({
    name: metadata.app,
    id,
    address: ip,
    port,
    sslPort: null,
    payload: { "@class": INSTANCE_PAYLOAD_CLASS, id, name: metadata.app, metadata: meta },
    registrationTimeUTC: Date.now(),
    serviceType: "DYNAMIC",
    uriSpec: null,
  });
}

/**
 * A provider instance as read from `/services/<app>/<node>`.
 *
 * @example
 * ```ts
 * const instance = parseInstance("s", instanceJson(appMetadata({ service: { name: "greet.GreetService", methods: ["Greet"] }, app: "s", port: 1 }), "h", 1));
 * import assert from "node:assert/strict";
 * assert.ok(typeof instance !== "string");
 * assert.deepEqual(instance.endpoints, [{ port: 1, protocol: "tri" }]);
 * ```
 */
export interface Instance {
  app: string;
  host: string;
  port: number;
  revision: string;
  storageType: string;
  /** `dubbo.endpoints`: ports by protocol. */
  endpoints: Array<{ port: number; protocol: string }>;
  /** `dubbo.metadata-service.url-params`: how to reach its MetadataService. */
  metadataService?: { protocol: string; port: number };
  metaVersion: string;
}

const MAX_JSON = 64 * 1024;

/**
 * Parses instance JSON from the network; returns an error message instead of throwing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseInstance("s", "{"), "instance data is not JSON");
 * assert.equal(parseInstance("s", '{"address":"h","port":0}'), "bad port");
 * ```
 */
export function parseInstance(app: string, text: string): Instance | string {
  if (text.length > MAX_JSON) return "instance JSON too large";
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return "instance data is not JSON";
  }
  if (!isObject(doc)) return "instance JSON is not an object";
  const host = doc.address;
  const port = doc.port;
  if (typeof host !== "string" || !/^[\w.:\-\[\]]{1,255}$/.test(host)) return "bad address";
  if (!isPort(port)) return "bad port";
  const payload = doc.payload;
  const raw = isObject(payload) && isObject(payload.metadata) ? payload.metadata : {};
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === "string") meta[k] = v;
  const revision = meta[META.revision] ?? "";
  if (!revision) return `no ${META.revision}`;
  return {
    app,
    host,
    port,
    revision,
    storageType: meta[META.storageType] ?? "local",
    endpoints: parseEndpoints(meta[META.endpoints]),
    metadataService: parseUrlParams(meta[META.urlParams]),
    metaVersion: meta[META.metaVersion] ?? "",
  };
}

function parseEndpoints(text: string | undefined): Array<{ port: number; protocol: string }> {
  const list = safeJson(text);
  if (!Array.isArray(list)) return [];
  return list.filter((e) => isObject(e) && isPort(e.port) && typeof e.protocol === "string")
    .map((e) => ({ port: e.port as number, protocol: e.protocol as string }));
}

function parseUrlParams(text: string | undefined): Instance["metadataService"] {
  const params = safeJson(text);
  if (!isObject(params)) return undefined;
  const port = Number(params.port);
  if (typeof params.protocol !== "string" || !isPort(port)) return undefined;
  return { protocol: params.protocol, port };
}

function safeJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 && value < 65536;
}

/**
 * Checks a MetadataInfo from the network (JSON, protobuf or hessian maps); returns it
 * normalized or an error string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const info = checkMetadata({ app: "s", revision: "r", services: { k: { name: "x" } } });
 * assert(typeof info !== "string");
 * assert.equal(info.services.k.port, 0);
 * assert.equal(checkMetadata(42), "metadata is not an object");
 * ```
 */
export function checkMetadata(value: unknown): MetadataInfo | string {
  if (!isObject(value)) return "metadata is not an object";
  const services: Record<string, ServiceInfo> = {};
  const raw = isObject(value.services)
    ? value.services
    : value.services instanceof Map
    ? Object.fromEntries(value.services as Map<string, unknown>)
    : {};
  for (const [key, s] of Object.entries(raw)) {
    if (!isObject(s) || typeof s.name !== "string") continue;
    const params: Record<string, string> = {};
    const rawParams = s.params instanceof Map ? Object.fromEntries(s.params) : s.params;
    if (isObject(rawParams)) {
      for (const [k, v] of Object.entries(rawParams)) if (typeof v === "string") params[k] = v;
    }
    services[key] = {
      name: s.name,
      group: str(s.group),
      version: str(s.version),
      protocol: str(s.protocol),
      port: typeof s.port === "number" ? s.port : 0,
      path: str(s.path),
      params,
    };
  }
  return { app: str(value.app), revision: str(value.revision), tag: str(value.tag), services };
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}
