/**
 * This project's version: the `application_version` label and the registry's `release`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(VERSION, /^\d+\.\d+\.\d+$/);
 * ```
 */
export const VERSION = "0.1.0";

/** Dubbo's `release` URL parameter for our nodes. */
export const RELEASE = `dubbo-metrics-deno-${VERSION}`;
