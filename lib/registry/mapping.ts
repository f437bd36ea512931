/**
 * Dubbo's service-name mapping: persistent `/dubbo/mapping/<interface>` whose value lists
 * the applications providing the interface, comma-separated. Providers add themselves
 * with compare-and-set on the node version (never dropping another application, so
 * several apps registering at once all survive); consumers read it to know which
 * `/services/<app>` to watch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(mappingPath("greet.GreetService"), "/dubbo/mapping/greet.GreetService");
 * assert.deepEqual(parseMapping("a, b,a").apps, ["a", "b"]);
 * ```
 *
 * @module
 */
import type { ZkSession } from "./_zk.ts";
import { hasCode } from "./_zk_error.ts";

/** Parent of mapping nodes (Java `ServiceNameMapping.DEFAULT_MAPPING_GROUP`). */
const MAPPING_ROOT = "/dubbo/mapping";

/**
 * The mapping node of an interface, under an optional chroot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(mappingPath("greet.GreetService", "/t"), "/t/dubbo/mapping/greet.GreetService");
 * ```
 */
export function mappingPath(iface: string, chroot = ""): string {
  return `${chroot}${MAPPING_ROOT}/${iface}`;
}

const APP_NAME = /^[\w.\-:@]{1,128}$/;

/**
 * Splits a mapping value into application names; invalid names are reported in `bad`
 * (the caller logs them once), never thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseMapping("server,bad name"), { apps: ["server"], bad: ["bad name"] });
 * ```
 */
export function parseMapping(value: string): { apps: string[]; bad: string[] } {
  const apps: string[] = [];
  const bad: string[] = [];
  if (value.length > 64 * 1024) return { apps, bad: ["<value too large>"] };
  for (const part of value.split(",")) {
    const name = part.trim();
    if (!name) continue;
    if (APP_NAME.test(name)) {
      if (!apps.includes(name)) apps.push(name);
    } else bad.push(name.slice(0, 40));
  }
  return { apps, bad };
}

const MAX_ATTEMPTS = 20;

/**
 * Adds `app` to the mapping of `iface` with compare-and-set; resolves once it is listed.
 * Other names in the value are kept as they are.
 *
 * @example
 * ```ts no-assert
 * import type { ZkSession } from "./_zk.ts";
 *
 * // What a provider does after writing its instance node:
 * async function announce(session: ZkSession): Promise<void> {
 *   await mergeMapping(session, mappingPath("greet.GreetService"), "server", 5_000);
 * }
 * console.log(typeof announce);
 * ```
 */
export async function mergeMapping(
  session: ZkSession,
  path: string,
  app: string,
  timeoutMs: number,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let current: { data: string; version: number };
    try {
      current = await session.getData(path, undefined, timeoutMs);
    } catch (error) {
      if (!hasCode(error, "NO_NODE")) throw error;
      await session.mkdirp(path.slice(0, path.lastIndexOf("/")), timeoutMs);
      try {
        await session.create(path, app, false, timeoutMs);
        return;
      } catch (created) {
        if (hasCode(created, "NODE_EXISTS")) continue;
        throw created;
      }
    }
    const names = current.data.split(",").map((n) => n.trim()).filter((n) => n);
    if (names.includes(app)) return;
    try {
      await session.setData(path, [...names, app].join(","), current.version, timeoutMs);
      return;
    } catch (error) {
      if (!hasCode(error, "BAD_VERSION")) throw error;
      // Someone else wrote meanwhile: read again and retry.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    }
  }
  throw new Error(`mapping ${path}: still contended after ${MAX_ATTEMPTS} attempts`);
}
