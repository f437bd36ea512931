/**
 * Interface-level discovery for one consumer subscription: lists
 * `/dubbo/<interface>/providers` with a watch, keeps the `tri` providers of the wanted
 * group/version, and hands them to the subscription's `Selection`. A watch firing
 * re-lists (bursts coalesced) while its session is the registry's current one.
 *
 * @module
 */
import type { RegistryObserver } from "../observe.ts";
import { isTransient, ZkError, type ZkSession } from "./_zk.ts";
import type { Endpoint } from "./directory.ts";
import type { Selection } from "./selection.ts";
import { categoryPath, parseUrl, type ProviderFilter, providerMatches } from "./url.ts";

/** What `InterfaceDiscovery` needs from its registry. */
export interface InterfaceDiscoveryOptions {
  chroot: string;
  filter: ProviderFilter;
  selection: Selection;
  observer: RegistryObserver;
  log: (line: string) => void;
  /** The registry's current session (watches of older sessions are ignored). */
  current: () => ZkSession | undefined;
}

const OP_TIMEOUT_MS = 5_000;

/** See the module doc. */
export class InterfaceDiscovery {
  readonly #o: InterfaceDiscoveryOptions;
  readonly #path: string;
  #watcher?: { session: ZkSession; fire: () => void };
  #running = false;
  #again = false;
  #closed = false;

  constructor(options: InterfaceDiscoveryOptions) {
    this.#o = options;
    this.#path = categoryPath("providers", options.chroot);
  }

  /** Lists providers with a watch in `session` and updates the selection. */
  async follow(session: ZkSession): Promise<void> {
    if (this.#watcher?.session !== session) {
      this.#watcher = { session, fire: () => this.#changed(session) };
    }
    const fire = this.#watcher.fire;
    const started = performance.now();
    let children: string[];
    try {
      children = await session.getChildren(this.#path, fire, OP_TIMEOUT_MS);
    } catch (error) {
      if (!(error instanceof ZkError && error.code === "NO_NODE")) throw error;
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
    this.#closed = true;
  }

  /** A providers watch fired: re-list (coalescing bursts) while the session is current. */
  #changed(session: ZkSession): void {
    if (this.#closed || session !== this.#o.current()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    (async () => {
      do {
        this.#again = false;
        if (this.#closed || session !== this.#o.current()) break;
        try {
          await this.follow(session);
        } catch (error) {
          // Transient errors are cured by the reconnect handler's re-list.
          if (!isTransient(error)) {
            this.#o.log(`registry: cannot list providers: ${(error as Error).message}`);
          }
          break;
        }
      } while (this.#again);
      this.#running = false;
    })();
  }
}
