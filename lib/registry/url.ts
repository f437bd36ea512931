/**
 * Dubbo registry URLs: the `tri://` provider URL and `consumer://` URL we publish, the
 * ZooKeeper paths they live under, and a lenient parser for provider URLs written by
 * any Dubbo implementation (ours, dubbo-go, Java).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const service = { name: "demo.EchoService", methods: ["Echo"] };
 * const url = providerUrl({ service, ip: "10.0.0.5", port: 20000, app: "demo", pid: 42, timestamp: 1 });
 * assert.equal(parseProviderUrl(url)?.host, "10.0.0.5");
 * ```
 *
 * @module
 */
import { RELEASE } from "../version.ts";

/**
 * The service a provider registers and a consumer subscribes to, as Dubbo's URLs and paths
 * name it: the interface (the proto service's full name) and its methods. Programs take it
 * from their method specs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const service: ServiceInterface = { name: "demo.EchoService", methods: ["Echo"] };
 * assert.equal(categoryPath("providers", "", service.name), "/dubbo/demo.EchoService/providers");
 * ```
 */
export interface ServiceInterface {
  name: string;
  /** As Dubbo's `methods` URL parameter lists them. */
  methods: readonly string[];
}

/**
 * The interface registered for method specs of one service: its name and their methods.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const service = serviceInterface([
 *   { service: "demo.EchoService", method: "Echo" },
 *   { service: "demo.EchoService", method: "Shout" },
 * ]);
 * assert.deepEqual(service, { name: "demo.EchoService", methods: ["Echo", "Shout"] });
 * assert.throws(() => serviceInterface([]));
 * ```
 */
export function serviceInterface(
  methods: readonly { service: string; method: string }[],
): ServiceInterface {
  const names = new Set(methods.map((m) => m.service));
  if (names.size !== 1) {
    throw new TypeError(`one service expected, got ${JSON.stringify([...names])}`);
  }
  return { name: methods[0].service, methods: methods.map((m) => m.method) };
}
/** Dubbo's default ZooKeeper root for interface-level registration. */
const DUBBO_ROOT = "/dubbo";
/**
 * The per-interface categories Dubbo creates (persistent) under `/dubbo/<interface>/`;
 * we create them too, so that Dubbo tools see the layout they expect.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const paths = CATEGORIES.map((category) => categoryPath(category, "", "greet.GreetService"));
 * assert(paths[0] === "/dubbo/greet.GreetService/providers");
 * ```
 */
export const CATEGORIES = ["providers", "consumers", "configurators", "routers"] as const;

/**
 * Who publishes a provider URL.
 *
 * @example
 * ```ts
 * const input: ProviderUrlInput = {
 *   service: { name: "demo.EchoService", methods: ["Echo"] },
 *   ip: "::1", port: 20000, app: "s", pid: 1, timestamp: Date.now(),
 * };
 * import assert from "node:assert/strict";
 * assert.ok(providerUrl(input).startsWith("tri://[::1]:20000/demo.EchoService?"));
 * ```
 */
export interface ProviderUrlInput {
  service: ServiceInterface;
  ip: string;
  port: number;
  app: string;
  group?: string;
  version?: string;
  pid: number;
  /** Unix milliseconds (Java style; dubbo-go writes seconds). */
  timestamp: number;
}

/**
 * Who publishes a consumer URL.
 *
 * @example
 * ```ts
 * const input: ConsumerUrlInput = {
 *   service: { name: "demo.EchoService", methods: ["Echo"] },
 *   ip: "10.0.0.7", app: "c", group: "g", pid: 1, timestamp: 2,
 * };
 * import assert from "node:assert/strict";
 * assert.match(consumerUrl(input), /^consumer:\/\/10\.0\.0\.7\/demo\.EchoService\?.*&group=g&/);
 * ```
 */
export interface ConsumerUrlInput {
  service: ServiceInterface;
  ip: string;
  app: string;
  group?: string;
  version?: string;
  pid: number;
  timestamp: number;
}

/**
 * A provider found in the registry.
 *
 * @example
 * ```ts
 * const parsed: ParsedProvider | undefined = parseUrl("tri://h:1/x?enabled=false");
 * import assert from "node:assert/strict";
 * assert.equal(parsed?.enabled, false);
 * ```
 */
export interface ParsedProvider {
  host: string;
  port: number;
  /** URL scheme: `tri` is what we speak; `dubbo` (Java's default) is another wire protocol. */
  protocol: string;
  /** `interface` parameter, else the URL path. */
  interface: string;
  /** `""` when absent. */
  group: string;
  /** `""` when absent. */
  version: string;
  /** `false` when an operator disabled the provider (`enabled=false` or `disabled=true`). */
  enabled: boolean;
  /** `category`, `""` when absent (providers then). */
  category: string;
  /** All parameters, decoded. */
  params: Record<string, string>;
}

/**
 * Our provider URL (unencoded), keys sorted as Dubbo's `URL.toFullString` sorts them:
 * `tri://<ip>:<port>/greet.GreetService?anyhost=true&application=...&timestamp=<ms>`,
 * so that Dubbo consumers and admin tools read it like one of their own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const service = { name: "greet.GreetService", methods: ["Greet"] };
 * const url = providerUrl({ service, ip: "10.0.0.5", port: 20000, app: "demo", pid: 1, timestamp: 2 });
 * assert(url.startsWith("tri://10.0.0.5:20000/greet.GreetService?anyhost=true"));
 * ```
 */
export function providerUrl(p: ProviderUrlInput): string {
  const params: Record<string, string> = {
    anyhost: "true",
    application: p.app,
    interface: p.service.name,
    methods: p.service.methods.join(","),
    pid: String(p.pid),
    release: RELEASE,
    serialization: "protobuf",
    side: "provider",
    timestamp: String(p.timestamp),
  };
  if (p.group) params.group = p.group;
  if (p.version) params.version = p.version;
  return `tri://${hostPort(p.ip, p.port)}/${p.service.name}?${query(params)}`;
}

/**
 * Our consumer URL (unencoded): `consumer://<ip>/greet.GreetService?...&side=consumer...`,
 * published so that Dubbo admin tools list us as a consumer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const service = { name: "demo.EchoService", methods: ["Echo"] };
 * const url = consumerUrl({ service, ip: "10.0.0.7", app: "client", pid: 1, timestamp: 2 });
 * assert(url.includes("side=consumer"));
 * ```
 */
export function consumerUrl(c: ConsumerUrlInput): string {
  const params: Record<string, string> = {
    application: c.app,
    category: "consumers",
    interface: c.service.name,
    methods: c.service.methods.join(","),
    pid: String(c.pid),
    protocol: "tri",
    release: RELEASE,
    side: "consumer",
    timestamp: String(c.timestamp),
  };
  if (c.group) params.group = c.group;
  if (c.version) params.version = c.version;
  return `consumer://${bracket(c.ip)}/${c.service.name}?${query(params)}`;
}

/**
 * `/dubbo/<interface>/<category>` under a chroot prefix (`""` for none): where
 * provider and consumer nodes live.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert(categoryPath("consumers", "/test", "greet.GreetService") === "/test/dubbo/greet.GreetService/consumers");
 * ```
 */
export function categoryPath(
  category: typeof CATEGORIES[number],
  chroot: string,
  iface: string,
): string {
  return `${chroot}${DUBBO_ROOT}/${encodeURIComponent(iface)}/${category}`;
}

/**
 * The ZooKeeper node name of a URL: Dubbo's URL-encoded full URL (a node name may not
 * contain `/`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert(nodeName("tri://h:1/x?a=b") === "tri%3A%2F%2Fh%3A1%2Fx%3Fa%3Db");
 * ```
 */
export function nodeName(url: string): string {
  return encodeURIComponent(url);
}

/**
 * Parses a provider URL, raw (`tri://...`) or as a ZooKeeper node name (URL-encoded by
 * `encodeURIComponent`, Java's `URLEncoder` or Go's `url.QueryEscape`, which writes `+`
 * for a space). Returns `undefined` when it is not a `scheme://host:port/...` URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const parsed = parseUrl("dubbo%3A%2F%2F10.0.0.9%3A20880%2Fgreet.GreetService%3Fgroup%3Dg");
 * assert(parsed?.protocol === "dubbo" && parsed.group === "g");
 * assert(parseUrl("not a url") === undefined);
 * ```
 */
export function parseUrl(raw: string): ParsedProvider | undefined {
  const text = raw.includes("://") ? raw : decodeLenient(raw.replaceAll("+", " "));
  const match =
    /^([a-zA-Z][\w+.-]*):\/\/(\[[0-9a-fA-F:.]+\]|[^/:?#\[\]]+):(\d+)(\/[^?#]*)?(?:\?([^#]*))?/
      .exec(text.trim());
  if (!match) return undefined;
  const [, scheme, rawHost, rawPort, rawPath = "", rawQuery = ""] = match;
  const port = Number(rawPort);
  if (!(port >= 1 && port <= 65535)) return undefined;
  const params: Record<string, string> = {};
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const key = decodeLenient(eq === -1 ? pair : pair.slice(0, eq));
    params[key] = eq === -1 ? "" : decodeLenient(pair.slice(eq + 1));
  }
  const path = decodeLenient(rawPath.replace(/^\//, ""));
  return {
    host: rawHost.replace(/^\[|\]$/g, ""),
    port,
    protocol: scheme.toLowerCase(),
    interface: params.interface || path,
    group: params.group ?? "",
    version: params.version ?? "",
    enabled: params.enabled !== "false" && params.disabled !== "true",
    category: params.category ?? "",
    params,
  };
}

/**
 * Parses a provider URL (raw or as a ZooKeeper node name) into the endpoint and the
 * fields a consumer filters on; `undefined` when it cannot be parsed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const p = parseProviderUrl("tri://[::1]:20000/greet.GreetService?version=1.0");
 * assert(p?.host === "::1" && p.port === 20000 && p.version === "1.0");
 * ```
 */
export function parseProviderUrl(
  url: string,
): {
  host: string;
  port: number;
  group: string;
  version: string;
  protocol: string;
  enabled: boolean;
} | undefined {
  const parsed = parseUrl(url);
  if (!parsed) return undefined;
  const { host, port, group, version, protocol, enabled } = parsed;
  return { host, port, group, version, protocol, enabled };
}

/**
 * What a consumer asks for; `*` matches any group or version, as in Dubbo.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const anyVersion: ProviderFilter = { interface: "greet.GreetService", group: "", version: "*" };
 * assert.ok(providerMatches(parseUrl("tri://h:1/greet.GreetService?version=2")!, anyVersion));
 * ```
 */
export interface ProviderFilter {
  interface: string;
  group: string;
  version: string;
}

/**
 * Whether a consumer can use this provider: a `tri` provider of the same interface and
 * group/version (Dubbo's exact match, `*` for any), enabled, in the providers category.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const p = parseUrl("tri://10.0.0.5:20000/greet.GreetService?group=a")!;
 * const want = { interface: "greet.GreetService", group: "*", version: "" };
 * assert(providerMatches(p, want));
 * assert(!providerMatches(p, { ...want, group: "b" }));
 * ```
 */
export function providerMatches(p: ParsedProvider, want: ProviderFilter): boolean {
  if (p.protocol !== "tri") return false;
  if (p.interface !== want.interface) return false;
  if (p.category !== "" && p.category !== "providers") return false;
  if (!p.enabled) return false;
  if (want.group !== "*" && p.group !== want.group) return false;
  if (want.version !== "*" && p.version !== want.version) return false;
  return true;
}

function query(params: Record<string, string>): string {
  return Object.keys(params).sort().map((key) => `${key}=${encodeValue(params[key])}`).join("&");
}

// Dubbo writes parameter values unencoded inside the URL (the node name encodes it all);
// only the characters that would break the query itself are escaped here.
function encodeValue(value: string): string {
  return value.replace(/[%&=#?\s]/g, (c) => encodeURIComponent(c));
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function hostPort(host: string, port: number): string {
  return `${bracket(host)}:${port}`;
}

function decodeLenient(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
