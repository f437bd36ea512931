/**
 * Registry activity (dubbo-go's registry collector): register and subscribe attempts,
 * notifications, kept as plain numbers and read at collect time.
 *
 * @module
 */
import { Outcomes, RtStats } from "./_rt_stats.ts";

/** Everything the registry observer records. */
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
