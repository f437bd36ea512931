/**
 * Every family Dubbo programs export, declared as data: name, help, type and how to
 * read the value. Names, types, labels and help follow dubbo-go's metrics module.
 *
 * @module
 */
import type { Side } from "../observe.ts";
import type { RegistryStats } from "./_registry_stats.ts";
import { type Outcomes, RT_STATS, type RtStats } from "./_rt_stats.ts";
import type { FamilyType } from "./exposition.ts";
import { type CallSeries, OUTCOMES, type WindowView } from "./_window.ts";

/** A family with one sample per registered method, read from that method's state. */
export interface CallFamilySpec {
  name: string;
  help: string;
  type: Exclude<FamilyType, "histogram">;
  /** `window` computes the sliding-window view (once per render, shared). */
  value(state: CallSeries, window: () => WindowView): number;
}

/** A family with one sample, read from a source object at render time. */
export interface SingleFamilySpec<S> {
  name: string;
  help: string;
  type: Exclude<FamilyType, "histogram">;
  value(source: S): number;
}

const QUANTILES = [["p50", 0.5], ["p90", 0.9], ["p95", 0.95], ["p99", 0.99]] as const;

/**
 * The per-method families of one side (`provider` or `consumer`), in exposition order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CallSeries } from "./_window.ts";
 * const families = callFamilies("provider");
 * const total = families.find((f) => f.name === "dubbo_provider_requests_total")!;
 * const series = new CallSeries();
 * series.started(performance.now());
 * series.ended(performance.now(), null);
 * assert.equal(total.value(series, () => series.window()), 1);
 * ```
 */
export function callFamilies(side: Side): CallFamilySpec[] {
  const who = side === "provider"
    ? "requests received by the provider"
    : "requests sent by the consumer";
  const outcomes: Record<typeof OUTCOMES[number], [string, string]> = {
    requests: ["requests_total", `The total number of ${who}`],
    succeed: ["requests_succeed_total", `The number of successful ${who}`],
    failed: ["requests_failed_total", "Total Failed Requests"],
    timeout: ["requests_timeout_total", `The number of timed-out ${who}`],
    limit: ["requests_limit_total", `The number of rate-limited ${who}`],
    unavailable: [
      "requests_failed_service_unavailable_total",
      `The number of ${who} failed because the service was unavailable`,
    ],
    business: [
      "requests_business_failed_total",
      `The number of ${who} failed with a business error`,
    ],
    unknown: ["requests_unknown_failed_total", `The number of ${who} failed for unknown reasons`],
  };
  const rtWhat = `response time among all requests processed by the ${side}`;
  const rtWindow: [string, string, (w: WindowView) => number][] = [
    ["avg", "The average", (w) => w.rtCount > 0 ? w.rtSum / w.rtCount : 0],
    ["min", "The minimum", (w) => w.rtMin],
    ["max", "The maximum", (w) => w.rtMax],
  ];
  const prefix = `dubbo_${side}`;
  return [
    ...OUTCOMES.flatMap((outcome, i): CallFamilySpec[] => {
      const [suffix, help] = outcomes[outcome];
      return [
        { name: `${prefix}_${suffix}`, help, type: "counter", value: (s) => s.totals[i] },
        {
          name: `${prefix}_${suffix}_aggregate`,
          help: `${help} under the sliding window`,
          type: "gauge",
          value: (_, window) => window().counts[i],
        },
      ];
    }),
    {
      name: `${prefix}_requests_processing_total`,
      help: `The number of ${who} being processed`,
      type: "gauge",
      value: (s) => s.processing,
    },
    {
      name: `${prefix}_qps_total`,
      help: `The number of ${who} per second under the sliding window`,
      type: "gauge",
      value: (_, window) => window().started / window().livedSeconds,
    },
    ...RT_STATS.map(([suffix, word, value]): CallFamilySpec => ({
      name: `${prefix}_rt_milliseconds_${suffix}`,
      help: `${word} ${rtWhat}`,
      type: "gauge",
      value: (s) => value(s.rt),
    })),
    ...rtWindow.map(([suffix, word, value]): CallFamilySpec => ({
      name: `${prefix}_rt_${suffix}_milliseconds_aggregate`,
      help: `${word} response time of the ${side} under the sliding window`,
      type: "gauge",
      value: (_, window) => value(window()),
    })),
    ...QUANTILES.map(([suffix, q]): CallFamilySpec => ({
      name: `${prefix}_rt_milliseconds_${suffix}`,
      help: `The response time spent by the ${side} on ${
        q * 100
      }% of requests under the sliding window`,
      type: "gauge",
      value: (_, window) => window().quantile(q),
    })),
  ];
}

/**
 * Name and help of the per-method response-time histogram (seconds).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(histogramFamily("consumer").name, "dubbo_consumer_rt_seconds");
 * ```
 */
export function histogramFamily(side: Side): { name: string; help: string } {
  return {
    name: `dubbo_${side}_rt_seconds`,
    help: `Response time of ${side} calls in seconds (histogram, aggregatable across instances)`,
  };
}

/** The application info family (constant 1 under the application's labels). */
export const APPLICATION_INFO: SingleFamilySpec<unknown> = oneSampleSpec(
  "dubbo_application_info_total",
  "Total Application Info",
  "counter",
  () => 1,
);

/** The spec of a family with one sample, in one line. */
function oneSampleSpec<S>(
  name: string,
  help: string,
  type: "counter" | "gauge",
  value: (source: S) => number,
): SingleFamilySpec<S> {
  return { name, help, type, value };
}

/**
 * `<prefix>_total`, `_succeed_total` and `_failed_total` of one kind of attempt.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Outcomes } from "./_rt_stats.ts";
 * const register = new Outcomes();
 * register.record(false, 12);
 * const [total, succeed, failed] = outcomeFamilies("x_register", "Register", () => register);
 * assert.deepEqual([total.name, total.value({})], ["x_register_total", 1]);
 * assert.equal(succeed.value({}), 0);
 * assert.equal(failed.value({}), 1);
 * ```
 */
export function outcomeFamilies<S>(
  prefix: string,
  what: string,
  read: (source: S) => Outcomes,
): SingleFamilySpec<S>[] {
  const parts: [string, string, (o: Outcomes) => number][] = [
    ["total", "Total", (o) => o.total],
    ["succeed_total", "Succeed", (o) => o.succeed],
    ["failed_total", "Failed", (o) => o.failed],
  ];
  return parts.map(([suffix, word, pick]) => ({
    name: `${prefix}_${suffix}`,
    help: `${word} ${what}`,
    type: "counter",
    value: (source) => pick(read(source)),
  }));
}

/**
 * The since-start response-time gauges `<prefix>_sum|last|min|max|avg` of one kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RtStats } from "./_rt_stats.ts";
 * const rt = new RtStats();
 * rt.observe(10);
 * rt.observe(30);
 * const families = rtFamilies("x_rt", (word) => `${word} rt`, () => rt);
 * const avg = families.find((f) => f.name === "x_rt_avg")!;
 * assert.equal(avg.value({}), 20);
 * ```
 */
export function rtFamilies<S>(
  prefix: string,
  help: (word: string) => string,
  read: (source: S) => RtStats,
): SingleFamilySpec<S>[] {
  return RT_STATS.map(([suffix, word, value]) => ({
    name: `${prefix}_${suffix}`,
    help: help(word),
    type: "gauge",
    value: (source) => value(read(source)),
  }));
}

const NOTIFY_HELP = "Total Notify Requests";
const NOTIFY_NUM_HELP = "Number of provider URLs in the last registry notification";
const PUSHED_AT_HELP = "Unix seconds of last push to Pushgateway";
const PUSH_FAILED_HELP = "Pushes to the Pushgateway that failed";

const registryRt = (what: string) => (word: string) =>
  `${word} response time of registry ${what} operations in milliseconds`;

/**
 * Registry activity (dubbo-go's registry collector), under the application's labels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RegistryStats } from "./_registry_stats.ts";
 * const stats = new RegistryStats();
 * stats.notify(3, 5);
 * const last = REGISTRY_FAMILIES.find((f) => f.name === "dubbo_registry_notify_num_last")!;
 * assert.equal(last.value(stats), 3);
 * ```
 */
export const REGISTRY_FAMILIES: SingleFamilySpec<RegistryStats>[] = [
  ...outcomeFamilies(
    "dubbo_registry_register_requests",
    "Register Requests",
    (s: RegistryStats) => s.register,
  ),
  ...outcomeFamilies(
    "dubbo_registry_subscribe_num",
    "Subscribe Num",
    (s: RegistryStats) => s.subscribe,
  ),
  oneSampleSpec(
    "dubbo_registry_notify_requests_total",
    NOTIFY_HELP,
    "counter",
    (s) => s.notifyTotal,
  ),
  oneSampleSpec("dubbo_registry_notify_num_last", NOTIFY_NUM_HELP, "gauge", (s) => s.notifyNumLast),
  ...rtFamilies(
    "dubbo_register_rt_milliseconds",
    registryRt("register"),
    (s: RegistryStats) => s.register.rt,
  ),
  ...rtFamilies(
    "dubbo_notify_rt_milliseconds",
    registryRt("notify"),
    (s: RegistryStats) => s.notifyRt,
  ),
];

/** What the program itself reports: push bookkeeping (process families: process.ts). */
export interface ProgramState {
  pushedAtSeconds: number;
  pushFailures: number;
}

/**
 * Push bookkeeping families, without labels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const [pushedAt] = PROGRAM_FAMILIES;
 * assert.equal(pushedAt.name, "job_pushed_at_seconds");
 * assert.equal(pushedAt.value({ pushedAtSeconds: 1_700_000_000, pushFailures: 0 }), 1_700_000_000);
 * ```
 */
export const PROGRAM_FAMILIES: SingleFamilySpec<ProgramState>[] = [
  oneSampleSpec("job_pushed_at_seconds", PUSHED_AT_HELP, "gauge", (s) => s.pushedAtSeconds),
  oneSampleSpec(
    "dubbo_metrics_push_failed_total",
    PUSH_FAILED_HELP,
    "counter",
    (s) => s.pushFailures,
  ),
];
