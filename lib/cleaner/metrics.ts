/**
 * The cleaner's own metrics, on a private prom-client registry so nothing else (and no
 * default process metrics needing extra permissions) ends up on its `/metrics`.
 *
 * @module
 */
import client from "prom-client";
import type { CycleReport } from "./cycle.ts";

/**
 * `pgw_cleaner_*` counters and gauges, updated from each {@linkcode CycleReport}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const metrics = new CleanerMetrics();
 * const report = { checked: 3, stale: 1, deleted: 1, errors: 0, readOk: true, durationMs: 5 };
 * metrics.record(report, Date.now());
 * assert.match(await metrics.registry.metrics(), /^pgw_cleaner_deleted_total 1$/m);
 * ```
 */
export class CleanerMetrics {
  /** The registry to serve. */
  readonly registry: client.Registry = new client.Registry();
  readonly #checked = new client.Counter({
    name: "pgw_cleaner_checked_total",
    help: "Pushgateway groups under the job prefix checked for staleness.",
    registers: [this.registry],
  });
  readonly #deleted = new client.Counter({
    name: "pgw_cleaner_deleted_total",
    help: "Stale Pushgateway groups deleted.",
    registers: [this.registry],
  });
  readonly #errors = new client.Counter({
    name: "pgw_cleaner_errors_total",
    help: "Failed Pushgateway requests (unreadable gateway or failed delete).",
    registers: [this.registry],
  });
  readonly #lastRun = new client.Gauge({
    name: "pgw_cleaner_last_run_timestamp_seconds",
    help: "Unix time when the last cleaning cycle finished.",
    registers: [this.registry],
  });
  readonly #lastDuration = new client.Gauge({
    name: "pgw_cleaner_last_run_duration_seconds",
    help: "Duration of the last cleaning cycle in seconds.",
    registers: [this.registry],
  });

  /** Adds one cycle's counts; `finishedAtMs` is Unix milliseconds. */
  record(report: CycleReport, finishedAtMs: number): void {
    this.#checked.inc(report.checked);
    this.#deleted.inc(report.deleted);
    this.#errors.inc(report.errors);
    this.#lastRun.set(finishedAtMs / 1000);
    this.#lastDuration.set(report.durationMs / 1000);
  }

  /** The text exposition, with its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
