/**
 * Fails fast, with one line, when the process lacks a permission its configuration
 * needs, instead of degrading silently (e.g. labelling every series `127.0.0.1` because
 * the network interfaces could not be read).
 *
 * @module
 */
import type { CleanerConfig, ClientConfig, Program, ServerConfig } from "./config_types.ts";

/**
 * A permission the process needs and does not have; its message says which flag grants it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new PermissionMissing("needs --allow-sys=hostname");
 * assert.equal(describe("server", error), "server: needs --allow-sys=hostname (run it with `deno task server`)");
 * ```
 */
export class PermissionMissing extends Error {
  override name = "PermissionMissing";
}

/**
 * Throws {@linkcode PermissionMissing} unless every variable in `names` may be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * requireEnv([]); // nothing to read, nothing missing
 * const state = Deno.permissions.querySync({ name: "env", variable: "ZK_ADDRESS" }).state;
 * if (state !== "granted") {
 *   assert.throws(() => requireEnv(["ZK_ADDRESS"]), /needs --allow-env=ZK_ADDRESS/);
 * }
 * ```
 */
export function requireEnv(names: readonly string[]): void {
  const missing = names.filter((variable) =>
    Deno.permissions.querySync({ name: "env", variable }).state !== "granted"
  );
  if (missing.length > 0) {
    throw new PermissionMissing(`needs --allow-env=${missing.join(",")}`);
  }
}

/**
 * Throws {@linkcode PermissionMissing} unless the process may do everything `config`
 * asks for: listen on its ports, reach ZooKeeper and the Pushgateway, read the hostname
 * and network interfaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * const parsed = parseConfig("cleaner", [], { PUSHGATEWAY_URL: "127.0.0.1:9091" });
 * assert.ok(!parsed.help);
 * const state = Deno.permissions.querySync({ name: "net", host: "127.0.0.1:9091" }).state;
 * if (state === "granted") requirePermissions(parsed.config); // does not throw
 * const server = parseConfig("server", [], {});
 * const sys = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state;
 * if (!server.help && sys !== "granted") {
 *   assert.throws(() => requirePermissions(server.config), /--allow-sys=hostname/);
 * }
 * ```
 */
export function requirePermissions(config: ServerConfig | ClientConfig | CleanerConfig): void {
  const needed = neededPermissions(config);
  const missing = needed.filter((descriptor) =>
    Deno.permissions.querySync(descriptor).state !== "granted"
  );
  if (missing.length === 0) return;
  const net = missing.flatMap((d) => d.name === "net" && d.host ? [d.host] : []);
  const sys = missing.flatMap((d) => d.name === "sys" && d.kind ? [d.kind] : []);
  const flags = [
    net.length > 0 ? `--allow-net=${net.join(",")}` : "",
    sys.length > 0 ? `--allow-sys=${sys.join(",")}` : "",
  ].filter(Boolean);
  throw new PermissionMissing(`needs ${flags.join(" ")}`);
}

/**
 * The permissions a configuration needs, as Deno permission descriptors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * const parsed = parseConfig("cleaner", [], { PUSHGATEWAY_URL: "127.0.0.1:9091" });
 * assert.ok(!parsed.help);
 * assert.deepEqual(neededPermissions(parsed.config), [{ name: "net", host: "127.0.0.1:9091" }]);
 * ```
 */
export function neededPermissions(
  config: ServerConfig | ClientConfig | CleanerConfig,
): Deno.PermissionDescriptor[] {
  const needed: Deno.PermissionDescriptor[] = [];
  const net = (host: string) => needed.push({ name: "net", host });
  if (config.program === "cleaner") {
    net(new URL(config.pushgateway.url).host);
    if (config.daemon) net(`${config.host}:${config.metricsPort}`);
    return needed;
  }
  needed.push({ name: "sys", kind: "hostname" }, { name: "sys", kind: "networkInterfaces" });
  net(`${config.host}:${config.metricsPort}`);
  if (config.program === "server") net(`${config.host}:${config.port}`);
  if (config.program === "client" && config.url) {
    net(`${hostForUrl(config.url.host)}:${config.url.port}`);
  }
  if (config.push) net(new URL(config.pushgateway.url).host);
  const usesZooKeeper = config.registry === "zookeeper" &&
    !(config.program === "client" && config.url);
  if (usesZooKeeper) {
    const hosts = config.zkAddress.split("/")[0];
    for (const host of hosts.split(",")) net(host.includes(":") ? host : `${host}:2181`);
  }
  return needed;
}

/**
 * Labels used in error lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const line = describe("cleaner", new PermissionMissing("needs --allow-net=127.0.0.1:9091"));
 * assert.match(line, /^cleaner: needs --allow-net=127\.0\.0\.1:9091/);
 * ```
 */
export function describe(program: Program, error: PermissionMissing): string {
  return `${program}: ${error.message} (run it with \`deno task ${program}\`)`;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
