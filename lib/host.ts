/**
 * Who this process is on the network: the hostname and the IP advertised in the
 * registry and in metric labels (Dubbo's `ip`/`hostname` labels).
 *
 * @module
 */

/**
 * The machine's hostname, or `"localhost"` when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(hostname().length > 0); // "localhost" without --allow-sys=hostname
 * ```
 */
export function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/**
 * The IP to advertise: `override` when given, else the bound host when it is a specific
 * address, else the first non-loopback IPv4 interface address, else `127.0.0.1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(advertisedIp("10.0.0.5", "0.0.0.0"), "10.0.0.5"); // --advertise-ip wins
 * assert.equal(advertisedIp(undefined, "127.0.0.1"), "127.0.0.1"); // bound to one address: that one
 * ```
 */
export function advertisedIp(override: string | undefined, boundHost: string): string {
  if (override) return override;
  if (boundHost !== "0.0.0.0" && boundHost !== "::" && boundHost !== "localhost") return boundHost;
  let interfaces: Deno.NetworkInterfaceInfo[] = [];
  try {
    interfaces = Deno.networkInterfaces();
  } catch {
    return "127.0.0.1";
  }
  const candidate = interfaces.find((i) => i.family === "IPv4" && !i.address.startsWith("127."));
  return candidate?.address ?? "127.0.0.1";
}
