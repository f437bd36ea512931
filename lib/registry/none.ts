/**
 * `--registry=none`: nothing is published, and the consumer calls the providers it was
 * given directly (`--url`).
 *
 * @module
 */
import type { Endpoint } from "../endpoint.ts";
import { ProviderDirectory } from "./directory.ts";
import type { Directory } from "./directory.ts";
import type { Registry } from "./types.ts";

/**
 * A registry that registers nothing and discovers a fixed list of providers: direct
 * calls without ZooKeeper.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const registry = new StaticRegistry([{ host: "10.0.0.5", port: 20000 }]);
 * const directory = await registry.subscribe();
 * assert.equal(directory.list().length, 1);
 * ```
 */
export class StaticRegistry implements Registry {
  readonly #providers: Endpoint[];

  constructor(providers: Endpoint[] = []) {
    this.#providers = providers;
  }

  register(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(): Promise<Directory> {
    return Promise.resolve(new ProviderDirectory(this.#providers));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
