/**
 * Registry activity counters and response-time stats (dubbo-go's registry collector),
 * kept as plain numbers and read at collect time.
 *
 * @module
 */
import { RtStats } from "./_rt_stats.ts";

/** Everything the registry observer records. */
export class RegistryStats {
  registerTotal = 0;
  registerSucceed = 0;
  registerFailed = 0;
  subscribeTotal = 0;
  subscribeSucceed = 0;
  subscribeFailed = 0;
  notifyTotal = 0;
  notifyNumLast = 0;
  readonly registerRt = new RtStats();
  readonly notifyRt = new RtStats();

  register(ok: boolean, ms: number): void {
    this.registerTotal++;
    if (ok) this.registerSucceed++;
    else this.registerFailed++;
    if (Number.isFinite(ms) && ms >= 0) this.registerRt.observe(ms);
  }

  subscribe(ok: boolean): void {
    this.subscribeTotal++;
    if (ok) this.subscribeSucceed++;
    else this.subscribeFailed++;
  }

  notify(providers: number, ms: number): void {
    this.notifyTotal++;
    this.notifyNumLast = providers;
    if (Number.isFinite(ms) && ms >= 0) this.notifyRt.observe(ms);
  }
}
