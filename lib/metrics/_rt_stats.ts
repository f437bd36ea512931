/**
 * Since-start response-time stats (count, sum, last, min, max), as dubbo-go's `RtVec`
 * reports them for calls and registry operations.
 *
 * @module
 */

/**
 * Since-start response-time stats, as dubbo-go's `RtVec` reports them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const rt = new RtStats();
 * rt.observe(5);
 * rt.observe(1);
 * assert.deepEqual([rt.count, rt.sum, rt.last, rt.min, rt.max], [2, 6, 1, 1, 5]);
 * ```
 */
export class RtStats {
  count = 0;
  sum = 0;
  last = 0;
  min = Infinity;
  max = -Infinity;

  /** Adds one observation in milliseconds. */
  observe(ms: number): void {
    this.count++;
    this.sum += ms;
    this.last = ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }
}

/**
 * The since-start gauges of one {@linkcode RtStats}: name suffix, the help text's first
 * word, and the value (0 while nothing was observed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const empty = new RtStats();
 * const min = RT_STATS.find(([suffix]) => suffix === "min")!;
 * assert.equal(min[2](empty), 0); // not Infinity before the first observation
 * ```
 */
export const RT_STATS: readonly [string, string, (s: RtStats) => number][] = [
  ["sum", "Sum", (s) => s.sum],
  ["last", "Last", (s) => s.last],
  ["min", "Min", (s) => s.count > 0 ? s.min : 0],
  ["max", "Max", (s) => s.count > 0 ? s.max : 0],
  ["avg", "Average", (s) => s.count > 0 ? s.sum / s.count : 0],
];

/**
 * Attempts of one operation kind: how many, how many succeeded or failed, and how long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const subscribe = new Outcomes();
 * subscribe.record(true, 4);
 * subscribe.record(false, Number.NaN); // counted, response time skipped
 * assert.deepEqual([subscribe.total, subscribe.succeed, subscribe.failed], [2, 1, 1]);
 * assert.equal(subscribe.rt.count, 1);
 * ```
 */
export class Outcomes {
  total = 0;
  succeed = 0;
  failed = 0;
  /** Response times of the attempts that reported one. */
  readonly rt = new RtStats();

  /** One attempt finished; `ms` is skipped unless finite and ≥ 0. */
  record(ok: boolean, ms: number): void {
    this.total++;
    if (ok) this.succeed++;
    else this.failed++;
    if (Number.isFinite(ms) && ms >= 0) this.rt.observe(ms);
  }
}
