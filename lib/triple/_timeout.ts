/**
 * Reading a call's timeout from the headers the Triple family uses.
 *
 * @module
 */

/** Longest timeout a timer can hold; larger values mean "no deadline". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Header names carrying plain decimal milliseconds, in the order they are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * for (const name of MS_TIMEOUT_HEADERS) {
 *   assert.deepEqual(readTimeout((asked) => asked === name ? "250" : undefined), { ok: true, ms: 250 });
 * }
 * ```
 */
export const MS_TIMEOUT_HEADERS = [
  "triple-timeout-ms",
  "tri-service-timeout",
  "connect-timeout-ms",
] as const;

const GRPC_UNIT_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/**
 * Result of reading the timeout headers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const result: TimeoutResult = readTimeout(() => "x");
 * assert.equal(result.ok, false);
 * ```
 */
export type TimeoutResult =
  | { ok: true; ms: number | undefined }
  | { ok: false; message: string };

/**
 * The smallest timeout among `Triple-Timeout-Ms`, `tri-service-timeout`,
 * `Connect-Timeout-Ms` (decimal ms, at most 10 digits) and `grpc-timeout`
 * (at most 8 digits plus a unit `H M S m u n`). `ms` is `undefined` when none is set.
 * A malformed value is an error (the caller answers `invalid_argument`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const headers = new Map([["triple-timeout-ms", "3000"], ["grpc-timeout", "2S"]]);
 * assert.deepEqual(readTimeout((name) => headers.get(name)), { ok: true, ms: 2000 });
 * assert.deepEqual(readTimeout(() => undefined), { ok: true, ms: undefined });
 * ```
 */
export function readTimeout(header: (name: string) => string | undefined): TimeoutResult {
  let smallest: number | undefined;
  for (const name of MS_TIMEOUT_HEADERS) {
    const value = header(name);
    if (value === undefined) continue;
    if (!/^\d{1,10}$/.test(value.trim())) {
      return {
        ok: false,
        message: `invalid ${name} header ${JSON.stringify(value)}: want 1-10 digits`,
      };
    }
    const ms = Number(value.trim());
    smallest = smallest === undefined ? ms : Math.min(smallest, ms);
  }
  const grpc = header("grpc-timeout");
  if (grpc !== undefined) {
    const match = /^(\d{1,8})([HMSmun])$/.exec(grpc.trim());
    if (!match) {
      return {
        ok: false,
        message: `invalid grpc-timeout header ${JSON.stringify(grpc)}: want 1-8 digits and a unit`,
      };
    }
    const ms = Math.ceil(Number(match[1]) * GRPC_UNIT_MS[match[2]]);
    smallest = smallest === undefined ? ms : Math.min(smallest, ms);
  }
  if (smallest !== undefined && smallest > MAX_TIMER_MS) smallest = undefined;
  return { ok: true, ms: smallest };
}

/**
 * `grpc-timeout` value for a millisecond timeout (`"1500m"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatGrpcTimeout(1500.2), "1501m");
 * ```
 */
export function formatGrpcTimeout(ms: number): string {
  return `${Math.max(0, Math.min(Math.ceil(ms), 99_999_999))}m`;
}
