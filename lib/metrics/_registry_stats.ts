/**
 * Registry activity counters and response-time stats (dubbo-go's registry collector),
 * kept as plain numbers and read at collect time.
 *
 * @module
 */

/** Since-start response-time stats, as dubbo-go's `RtVec` reports them. */
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

  /** `[suffix, value]` pairs for `_sum`, `_last`, `_min`, `_max`, `_avg` (0 when empty). */
  values(): [string, number][] {
    const empty = this.count === 0;
    return [
      ["sum", this.sum],
      ["last", this.last],
      ["min", empty ? 0 : this.min],
      ["max", empty ? 0 : this.max],
      ["avg", empty ? 0 : this.sum / this.count],
    ];
  }
}

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
