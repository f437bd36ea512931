/** Parsing the Pushgateway's `GET /api/v1/metrics` answer into groups. */
import type { GroupingKey } from "./grouping_key.ts";

/** Which metric a group's push time was read from. */
export type PushClock = "job_pushed_at_seconds" | "push_time_seconds";

/** One group on the Pushgateway, reduced to what staleness needs. */
export interface Group {
  /** The full grouping key (`job` and every other grouping label). */
  labels: GroupingKey;
  /** Unix seconds of the last push, or `undefined` when the group carries neither clock. */
  pushedAtSeconds?: number;
  /** Where {@linkcode Group.pushedAtSeconds} came from. */
  clock?: PushClock;
}

interface ApiFamily {
  metrics?: { value?: unknown }[];
}

/**
 * Reads the groups out of a parsed `/api/v1/metrics` body; throws a plain message when
 * the body is not what a Pushgateway sends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = {
 *   status: "success",
 *   data: [{
 *     labels: { job: "a", instance: "h" },
 *     push_time_seconds: { metrics: [{ value: "1700000000" }] },
 *   }],
 * };
 * const [group] = parseGroups(body);
 * assert.deepEqual(group.labels, { job: "a", instance: "h" });
 * assert.throws(() => parseGroups({ status: "success" }), /no data array/);
 * ```
 */
export function parseGroups(body: unknown): Group[] {
  const data = (body as { status?: unknown; data?: unknown } | null)?.data;
  if (!Array.isArray(data)) {
    throw new Error("the answer is not a Pushgateway /api/v1/metrics document (no data array)");
  }
  const groups: Group[] = [];
  for (const entry of data) {
    const labels = (entry as { labels?: unknown } | null)?.labels;
    if (!isStringRecord(labels) || typeof labels.job !== "string") {
      throw new Error("the answer has a group without a job label");
    }
    const record = entry as Record<string, unknown>;
    const pushedAt = latestValue(record.job_pushed_at_seconds);
    const pushTime = latestValue(record.push_time_seconds);
    if (pushedAt !== undefined) {
      groups.push({ labels, pushedAtSeconds: pushedAt, clock: "job_pushed_at_seconds" });
    } else if (pushTime !== undefined) {
      groups.push({ labels, pushedAtSeconds: pushTime, clock: "push_time_seconds" });
    } else {
      groups.push({ labels });
    }
  }
  return groups;
}

/** The largest finite sample value of a family, if any. */
function latestValue(family: unknown): number | undefined {
  const metrics = (family as ApiFamily | undefined)?.metrics;
  if (!Array.isArray(metrics)) return undefined;
  let latest: number | undefined;
  for (const metric of metrics) {
    const value = typeof metric?.value === "string" || typeof metric?.value === "number"
      ? Number(metric.value)
      : NaN;
    if (Number.isFinite(value) && (latest === undefined || value > latest)) latest = value;
  }
  return latest;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null &&
    Object.values(value).every((item) => typeof item === "string");
}
