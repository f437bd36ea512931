/**
 * Metrics of application-level discovery, named as dubbo-go 3.3 names them
 * (`metrics/registry/metric_set.go`, `metrics/metadata/metric_set.go`):
 * service-level register (instance + mapping), service-level subscribe, and metadata
 * fetches, each with since-start response-time gauges. Kept apart from `mod.ts` so the
 * family table there stays one hook: `appRegistryFamilies(stats)` lists the families,
 * `appRegistryEvents(stats)` the observer methods that feed them.
 *
 * @module
 */
import type { RegistryObserver } from "../observe.ts";
import { outcomeFamilies, rtFamilies, type SingleFamilySpec } from "./_families.ts";
import { Outcomes } from "./_rt_stats.ts";
import type { FamilyType, Labels } from "./exposition.ts";

/**
 * What the application-level registry observer records.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stats = new AppRegistryStats();
 * appRegistryEvents(stats).metadataSubscribe(false, 20);
 * assert.equal(stats.metadataSubscribe.failed, 1);
 * ```
 */
export class AppRegistryStats {
  readonly registerService = new Outcomes();
  readonly subscribeService = new Outcomes();
  readonly metadataSubscribe = new Outcomes();
}

/** One family with a single series (the application info labels). */
export interface FamilySpec {
  name: string;
  help: string;
  type: Exclude<FamilyType, "histogram">;
  value: () => number;
  /** Labels besides the application info labels (dubbo-go labels some families by `interface`). */
  labels?: Labels;
}

/**
 * The observer methods feeding `stats` (merged into the registry observer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stats = new AppRegistryStats();
 * const events = appRegistryEvents(stats);
 * events.registerService(true, 7);
 * assert.deepEqual([stats.registerService.succeed, stats.registerService.rt.last], [1, 7]);
 * ```
 */
export function appRegistryEvents(
  stats: AppRegistryStats,
): Required<Pick<RegistryObserver, "registerService" | "subscribeService" | "metadataSubscribe">> {
  return {
    registerService: (ok, ms) => stats.registerService.record(ok, ms),
    subscribeService: (ok, ms) => stats.subscribeService.record(ok, ms),
    metadataSubscribe: (ok, ms) => stats.metadataSubscribe.record(ok, ms),
  };
}

/**
 * Every family of application-level discovery, read from `stats` at collect time.
 * `serviceInterface` (the first registered service's) labels the service-level subscribe
 * times, as dubbo-go does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stats = new AppRegistryStats();
 * appRegistryEvents(stats).subscribeService(true, 9);
 * const families = appRegistryFamilies(stats, "greet.GreetService");
 * const last = families.find((f) => f.name === "dubbo_subscribe_service_rt_milliseconds_last")!;
 * assert.equal(last.value(), 9);
 * assert.deepEqual(last.labels, { interface: "greet.GreetService" });
 * ```
 */
export function appRegistryFamilies(
  stats: AppRegistryStats,
  serviceInterface: string,
): FamilySpec[] {
  const time = (what: string) => (word: string) => `${word} ${what} time in milliseconds`;
  const bind = (labels?: Labels) => (spec: SingleFamilySpec<AppRegistryStats>): FamilySpec => ({
    name: spec.name,
    help: spec.help,
    type: spec.type,
    value: () => spec.value(stats),
    labels,
  });
  return KINDS.flatMap(([field, counters, counted, times, timed, labelled]) => [
    ...outcomeFamilies(counters, counted, (s: AppRegistryStats) => s[field]).map(bind()),
    ...rtFamilies(times, time(timed), (s: AppRegistryStats) => s[field].rt)
      .map(bind(labelled ? { interface: serviceInterface } : undefined)),
  ]);
}

/**
 * Per kind of attempt: the stats field, counter prefix and help, response-time prefix
 * and help, and whether dubbo-go labels the times with the subscribed `interface`.
 */
const KINDS: [keyof AppRegistryStats, string, string, string, string, boolean][] = [
  [
    "registerService",
    "dubbo_registry_register_service",
    "Service-Level Register Requests",
    "dubbo_register_service_rt_milliseconds",
    "service-level register",
    false,
  ],
  [
    "subscribeService",
    "dubbo_registry_subscribe_service_num",
    "Service-Level Subscribe Num",
    "dubbo_subscribe_service_rt_milliseconds",
    "service-level subscribe",
    true,
  ],
  [
    "metadataSubscribe",
    "dubbo_metadata_subscribe_num",
    "Metadata Subscribe Num",
    "dubbo_subscribe_rt_milliseconds",
    "metadata subscribe",
    false,
  ],
];
