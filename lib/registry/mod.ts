/**
 * Service registration and discovery: Dubbo's interface-level ZooKeeper registry, or
 * `none` (direct URLs). The provider `register`s; the consumer `subscribe`s and calls
 * through the returned live `Directory`; both `close()` on exit (nodes removed first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "./mod.ts";
 *
 * // `kind: "zookeeper"` (with `address`) follows ZooKeeper; `none` calls the given URLs.
 * const registry = createRegistry({
 *   kind: "none",
 *   address: "",
 *   service: { name: "greet.GreetService", methods: ["Greet"] },
 *   staticProviders: [{ host: "127.0.0.1", port: 20000 }],
 * });
 * const directory = await registry.subscribe({ ip: "127.0.0.1", app: "dubbo-metrics-client" });
 * assert.deepEqual(directory.pick(new Set()), { host: "127.0.0.1", port: 20000 });
 * await registry.close();
 * ```
 *
 * @module
 */
import type { Endpoint } from "../endpoint.ts";
import { StaticRegistry } from "./none.ts";
import type { Registry } from "./types.ts";
import { ZooKeeperRegistry, type ZooKeeperRegistryOptions } from "./zookeeper.ts";

export { type Directory, ProviderDirectory } from "./directory.ts";
export { type Endpoint, endpointKey } from "../endpoint.ts";
export type { ConsumerInfo, ProviderInfo, Registry } from "./types.ts";
export {
  consumerUrl,
  parseProviderUrl,
  parseUrl,
  providerMatches,
  providerUrl,
  type ServiceInterface,
  serviceInterface,
} from "./url.ts";
export {
  DEFAULT_CLOSE_BUDGET_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  ZooKeeperRegistry,
} from "./zookeeper.ts";
export { StaticRegistry } from "./none.ts";
export { appMetadata, type MetadataInfo } from "./instance.ts";
export { metadataServiceV2 } from "./metadata_v2.ts";

/**
 * Options of `createRegistry`: the ZooKeeper options, plus the kind and `none`'s providers.
 *
 * @example
 * ```ts no-assert
 * const options: RegistryOptions = {
 *   kind: "zookeeper", address: "127.0.0.1:2181", service: { name: "demo.EchoService", methods: ["Echo"] },
 * };
 * await createRegistry(options).close();
 * ```
 */
export interface RegistryOptions extends ZooKeeperRegistryOptions {
  kind: "zookeeper" | "none";
  /** For `none`: the providers to call (from `--url`). */
  staticProviders?: Endpoint[];
}

/**
 * Creates the registry for `--registry` (connects lazily, on the first register/subscribe),
 * so that the programs need not know which kind they run with.
 *
 * @example
 * ```ts no-assert
 * const registry = createRegistry({
 *   kind: "zookeeper", address: "127.0.0.1:2181/test", service: { name: "demo.EchoService", methods: ["Echo"] },
 * });
 * await registry.close(); // never connected: nothing to remove
 * ```
 */
export function createRegistry(options: RegistryOptions): Registry {
  if (options.kind === "none") return new StaticRegistry(options.staticProviders);
  return new ZooKeeperRegistry(options);
}
