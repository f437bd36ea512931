/**
 * The registry contract shared by the ZooKeeper and `none` implementations.
 *
 * @example
 * ```ts no-assert
 * const provider: ProviderInfo = { ip: "10.0.0.5", port: 20000, app: "server" };
 * const consumer: ConsumerInfo = { ip: "10.0.0.7", app: "client", discovery: "interface" };
 * console.log(provider, consumer);
 * ```
 *
 * @module
 */
import type { Directory } from "./directory.ts";
import type { MetadataInfo } from "./instance.ts";

/**
 * Who we are as a provider: advertised address, application and service group/version.
 *
 * @example
 * ```ts no-assert
 * const provider: ProviderInfo = { ip: "10.0.0.5", port: 20000, app: "server", registerMode: "interface" };
 * console.log(provider);
 * ```
 */
export interface ProviderInfo {
  ip: string;
  port: number;
  app: string;
  group?: string;
  version?: string;
  /** Interface-level node, application-level instance + mapping, or both (default). */
  registerMode?: "interface" | "instance" | "all";
  /** What the instance advertises; default `appMetadata` of this provider. */
  metadata?: MetadataInfo;
}

/**
 * Who we are as a consumer, and which group/version of the service we want.
 *
 * @example
 * ```ts no-assert
 * const consumer: ConsumerInfo = { ip: "10.0.0.7", app: "client", version: "*" };
 * console.log(consumer);
 * ```
 */
export interface ConsumerInfo {
  ip: string;
  app: string;
  group?: string;
  version?: string;
  /** Interface-level, application-level, or application first (default `auto`). */
  discovery?: "interface" | "instance" | "auto";
}

/**
 * Service registration and discovery (Dubbo's interface-level registry).
 *
 * @example
 * ```ts no-assert
 * async function shutdown(registry: Registry): Promise<void> {
 *   await registry.close(); // bounded, never throws
 * }
 * console.log(typeof shutdown);
 * ```
 */
export interface Registry {
  /**
   * Publishes our provider node; resolves once written, or rejects with a clear error
   * after the connect timeout (ZooKeeper keeps being retried until `close()`).
   */
  register(provider: ProviderInfo): Promise<void>;
  /** Publishes our consumer node and starts following providers; returns a live Directory. */
  subscribe(consumer: ConsumerInfo): Promise<Directory>;
  /** Removes our nodes (bounded), then disconnects; never throws. */
  close(): Promise<void>;
}
