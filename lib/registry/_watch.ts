/**
 * What interface-level and application-level discovery share: their options, and the
 * re-read loop a ZooKeeper watch starts. Watches are one-shot and can fire in bursts, so a
 * firing re-reads at most once more after the read in progress, and only while its
 * session is still the registry's current one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * let reads = 0;
 * const refresher = new WatchRefresher({
 *   current: () => undefined, // no session yet: a firing does nothing
 *   refresh: () => Promise.resolve(void reads++),
 *   onError: () => {},
 * });
 * refresher.close();
 * assert(reads === 0);
 * ```
 *
 * @module
 */
import type { RegistryObserver } from "../observe.ts";
import type { ZkSession } from "./_zk.ts";
import type { Selection } from "./selection.ts";
import type { ProviderFilter } from "./url.ts";

/** Deadline of one ZooKeeper read or write made by discovery. */
export const OP_TIMEOUT_MS = 5_000;

/**
 * What a discovery needs from its registry: where to look, what to keep, whom to tell.
 *
 * @example
 * ```ts no-assert
 * import { ProviderDirectory } from "./directory.ts";
 * import { Selection } from "./selection.ts";
 * import { NO_REGISTRY_EVENTS } from "../observe.ts";
 *
 * const options: DiscoveryOptions = {
 *   chroot: "",
 *   filter: { interface: "greet.GreetService", group: "", version: "" },
 *   selection: new Selection(new ProviderDirectory(), "auto", console.log, "greet.GreetService"),
 *   observer: NO_REGISTRY_EVENTS,
 *   log: console.log,
 *   current: () => undefined,
 * };
 * console.log(options.chroot === "");
 * ```
 */
export interface DiscoveryOptions {
  chroot: string;
  filter: ProviderFilter;
  selection: Selection;
  observer: RegistryObserver;
  log: (line: string) => void;
  /** The registry's current session (watches of older sessions are ignored). */
  current: () => ZkSession | undefined;
}

/**
 * How a `WatchRefresher` re-reads, and where its errors go.
 *
 * @example
 * ```ts no-assert
 * const options: RefresherOptions = {
 *   current: () => undefined,
 *   refresh: () => Promise.resolve(),
 *   onError: (error) => console.error(error),
 * };
 * new WatchRefresher(options).close();
 * ```
 */
export interface RefresherOptions {
  /** The registry's current session. */
  current: () => ZkSession | undefined;
  /** Re-reads with new watches in `session`. */
  refresh: (session: ZkSession) => Promise<void>;
  /** A re-read failed (the loop stops until the next firing). */
  onError: (error: unknown) => void;
}

/**
 * Turns watch firings into coalesced re-reads: `watcher(session)` is the callback to
 * pass to ZooKeeper (one per session, so repeated reads do not pile up watchers).
 *
 * @example
 * ```ts no-assert
 * import type { ZkSession } from "./_zk.ts";
 *
 * let session: ZkSession | undefined; // the registry's current session
 * const refresher: WatchRefresher = new WatchRefresher({
 *   current: () => session,
 *   refresh: async (s): Promise<void> => {
 *     await s.getChildren("/dubbo", refresher.watcher(s), 5_000);
 *   },
 *   onError: (error) => console.error(error),
 * });
 * refresher.close();
 * ```
 */
export class WatchRefresher {
  readonly #o: RefresherOptions;
  #watcher?: { session: ZkSession; fire: () => void };
  #running = false;
  #again = false;
  #closed = false;

  constructor(options: RefresherOptions) {
    this.#o = options;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The watch callback for `session`. */
  watcher(session: ZkSession): () => void {
    if (this.#watcher?.session !== session) {
      this.#watcher = { session, fire: () => this.#fired(session) };
    }
    return this.#watcher.fire;
  }

  /** Stops reacting to watches. */
  close(): void {
    this.#closed = true;
  }

  #live(session: ZkSession): boolean {
    return !this.#closed && session === this.#o.current();
  }

  #fired(session: ZkSession): void {
    if (!this.#live(session)) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    (async () => {
      do {
        this.#again = false;
        if (!this.#live(session)) break;
        try {
          await this.#o.refresh(session);
        } catch (error) {
          this.#o.onError(error);
          break;
        }
      } while (this.#again);
      this.#running = false;
    })();
  }
}
