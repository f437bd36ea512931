/**
 * The cleaner's own metrics: five families declared as data and written by the same
 * exposition writer as the programs' metrics, so nothing else (and no process metrics
 * needing extra permissions) ends up on its `/metrics`.
 *
 * @module
 */
import { type Family, TEXT_CONTENT_TYPE, writeExposition } from "../metrics/exposition.ts";
import type { CycleReport } from "./cycle.ts";

/** Totals and last-cycle values, as the families read them. */
interface CleanerState {
  checked: number;
  deleted: number;
  errors: number;
  lastRunSeconds: number;
  lastDurationSeconds: number;
}

const FAMILIES: [keyof CleanerState, string, "counter" | "gauge", string][] = [
  [
    "checked",
    "pgw_cleaner_checked_total",
    "counter",
    "Pushgateway groups under the job prefix checked for staleness.",
  ],
  ["deleted", "pgw_cleaner_deleted_total", "counter", "Stale Pushgateway groups deleted."],
  [
    "errors",
    "pgw_cleaner_errors_total",
    "counter",
    "Failed Pushgateway requests (unreadable gateway or failed delete).",
  ],
  [
    "lastRunSeconds",
    "pgw_cleaner_last_run_timestamp_seconds",
    "gauge",
    "Unix time when the last cleaning cycle finished.",
  ],
  [
    "lastDurationSeconds",
    "pgw_cleaner_last_run_duration_seconds",
    "gauge",
    "Duration of the last cleaning cycle in seconds.",
  ],
];

/**
 * `pgw_cleaner_*` counters and gauges, updated from each {@linkcode CycleReport}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const metrics = new CleanerMetrics();
 * const report = { checked: 3, stale: 1, deleted: 1, errors: 0, readOk: true, durationMs: 5 };
 * metrics.record(report, Date.now());
 * assert.match((await metrics.render()).body, /^pgw_cleaner_deleted_total 1$/m);
 * ```
 */
export class CleanerMetrics {
  readonly #state: CleanerState = {
    checked: 0,
    deleted: 0,
    errors: 0,
    lastRunSeconds: 0,
    lastDurationSeconds: 0,
  };
  readonly #families: Family[] = FAMILIES.map(([key, name, type, help]) => ({
    name,
    help,
    type,
    collect: (emit) => emit(name, this.#state[key]),
  }));

  /** Adds one cycle's counts; `finishedAtMs` is Unix milliseconds. */
  record(report: CycleReport, finishedAtMs: number): void {
    this.#state.checked += report.checked;
    this.#state.deleted += report.deleted;
    this.#state.errors += report.errors;
    this.#state.lastRunSeconds = finishedAtMs / 1000;
    this.#state.lastDurationSeconds = report.durationMs / 1000;
  }

  /** The text exposition, with its content type. */
  render(): Promise<{ body: string; contentType: string }> {
    return Promise.resolve({
      body: writeExposition(this.#families, false),
      contentType: TEXT_CONTENT_TYPE,
    });
  }
}
