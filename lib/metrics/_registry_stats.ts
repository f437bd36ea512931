/**
 * Registry activity (dubbo-go's registry collector): register and subscribe attempts,
 * notifications, kept as plain numbers and read at collect time.
 *
 * @module
 */
import { Outcomes, RtStats } from "./_rt_stats.ts";

/**
 * Everything the registry observer records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stats = new RegistryStats();
 * stats.register.record(true, 8);
 * stats.notify(2, 3);
 * assert.equal(stats.register.succeed, 1);
 * assert.deepEqual([stats.notifyTotal, stats.notifyNumLast, stats.notifyRt.last], [1, 2, 3]);
 * ```
 */
export class RegistryStats {
  readonly register = new Outcomes();
  readonly subscribe = new Outcomes();
  notifyTotal = 0;
  notifyNumLast = 0;
  readonly notifyRt = new RtStats();

  /** A notification delivered `providers` URLs after `ms` milliseconds. */
  notify(providers: number, ms: number): void {
    this.notifyTotal++;
    this.notifyNumLast = providers;
    if (Number.isFinite(ms) && ms >= 0) this.notifyRt.observe(ms);
  }
}
