/**
 * Per-series call state: since-start counters and response times, a real histogram, and a
 * sliding window of panes (dubbo-go: 10 panes over 120 s) for the `_aggregate` gauges, the
 * QPS gauge and the window quantiles. Recording only bumps numbers; everything derived is
 * computed when Prometheus (or the pusher) collects.
 *
 * @module
 */
import { DDSketch } from "@datadog/sketches-js";
import { RtStats } from "./_rt_stats.ts";

/**
 * The outcome counters, in the order of {@linkcode OUTCOMES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(OUTCOMES[failureIndex("deadline_exceeded")], "timeout");
 * ```
 */
export const OUTCOMES = [
  "requests",
  "succeed",
  "failed",
  "timeout",
  "limit",
  "unavailable",
  "business",
  "unknown",
] as const;

/** One outcome counter. */
export type Outcome = typeof OUTCOMES[number];

const REQUESTS = 0;
const SUCCEED = 1;
const FAILED = 2;
const TIMEOUT = 3;
const LIMIT = 4;
const UNAVAILABLE = 5;
const BUSINESS = 6;
const UNKNOWN = 7;
const OUTCOME_COUNT = OUTCOMES.length;

/**
 * The failure counter a Connect/Triple error code lands in, as dubbo-go's metrics filter
 * classifies: `deadline_exceeded` → timeout, `resource_exhausted` → limit, `unavailable`
 * and `permission_denied` → service unavailable, dubbo's `biz_error` → business, anything
 * else → unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(OUTCOMES[failureIndex("resource_exhausted")], "limit");
 * assert.equal(OUTCOMES[failureIndex("permission_denied")], "unavailable");
 * assert.equal(OUTCOMES[failureIndex("internal")], "unknown");
 * ```
 */
export function failureIndex(code: string): number {
  switch (code) {
    case "deadline_exceeded":
      return TIMEOUT;
    case "resource_exhausted":
      return LIMIT;
    case "unavailable":
    case "permission_denied":
      return UNAVAILABLE;
    case "biz_error":
      return BUSINESS;
    default:
      return UNKNOWN;
  }
}

/** Upper bounds (seconds) of the `dubbo_<side>_rt_seconds` histogram buckets. */
export const RT_BUCKETS_SECONDS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];
const BUCKET_BOUNDS_MS = RT_BUCKETS_SECONDS.map((s) => s * 1000);

/** Quantile sketches keep every value within 1 % relative error (DDSketch). */
const SKETCH_ACCURACY = 0.01;
const newSketch = () => new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });

/** Sliding window shape. */
export interface WindowShape {
  /** Number of panes (dubbo-go: 10). */
  panes: number;
  /** Whole window length in milliseconds (dubbo-go: 120 s). */
  windowMs: number;
}

/** dubbo-go's window: 10 panes over 120 s. */
export const DUBBO_WINDOW: WindowShape = { panes: 10, windowMs: 120_000 };

/** One pane of the sliding window. */
class Pane {
  /** Pane number (time / pane length) this pane currently holds; -1 = never used. */
  epoch = -1;
  started = 0;
  readonly counts = new Float64Array(OUTCOME_COUNT);
  rtCount = 0;
  rtSum = 0;
  rtMin = Infinity;
  rtMax = -Infinity;
  /** Response times in this pane, for quantiles. */
  sketch: DDSketch = newSketch();

  reset(epoch: number): void {
    this.epoch = epoch;
    this.started = 0;
    this.counts.fill(0);
    this.rtCount = 0;
    this.rtSum = 0;
    this.rtMin = Infinity;
    this.rtMax = -Infinity;
    if (this.sketch.count !== 0) this.sketch = newSketch();
  }
}

/** What the window holds right now, computed at collect time. */
export interface WindowView {
  /** Counts per outcome in the window (order of {@linkcode OUTCOMES}). */
  counts: Float64Array;
  /** Calls started in the window. */
  started: number;
  /** Seconds the window has covered so far (≤ window length, ≥ 1). */
  livedSeconds: number;
  rtCount: number;
  rtSum: number;
  rtMin: number;
  rtMax: number;
  /** Quantile `q` (0..1) of response times in the window, ms; 0 when empty. */
  quantile(q: number): number;
}

/**
 * All state of one (interface, method, group, version) series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 1000;
 * const series = new CallSeries(DUBBO_WINDOW, () => now);
 * series.started(now);
 * now += 40;
 * series.ended(1000, "deadline_exceeded");
 * const view = series.window();
 * assert.equal(view.counts[OUTCOMES.indexOf("timeout")], 1);
 * assert.equal(view.rtMax, 40);
 * assert.equal(series.processing, 0);
 * ```
 */
export class CallSeries {
  /** Since-start counters, order of {@linkcode OUTCOMES}. */
  readonly totals = new Float64Array(OUTCOME_COUNT);
  processing = 0;
  /** Since-start response times, milliseconds. */
  readonly rt = new RtStats();
  /** Non-cumulative histogram counts; the last slot is +Inf. */
  readonly buckets = new Float64Array(RT_BUCKETS_SECONDS.length + 1);
  readonly #panes: Pane[];
  readonly #paneMs: number;
  readonly #createdAt: number;
  readonly #now: () => number;

  /** `now` is a monotonic millisecond clock (default `performance.now`). */
  constructor(shape: WindowShape = DUBBO_WINDOW, now: () => number = () => performance.now()) {
    this.#panes = Array.from({ length: shape.panes }, () => new Pane());
    this.#paneMs = shape.windowMs / shape.panes;
    this.#now = now;
    this.#createdAt = now();
  }

  /** A call started at `at` (ms, same clock as `now`). */
  started(at: number): void {
    this.processing++;
    this.#pane(at).started++;
  }

  /** A call that started at `startedAt` ended now with `code` (`null` = success). */
  ended(startedAt: number, code: string | null): void {
    const now = this.#now();
    const ms = now - startedAt;
    this.processing--;
    const totals = this.totals;
    const pane = this.#pane(now);
    const counts = pane.counts;
    totals[REQUESTS]++;
    counts[REQUESTS]++;
    if (code === null) {
      totals[SUCCEED]++;
      counts[SUCCEED]++;
    } else {
      const kind = failureIndex(code);
      totals[FAILED]++;
      counts[FAILED]++;
      totals[kind]++;
      counts[kind]++;
    }
    this.rt.observe(ms);
    let bucket = 0;
    while (bucket < BUCKET_BOUNDS_MS.length && ms > BUCKET_BOUNDS_MS[bucket]) bucket++;
    this.buckets[bucket]++;
    pane.rtCount++;
    pane.rtSum += ms;
    if (ms < pane.rtMin) pane.rtMin = ms;
    if (ms > pane.rtMax) pane.rtMax = ms;
    pane.sketch.accept(ms > 0 ? ms : 0);
  }

  /** Sums the live panes. */
  window(): WindowView {
    const now = this.#now();
    const current = Math.floor(now / this.#paneMs);
    const oldest = current - this.#panes.length + 1;
    const counts = new Float64Array(OUTCOME_COUNT);
    let started = 0, rtCount = 0, rtSum = 0, rtMin = Infinity, rtMax = -Infinity;
    const sketch = newSketch();
    for (const pane of this.#panes) {
      if (pane.epoch < oldest || pane.epoch > current) continue;
      started += pane.started;
      for (let i = 0; i < OUTCOME_COUNT; i++) counts[i] += pane.counts[i];
      rtCount += pane.rtCount;
      rtSum += pane.rtSum;
      if (pane.rtMin < rtMin) rtMin = pane.rtMin;
      if (pane.rtMax > rtMax) rtMax = pane.rtMax;
      if (pane.rtCount > 0) sketch.merge(pane.sketch);
    }
    const windowStart = Math.max(this.#createdAt, oldest * this.#paneMs);
    const livedSeconds = Math.max(1, (now - windowStart) / 1000);
    return {
      counts,
      started,
      livedSeconds,
      rtCount,
      rtSum,
      rtMin: rtCount > 0 ? rtMin : 0,
      rtMax: rtCount > 0 ? rtMax : 0,
      quantile(q: number): number {
        if (rtCount === 0) return 0;
        return Math.min(rtMax, Math.max(rtMin, sketch.getValueAtQuantile(q)));
      },
    };
  }

  #pane(at: number): Pane {
    const epoch = Math.floor(at / this.#paneMs);
    const pane = this.#panes[epoch % this.#panes.length];
    if (pane.epoch !== epoch) pane.reset(epoch);
    return pane;
  }
}
