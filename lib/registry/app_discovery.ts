/**
 * Application-level discovery for one consumer subscription: reads (and watches) the
 * mapping `/dubbo/mapping/<interface>`, watches `/services/<app>` of every mapped app and
 * each instance node, fetches each app revision's MetadataInfo once (cached by app and
 * revision), and publishes the resulting Triple endpoints. Any watch firing re-reads
 * the lot (bursts coalesced). Malformed instance JSON or mapping values are skipped
 * with one log line each.
 *
 * @module
 */
import type { ZkSession } from "./_zk.ts";
import { hasCode, isTransient, reason } from "./_zk_error.ts";
import { type DiscoveryOptions, OP_TIMEOUT_MS, WatchRefresher } from "./_watch.ts";
import type { Endpoint } from "../endpoint.ts";
import { type Instance, type MetadataInfo, parseInstance, SERVICES_ROOT } from "./instance.ts";
import { mappingPath, parseMapping } from "./mapping.ts";
import { fetchMetadata, instanceEndpoints, type ReadNode } from "./metadata_fetch.ts";

/**
 * What `AppDiscovery` needs from its registry.
 *
 * @example
 * ```ts no-assert
 * import type { Instance } from "./instance.ts";
 * import { fetchMetadata, type ReadNode } from "./metadata_fetch.ts";
 *
 * // `fetch` defaults to this; a caller may log or limit around it:
 * const fetch: AppDiscoveryOptions["fetch"] = (i: Instance, read: ReadNode) => fetchMetadata(i, read);
 * console.log(typeof fetch);
 * ```
 */
export interface AppDiscoveryOptions extends DiscoveryOptions {
  /** Metadata fetcher; default `fetchMetadata` (tests may replace it). */
  fetch?: (instance: Instance, readNode: ReadNode) => Promise<MetadataInfo>;
}

/** A failed metadata fetch is retried on a later change after this long. */
const RETRY_FAILED_MS = 30_000;
const MAX_CACHED = 256;

interface Cached {
  info?: MetadataInfo;
  failedAt?: number;
}

/**
 * Follows the application-level providers of one subscription (see the module doc).
 *
 * @example
 * ```ts no-assert
 * import { ProviderDirectory } from "./directory.ts";
 * import { Selection } from "./selection.ts";
 * import { NO_REGISTRY_EVENTS } from "../observe.ts";
 *
 * const discovery = new AppDiscovery({
 *   chroot: "",
 *   filter: { interface: "greet.GreetService", group: "", version: "" },
 *   selection: new Selection(new ProviderDirectory(), "instance", console.log, "greet.GreetService"),
 *   observer: NO_REGISTRY_EVENTS,
 *   log: console.log,
 *   current: () => undefined, // the registry's session; `follow(session)` reads with watches
 * });
 * discovery.close();
 * ```
 */
export class AppDiscovery {
  readonly #o: AppDiscoveryOptions;
  readonly #refresher: WatchRefresher;
  #cache = new Map<string, Cached>();
  #logged = new Set<string>();

  constructor(options: AppDiscoveryOptions) {
    this.#o = options;
    this.#refresher = new WatchRefresher({
      current: options.current,
      refresh: (session) => this.#refresh(session),
      onError: (error) => {
        if (!isTransient(error)) this.#o.log(`registry: cannot list instances: ${reason(error)}`);
      },
    });
  }

  /** (Re)reads everything with watches in `session`; throws ZooKeeper errors. */
  async follow(session: ZkSession): Promise<void> {
    const started = performance.now();
    try {
      await this.#refresh(session);
      this.#o.observer.subscribeService?.(true, performance.now() - started);
    } catch (error) {
      this.#o.observer.subscribeService?.(false, performance.now() - started);
      throw error;
    }
  }

  /** Stops reacting to watches. */
  close(): void {
    this.#refresher.close();
  }

  async #refresh(session: ZkSession): Promise<void> {
    const fire = this.#refresher.watcher(session);
    const apps = await this.#apps(session, fire);
    const instances: Instance[] = [];
    for (const app of apps) instances.push(...await this.#instances(session, app, fire));
    await this.#resolve(session, instances);
    const endpoints: Endpoint[] = [];
    for (const instance of instances) {
      const cached = this.#cache.get(cacheKey(instance));
      endpoints.push(...instanceEndpoints(instance, cached?.info, this.#o.filter));
    }
    if (!this.#refresher.closed) this.#o.selection.setApp(endpoints);
  }

  /** The mapped application names (watched; a missing node is watched for creation). */
  async #apps(session: ZkSession, fire: () => void): Promise<string[]> {
    const path = mappingPath(this.#o.filter.interface, this.#o.chroot);
    let value: string;
    try {
      value = (await session.getData(path, fire, OP_TIMEOUT_MS)).data;
    } catch (error) {
      if (!hasCode(error, "NO_NODE")) throw error;
      if (await session.exists(path, OP_TIMEOUT_MS, fire)) return this.#apps(session, fire);
      return [];
    }
    const { apps, bad } = parseMapping(value);
    if (bad.length > 0) {
      this.#once(`mapping|${value}`, `registry: skipped malformed application names in ${path}`);
    }
    return apps;
  }

  /** The parseable instances of `app` (children and each node's data watched). */
  async #instances(session: ZkSession, app: string, fire: () => void): Promise<Instance[]> {
    const dir = `${this.#o.chroot}${SERVICES_ROOT}/${app}`;
    let children: string[];
    try {
      children = await session.getChildren(dir, fire, OP_TIMEOUT_MS);
    } catch (error) {
      if (!hasCode(error, "NO_NODE")) throw error;
      if (await session.exists(dir, OP_TIMEOUT_MS, fire)) {
        return this.#instances(session, app, fire);
      }
      return [];
    }
    const found: Instance[] = [];
    for (const child of children.sort()) {
      let data: string;
      try {
        data = (await session.getData(`${dir}/${child}`, fire, OP_TIMEOUT_MS)).data;
      } catch (error) {
        if (hasCode(error, "NO_NODE")) continue; // just left
        throw error;
      }
      const parsed = parseInstance(app, data);
      if (typeof parsed === "string") {
        this.#once(
          `instance|${dir}/${child}|${data}`,
          `registry: skipped ${dir}/${child}: ${parsed}`,
        );
      } else found.push(parsed);
    }
    return found;
  }

  /** Fetches the metadata of revisions not cached yet (one instance per revision). */
  async #resolve(session: ZkSession, instances: Instance[]): Promise<void> {
    const todo = new Map<string, Instance>();
    const now = Date.now();
    for (const instance of instances) {
      const key = cacheKey(instance);
      const cached = this.#cache.get(key);
      if (cached?.info) continue;
      if (cached?.failedAt !== undefined && now - cached.failedAt < RETRY_FAILED_MS) continue;
      if (!todo.has(key)) todo.set(key, instance);
    }
    const readNode: ReadNode = async (path) =>
      (await session.getData(path, undefined, OP_TIMEOUT_MS)).data;
    const fetch = this.#o.fetch ??
      ((i: Instance, r: ReadNode) => fetchMetadata(i, r, this.#o.chroot));
    await Promise.all([...todo].map(async ([key, instance]) => {
      const started = performance.now();
      try {
        const info = await fetch(instance, readNode);
        this.#remember(key, { info });
        this.#o.observer.metadataSubscribe?.(true, performance.now() - started);
      } catch (error) {
        this.#remember(key, { failedAt: Date.now() });
        this.#o.observer.metadataSubscribe?.(false, performance.now() - started);
        this.#once(
          `metadata|${key}`,
          `registry: WARNING cannot fetch metadata of ${instance.app} revision ${instance.revision} ` +
            `from ${instance.host}: ${reason(error)}; using its dubbo.endpoints instead`,
        );
      }
    }));
  }

  #remember(key: string, value: Cached): void {
    this.#cache.delete(key);
    this.#cache.set(key, value);
    if (this.#cache.size > MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
  }

  /** Logs `line` once per `key` (bounded memory). */
  #once(key: string, line: string): void {
    if (this.#logged.has(key)) return;
    if (this.#logged.size > 1024) this.#logged.clear();
    this.#logged.add(key);
    this.#o.log(line);
  }
}

function cacheKey(instance: Instance): string {
  return `${instance.app}|${instance.revision}`;
}
