/**
 * Which providers a consumer calls when both layouts are known: `interface` uses only
 * `/dubbo/<interface>/providers`, `instance` only application-level instances, and
 * `auto` (Dubbo Java's APPLICATION_FIRST) application-level ones whenever there are any,
 * else interface-level ones.
 *
 * @module
 */
import { type Endpoint, endpointKey } from "../endpoint.ts";
import type { ProviderDirectory } from "./directory.ts";

/**
 * Discovery mode of a consumer (`--discovery`).
 *
 * @example
 * ```ts
 * import { ProviderDirectory } from "./directory.ts";
 *
 * const mode: DiscoveryMode = "instance";
 * import assert from "node:assert/strict";
 * assert.equal(new Selection(new ProviderDirectory(), mode, console.log, "demo.EchoService").mode, mode);
 * ```
 */
export type DiscoveryMode = "interface" | "instance" | "auto";

/**
 * Holds both provider lists and publishes the chosen one into a directory, logging
 * which layout is in use whenever the choice changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProviderDirectory } from "./directory.ts";
 *
 * const directory = new ProviderDirectory();
 * const selection = new Selection(directory, "auto", console.log, "greet.GreetService");
 * selection.setInterface([{ host: "10.0.0.5", port: 20000 }]);
 * selection.setApp([{ host: "10.0.0.6", port: 20000 }]); // application-level wins in `auto`
 * assert.equal(directory.list()[0].host, "10.0.0.6");
 * ```
 */
export class Selection {
  #interface: Endpoint[] = [];
  #app: Endpoint[] = [];
  #layout = "";

  constructor(
    readonly directory: ProviderDirectory,
    readonly mode: DiscoveryMode,
    readonly log: (line: string) => void,
    /** The interface whose providers these are, for the log line. */
    readonly service: string,
  ) {}

  /** Interface-level providers changed. */
  setInterface(endpoints: Endpoint[]): void {
    this.#interface = endpoints;
    this.#publish();
  }

  /** Application-level providers changed. */
  setApp(endpoints: Endpoint[]): void {
    this.#app = endpoints;
    this.#publish();
  }

  #publish(): void {
    const useApp = this.mode === "instance" || (this.mode === "auto" && this.#app.length > 0);
    const chosen = this.mode === "interface"
      ? this.#interface
      : useApp
      ? this.#app
      : this.#interface;
    const layout = this.mode === "interface" || !useApp ? "interface-level" : "application-level";
    const changed = this.directory.update(chosen);
    if (!changed && layout === this.#layout) return;
    this.#layout = layout;
    const list = this.directory.list();
    const names = list.map(endpointKey).join(", ");
    this.log(
      `registry: ${this.service} providers (${layout}): ${list.length}${
        names ? ` (${names})` : ""
      }`,
    );
  }
}
