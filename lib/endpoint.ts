/**
 * A provider address and its `host:port` key: the contract between the registry's
 * `Directory.pick(tried)` and the call loop that fills `tried`.
 *
 * @module
 */

/** A provider address. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * `host:port`, the key of `tried` sets and of provider lists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(endpointKey({ host: "10.0.0.5", port: 20000 }), "10.0.0.5:20000");
 * ```
 */
export function endpointKey(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}
