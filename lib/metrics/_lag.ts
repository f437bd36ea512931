/**
 * Event-loop delay for the runtime metrics: an unref'd timer measures how late it fires,
 * summarized per scrape window.
 *
 * @module
 */

/** Event-loop delay over the last window, in seconds. */
export interface LagSnapshot {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

const ZERO_LAG: LagSnapshot = { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };

/** Most delays kept per window for percentiles (100 ticks/s: over 60 s of scrape interval). */
const MAX_LAG_SAMPLES = 6000;

/**
 * Event-loop delay: an unref'd 10 ms interval timer records how late each tick fires.
 * (`perf_hooks.monitorEventLoopDelay` exists in Deno 2.9.6 but measured a 200 ms block as
 * 1.2 ms, so it is not used.) One scrape reads several families, so a snapshot is taken,
 * and the window emptied, at most once per `minWindowMs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 0;
 * const lag = new LagMonitor(1000, () => now);
 * try {
 *   const first = lag.snapshot();
 *   assert.equal(first.max, 0); // no tick yet
 *   now = 500;
 *   assert.equal(lag.snapshot(), first); // one snapshot per window
 * } finally {
 *   lag.stop(); // clears the interval timer
 * }
 * ```
 */
export class LagMonitor {
  readonly #delays: number[] = [];
  #snapshot: LagSnapshot = ZERO_LAG;
  #takenAt = -Infinity;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    readonly minWindowMs = 1000,
    readonly clock: () => number = () => performance.now(),
    readonly resolutionMs = 10,
  ) {
    let expected = performance.now() + resolutionMs;
    this.#timer = setInterval(() => {
      const now = performance.now();
      // Never scraped for a while: keep the most recent half rather than grow.
      if (this.#delays.length >= MAX_LAG_SAMPLES) this.#delays.splice(0, MAX_LAG_SAMPLES / 2);
      this.#delays.push(Math.max(0, now - expected));
      expected = now + resolutionMs;
    }, resolutionMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops the sampling timer (the shared process monitor runs for the process's life). */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** The delay seen since the previous snapshot (zeros when no tick fired yet). */
  snapshot(): LagSnapshot {
    const now = this.clock();
    if (now - this.#takenAt < this.minWindowMs) return this.#snapshot;
    this.#snapshot = summarize(this.#delays.splice(0));
    this.#takenAt = now;
    return this.#snapshot;
  }
}

/**
 * Min, max, mean, standard deviation and percentiles of delays in ms, as seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const snap = summarize([4, 1, 3, 2, 10]);
 * assert.equal(snap.max, 0.01); // milliseconds in, seconds out
 * assert.equal(snap.p50, 0.003);
 * ```
 */
export function summarize(delaysMs: number[]): LagSnapshot {
  const n = delaysMs.length;
  if (n === 0) return ZERO_LAG;
  const sorted = delaysMs.sort((x, y) => x - y);
  const mean = sorted.reduce((sum, d) => sum + d, 0) / n;
  const variance = sorted.reduce((sum, d) => sum + (d - mean) ** 2, 0) / n;
  const at = (p: number) => sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] / 1000;
  return {
    min: sorted[0] / 1000,
    max: sorted[n - 1] / 1000,
    mean: mean / 1000,
    stddev: Math.sqrt(variance) / 1000,
    p50: at(50),
    p90: at(90),
    p99: at(99),
  };
}
