/**
 * A live list of provider endpoints with round-robin balancing: what a consumer calls through.
 * The registry updates it; callers `pick` an endpoint per call and skip the ones a call
 * already tried (Dubbo's failover cluster).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const directory = new ProviderDirectory();
 * directory.update([{ host: "10.0.0.5", port: 20000 }, { host: "10.0.0.6", port: 20000 }]);
 * assert.equal(directory.pick(new Set())?.host, "10.0.0.5");
 * assert.equal(directory.pick(new Set())?.host, "10.0.0.6");
 * ```
 *
 * @module
 */

import { type Endpoint, endpointKey } from "../endpoint.ts";

/**
 * The providers a consumer can call right now: what the RPC client calls through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endpointKey } from "../endpoint.ts";
 * function next(directory: Directory, tried: Set<string>) {
 *   const endpoint = directory.pick(tried); // skips what this call already tried
 *   if (endpoint) tried.add(endpointKey(endpoint));
 *   return endpoint;
 * }
 * const tried = new Set<string>();
 * const directory = new ProviderDirectory([{ host: "10.0.0.5", port: 20000 }]);
 * assert.deepEqual(next(directory, tried), { host: "10.0.0.5", port: 20000 });
 * assert.equal(next(directory, tried), undefined); // the only provider was tried
 * ```
 */
export interface Directory {
  /** Current providers, sorted by `host:port`. */
  list(): Endpoint[];
  /** A round-robin choice not in `tried` (keys `${host}:${port}`); `undefined` when none is left. */
  pick(tried: ReadonlySet<string>): Endpoint | undefined;
  /** Calls `listener` with the new list on every change. */
  onChange(listener: (endpoints: Endpoint[]) => void): void;
}

/**
 * A `Directory` whose list the owner (a registry) replaces with `update`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const directory = new ProviderDirectory([{ host: "10.0.0.5", port: 20000 }]);
 * const seen: number[] = [];
 * directory.onChange((endpoints) => seen.push(endpoints.length));
 * directory.update([]);
 * assert.deepEqual(seen, [0]);
 * assert.equal(directory.pick(new Set()), undefined);
 * ```
 */
export class ProviderDirectory implements Directory {
  #endpoints: Endpoint[] = [];
  #listeners: Array<(endpoints: Endpoint[]) => void> = [];
  #next = 0;

  constructor(initial: Endpoint[] = []) {
    this.#endpoints = normalize(initial);
  }

  list(): Endpoint[] {
    return this.#endpoints.map((e) => ({ ...e }));
  }

  pick(tried: ReadonlySet<string>): Endpoint | undefined {
    const candidates = tried.size === 0
      ? this.#endpoints
      : this.#endpoints.filter((e) => !tried.has(endpointKey(e)));
    if (candidates.length === 0) return undefined;
    const index = this.#next++ % candidates.length;
    if (this.#next >= Number.MAX_SAFE_INTEGER) this.#next = 0;
    return { ...candidates[index] };
  }

  onChange(listener: (endpoints: Endpoint[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Replaces the list; returns whether it changed (listeners fire only then). */
  update(endpoints: Endpoint[]): boolean {
    const next = normalize(endpoints);
    const same = next.length === this.#endpoints.length &&
      next.every((e, i) => endpointKey(e) === endpointKey(this.#endpoints[i]));
    if (same) return false;
    this.#endpoints = next;
    for (const listener of this.#listeners) {
      try {
        listener(this.list());
      } catch { /* a listener's bug must not stop discovery */ }
    }
    return true;
  }
}

function normalize(endpoints: Endpoint[]): Endpoint[] {
  const unique = new Map<string, Endpoint>();
  for (const e of endpoints) unique.set(endpointKey(e), { host: e.host, port: e.port });
  return [...unique.values()].sort((a, b) => compare(endpointKey(a), endpointKey(b)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
