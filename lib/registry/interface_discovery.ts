/**
 * Interface-level discovery for one consumer subscription: lists
 * `/dubbo/<interface>/providers` with a watch, keeps the `tri` providers of the wanted
 * group/version, and hands them to the subscription's `Selection`. A watch firing
 * re-lists (bursts coalesced) while its session is the registry's current one.
 *
 * @module
 */
import type { ZkSession } from "./_zk.ts";
import { hasCode, isTransient, reason } from "./_zk_error.ts";
import { type DiscoveryOptions, OP_TIMEOUT_MS, WatchRefresher } from "./_watch.ts";
import type { Endpoint } from "../endpoint.ts";
import { categoryPath, parseUrl, providerMatches } from "./url.ts";

/**
 * What `InterfaceDiscovery` needs from its registry.
 *
 * @example
 * ```ts no-assert
 * import { ProviderDirectory } from "./directory.ts";
 * import { Selection } from "./selection.ts";
 * import { NO_REGISTRY_EVENTS } from "../observe.ts";
 *
 * const options: InterfaceDiscoveryOptions = {
 *   chroot: "/test",
 *   filter: { interface: "greet.GreetService", group: "*", version: "*" },
 *   selection: new Selection(new ProviderDirectory(), "interface", console.log, "greet.GreetService"),
 *   observer: NO_REGISTRY_EVENTS,
 *   log: console.log,
 *   current: () => undefined,
 * };
 * new InterfaceDiscovery(options).close();
 * ```
 */
export type InterfaceDiscoveryOptions = DiscoveryOptions;

/**
 * Follows `/dubbo/<interface>/providers` for one subscription (see the module doc).
 *
 * @example
 * ```ts no-assert
 * import { ProviderDirectory } from "./directory.ts";
 * import { Selection } from "./selection.ts";
 * import { NO_REGISTRY_EVENTS } from "../observe.ts";
 *
 * const discovery = new InterfaceDiscovery({
 *   chroot: "",
 *   filter: { interface: "greet.GreetService", group: "", version: "" },
 *   selection: new Selection(new ProviderDirectory(), "interface", console.log, "greet.GreetService"),
 *   observer: NO_REGISTRY_EVENTS,
 *   log: console.log,
 *   current: () => undefined, // the registry's session; `follow(session)` lists with a watch
 * });
 * discovery.close();
 * ```
 */
export class InterfaceDiscovery {
  readonly #o: InterfaceDiscoveryOptions;
  readonly #path: string;
  readonly #refresher: WatchRefresher;

  constructor(options: InterfaceDiscoveryOptions) {
    this.#o = options;
    this.#path = categoryPath("providers", options.chroot, options.filter.interface);
    this.#refresher = new WatchRefresher({
      current: options.current,
      refresh: (session) => this.follow(session),
      // Transient errors are cured by the reconnect handler's re-list.
      onError: (error) => {
        if (!isTransient(error)) this.#o.log(`registry: cannot list providers: ${reason(error)}`);
      },
    });
  }

  /** Lists providers with a watch in `session` and updates the selection. */
  async follow(session: ZkSession): Promise<void> {
    const fire = this.#refresher.watcher(session);
    const started = performance.now();
    let children: string[];
    try {
      children = await session.getChildren(this.#path, fire, OP_TIMEOUT_MS);
    } catch (error) {
      if (!hasCode(error, "NO_NODE")) throw error;
      await session.mkdirp(this.#path, OP_TIMEOUT_MS);
      children = await session.getChildren(this.#path, fire, OP_TIMEOUT_MS);
    }
    const endpoints: Endpoint[] = [];
    for (const child of children) {
      const parsed = parseUrl(child);
      if (parsed && providerMatches(parsed, this.#o.filter)) {
        endpoints.push({ host: parsed.host, port: parsed.port });
      }
    }
    this.#o.selection.setInterface(endpoints);
    this.#o.observer.notify(endpoints.length, performance.now() - started);
  }

  /** Stops reacting to watches. */
  close(): void {
    this.#refresher.close();
  }
}
