/**
 * One cleaning cycle: read every group, pick the stale ones under the job prefix, and
 * delete them (or only report them with dry run), a bounded number at a time.
 *
 * @module
 */
import { formatAge, formatMs } from "../_duration.ts";
import { Pushgateway, PushgatewayError } from "../pushgateway.ts";
import type { Group } from "../_pushgateway_groups.ts";
import { describeKey } from "../grouping_key.ts";

/** What one cycle does. */
export interface CycleOptions {
  /** The Pushgateway to clean. */
  gateway: Pushgateway;
  /** Groups whose push time is older than this are stale, milliseconds. */
  ttlMs: number;
  /** Only jobs starting with this; empty = all. */
  jobPrefix: string;
  /** Report only; delete nothing. */
  dryRun?: boolean;
  /** Parallel DELETE requests (default 16). */
  concurrency?: number;
  /** Clock, Unix milliseconds (default `Date.now`). */
  now?: () => number;
  /** One line per deleted group and the summary (default `console.log`). */
  log?: (line: string) => void;
  /** One line per problem (default `console.error`). */
  warn?: (line: string) => void;
  /** Aborts the cycle (shutdown); an aborted cycle rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What one cycle found and did. */
export interface CycleReport {
  /** Groups under the job prefix that were looked at. */
  checked: number;
  /** Of those, the ones older than the TTL. */
  stale: number;
  /** Stale groups deleted (always 0 with dry run). */
  deleted: number;
  /** Failed requests: an unreadable gateway or failed deletes. */
  errors: number;
  /** False when the gateway could not be read at all. */
  readOk: boolean;
  /** Wall time of the cycle, milliseconds. */
  durationMs: number;
}

/** A stale group with its age in seconds. */
interface StaleGroup {
  group: Group;
  ageSeconds: number;
}

/**
 * Runs one cycle and returns its report; never throws for gateway problems (they are
 * logged and counted), only when `signal` aborts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pushgateway } from "../pushgateway.ts";
 * // fetch refuses port 1: the read fails (no traffic), is logged through `warn`, and counted.
 * const gateway = new Pushgateway({ url: "http://127.0.0.1:1" });
 * const warnings: string[] = [];
 * const report = await runCycle({
 *   gateway, ttlMs: 3_600_000, jobPrefix: "dubbo_", log: () => {}, warn: (l) => warnings.push(l),
 * });
 * assert.equal(report.readOk, false);
 * assert.equal(report.errors, 1);
 * assert.match(warnings[0], /cannot read groups from the Pushgateway at http:\/\/127\.0\.0\.1:1/);
 * ```
 */
export async function runCycle(options: CycleOptions): Promise<CycleReport> {
  const log = options.log ?? console.log;
  const warn = options.warn ?? console.error;
  const now = options.now ?? Date.now;
  const started = performance.now();
  const report: CycleReport = {
    checked: 0,
    stale: 0,
    deleted: 0,
    errors: 0,
    readOk: true,
    durationMs: 0,
  };
  const finish = () => {
    report.durationMs = performance.now() - started;
    log(summaryLine(report, options));
    return report;
  };

  let groups: Group[];
  try {
    groups = await options.gateway.listGroups({ signal: options.signal });
  } catch (error) {
    if (!(error instanceof PushgatewayError)) throw error;
    warn(error.message);
    report.errors++;
    report.readOk = false;
    return finish();
  }

  const nowSeconds = now() / 1000;
  const ttlSeconds = options.ttlMs / 1000;
  const stale: StaleGroup[] = [];
  for (const group of groups) {
    if (!group.labels.job.startsWith(options.jobPrefix)) continue;
    report.checked++;
    if (group.pushedAtSeconds === undefined) continue;
    const ageSeconds = nowSeconds - group.pushedAtSeconds;
    if (ageSeconds > ttlSeconds) stale.push({ group, ageSeconds });
  }
  report.stale = stale.length;

  const line = (verb: string, { group, ageSeconds }: StaleGroup) =>
    `${verb} ${describeKey(group.labels)} age ${formatAge(ageSeconds)} (${group.clock})`;

  if (options.dryRun) {
    for (const item of stale) log(line("would delete", item));
    return finish();
  }
  await forEachLimited(stale, options.concurrency ?? 16, async (item) => {
    options.signal?.throwIfAborted();
    try {
      await options.gateway.deleteGroup(item.group.labels, { signal: options.signal });
      report.deleted++;
      log(line("deleted", item));
    } catch (error) {
      if (!(error instanceof PushgatewayError)) throw error;
      report.errors++;
      warn(error.message);
    }
  });
  return finish();
}

/** `checked 10, stale 4, deleted 4, errors 0 (...)`: the line a person reads first. */
function summaryLine(report: CycleReport, options: CycleOptions): string {
  const counts = options.dryRun
    ? `checked ${report.checked}, stale ${report.stale}, would delete ${report.stale}, ` +
      `deleted 0, errors ${report.errors}`
    : `checked ${report.checked}, stale ${report.stale}, deleted ${report.deleted}, ` +
      `errors ${report.errors}`;
  const prefix = options.jobPrefix === ""
    ? "all jobs"
    : `jobs ${JSON.stringify(options.jobPrefix)}*`;
  const dry = options.dryRun ? ", dry run" : "";
  return `${counts} (${options.gateway.url}, ttl ${formatMs(options.ttlMs)}, ${prefix}${dry}, ` +
    `${(report.durationMs / 1000).toFixed(2)}s)`;
}

/** Runs `task` over `items` with at most `limit` running at once. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
