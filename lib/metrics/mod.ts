/**
 * Dubbo's metrics (names, types and labels as dubbo-go exports them), recorded around every provider or consumer call through the
 * {@linkcode CallObserver} seam and around registry work through the
 * {@linkcode RegistryObserver} seam.
 *
 * Recording is a few number bumps on per-series state; counters, window aggregates, QPS
 * and quantiles are computed only when the metrics are rendered. The families are the
 * tables in `_families.ts`; the text is written by `exposition.ts`. Series exist only for
 * the registered methods given at creation: calls to anything else are not recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const metrics = createMetrics({
 *   side: "provider", app: "dubbo-metrics-server", appVersion: "1.0.0",
 *   hostname: "host-1", ip: "10.0.0.5",
 *   services: [{ interface: "greet.GreetService", method: "Greet", group: "", version: "" }],
 * });
 * const end = metrics.calls.start(metrics.targets[0]);
 * end(null); // success; end("deadline_exceeded") would count a timeout
 * const { body } = await metrics.render();
 * assert.match(body, /^dubbo_provider_requests_total\{.*method="Greet".*\} 1$/m);
 * ```
 *
 * @module
 */
import type { CallEnd, CallObserver, CallTarget, RegistryObserver, Side } from "../observe.ts";
import {
  APPLICATION_INFO,
  callFamilies,
  type CallFamilySpec,
  histogramFamily,
  PROGRAM_FAMILIES,
  type ProgramState,
  REGISTRY_FAMILIES,
  type SingleFamilySpec,
} from "./_families.ts";
import { RegistryStats } from "./_registry_stats.ts";
import {
  checkRegistries,
  type PromClientRegistry,
  registryFamilies,
  takenNames,
} from "./_registries.ts";
import { processFamilies } from "./process.ts";
import { appRegistryEvents, appRegistryFamilies, AppRegistryStats } from "./registry_families.ts";
import {
  type Family,
  type Labels,
  OPENMETRICS_CONTENT_TYPE,
  seriesText,
  TEXT_CONTENT_TYPE,
  writeExposition,
} from "./exposition.ts";
import {
  CallSeries,
  DUBBO_WINDOW,
  RT_BUCKETS_SECONDS,
  type WindowShape,
  type WindowView,
} from "./_window.ts";

export { failureIndex, OUTCOMES, RT_BUCKETS_SECONDS } from "./_window.ts";
export {
  MetricNameCollision,
  type PromClientRegistry,
  type RegistryMetric,
} from "./_registries.ts";
export {
  type Family,
  type FamilyType,
  type Labels,
  OPENMETRICS_CONTENT_TYPE,
  seriesText,
  TEXT_CONTENT_TYPE,
} from "./exposition.ts";

/** What the metrics describe: who we are and which methods we serve or call. */
export interface MetricsOptions {
  /** `provider` (server) or `consumer` (client). */
  side: Side;
  /** `application_name` label. */
  app: string;
  /** `application_version` label. */
  appVersion: string;
  /** `hostname` label. */
  hostname: string;
  /** `ip` label. */
  ip: string;
  /** The registered methods; the only targets that ever get series. */
  services: CallTarget[];
  /** More families rendered after ours (e.g. runtime or registry families). */
  extraFamilies?: readonly Family[];
  /**
   * Users' own prom-client `Registry` objects: their metrics are rendered after ours, in
   * the same scrape and push, by our writer (README "Your own metrics").
   */
  registries?: readonly PromClientRegistry[];
  /** Sliding-window shape; default dubbo-go's 10 panes over 120 s (tests shrink it). */
  window?: WindowShape;
  /** Monotonic millisecond clock; default `performance.now` (tests inject a fake one). */
  clock?: () => number;
}

/** The metrics of one program. */
export interface DubboMetrics {
  /** Recording seam for `lib/triple`: wrap every call with `start(target)` / `end(code)`. */
  readonly calls: CallObserver;
  /** Recording seam for `lib/registry`. */
  readonly registryEvents: RegistryObserver;
  /** The registered targets, as given (handy for callers and tests). */
  readonly targets: readonly CallTarget[];
  /** Sets `job_pushed_at_seconds` (Unix seconds of the last successful push). */
  markPushed(unixSeconds: number): void;
  /** Counts one failed push in `dubbo_metrics_push_failed_total`. */
  pushFailed(): void;
  /** Renders the exposition text; `openMetrics` → OpenMetrics 1.0.0 instead of text 0.0.4. */
  render(openMetrics?: boolean): Promise<{ body: string; contentType: string }>;
  /**
   * Reads the users' registries and rejects with `MetricNameCollision` when a metric's name
   * is one of ours or another registry's; a program refuses to start then.
   */
  checkRegistries(): Promise<void>;
}

/**
 * A family with one sample read at render time, for {@linkcode MetricsOptions.extraFamilies}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const uptime = singleFamily("uptime_seconds", "Seconds since start", "gauge", {}, () => 3);
 * const lines: string[] = [];
 * uptime.collect((series, value) => lines.push(`${series} ${value}`));
 * assert.deepEqual(lines, ["uptime_seconds 3"]);
 * ```
 */
export function singleFamily(
  name: string,
  help: string,
  type: "counter" | "gauge",
  labels: Labels,
  read: () => number,
): Family {
  const series = seriesText(name, labels);
  return { name, help, type, collect: (emit) => emit(series, read()) };
}

/** Key of a target in the series map. */
function targetKey(target: CallTarget): string {
  return `${target.interface}\u0000${target.method}\u0000${target.group}\u0000${target.version}`;
}

/** One registered method: its labels and its state. */
interface SeriesEntry {
  labels: Labels;
  state: CallSeries;
}

/**
 * Creates the metrics of one program, with a zero-valued series for every registered
 * method.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const metrics = createMetrics({
 *   side: "consumer", app: "dubbo-metrics-client", appVersion: "1.0.0",
 *   hostname: "host-1", ip: "10.0.0.6",
 *   services: [{ interface: "greet.GreetService", method: "Greet", group: "", version: "" }],
 * });
 * metrics.calls.start(metrics.targets[0])("deadline_exceeded");
 * const { body, contentType } = await metrics.render(true);
 * assert.match(contentType, /^application\/openmetrics-text/);
 * assert.match(body, /^dubbo_consumer_requests_timeout_total\{.*\} 1$/m);
 * ```
 */
export function createMetrics(options: MetricsOptions): DubboMetrics {
  const clock = options.clock ?? (() => performance.now());
  const appLabels: Labels = {
    application_name: options.app,
    application_version: options.appVersion,
    hostname: options.hostname,
    ip: options.ip,
  };
  const series = seriesByTarget(options.services, appLabels, options.window ?? DUBBO_WINDOW, clock);
  const entries = [...series.values()];
  const stats = new RegistryStats();
  const appStats = new AppRegistryStats();
  const program: ProgramState = {
    pushedAtSeconds: 0,
    pushFailures: 0,
  };
  // The window views are computed at most once per render, on first use.
  let views: WindowView[] | undefined;
  const windows = () => views ??= entries.map((entry) => entry.state.window());
  const infoLabels: Labels = { ...appLabels, git_commit_id: "" };
  const families: Family[] = [
    oneSampleFamily(APPLICATION_INFO, infoLabels, undefined),
    ...callFamilies(options.side).map((spec) => perMethod(spec, entries, windows)),
    histogram(histogramFamily(options.side), entries),
    ...REGISTRY_FAMILIES.map((spec) => oneSampleFamily(spec, infoLabels, stats)),
    ...appRegistryFamilies(appStats, options.services[0]?.interface ?? "").map((spec) =>
      oneSampleFamily(spec, sortedLabels({ ...infoLabels, ...spec.labels }), undefined)
    ),
    ...processFamilies(),
    ...PROGRAM_FAMILIES.map((spec) => oneSampleFamily(spec, {}, program)),
    ...options.extraFamilies ?? [],
  ];
  const registries = options.registries ?? [];
  const taken = takenNames(families);
  return {
    calls: callObserver(series, clock),
    registryEvents: {
      register: (ok, ms) => stats.register.record(ok, ms),
      subscribe: (ok) => stats.subscribe.record(ok, NaN),
      notify: (providers, ms) => stats.notify(providers, ms),
      ...appRegistryEvents(appStats),
    },
    targets: options.services,
    markPushed(unixSeconds: number) {
      program.pushedAtSeconds = unixSeconds;
    },
    pushFailed() {
      program.pushFailures++;
    },
    async render(openMetrics = false) {
      const theirs = registries.length === 0 ? [] : await registryFamilies(registries, taken);
      views = undefined;
      const body = writeExposition(
        theirs.length === 0 ? families : [...families, ...theirs],
        openMetrics,
      );
      views = undefined;
      const contentType = openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
      return { body, contentType };
    },
    checkRegistries: () => checkRegistries(taken, registries),
  };
}

function seriesByTarget(
  targets: readonly CallTarget[],
  appLabels: Labels,
  shape: WindowShape,
  clock: () => number,
): Map<string, SeriesEntry> {
  const series = new Map<string, SeriesEntry>();
  for (const target of targets) {
    const key = targetKey(target);
    if (series.has(key)) continue;
    const { interface: iface, method, group, version } = target;
    series.set(key, {
      labels: { ...appLabels, interface: iface, method, group, version },
      state: new CallSeries(shape, clock),
    });
  }
  return series;
}

/** `labels` with its names in order, as Prometheus and dubbo-go print them. */
function sortedLabels(labels: Labels): Labels {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1));
}

/** A family with one sample under `labels`, read from `source`. */
function oneSampleFamily<S>(spec: SingleFamilySpec<S>, labels: Labels, source: S): Family {
  const text = seriesText(spec.name, labels);
  const { name, help, type } = spec;
  return { name, help, type, collect: (emit) => emit(text, spec.value(source)) };
}

/** A family with one sample per registered method. */
function perMethod(
  spec: CallFamilySpec,
  entries: readonly SeriesEntry[],
  windows: () => WindowView[],
): Family {
  const texts = entries.map((entry) => seriesText(spec.name, entry.labels));
  return {
    name: spec.name,
    help: spec.help,
    type: spec.type,
    collect(emit) {
      for (let i = 0; i < entries.length; i++) {
        emit(texts[i], spec.value(entries[i].state, () => windows()[i]));
      }
    },
  };
}

/** The response-time histogram: cumulative `_bucket` lines, `_sum` (seconds), `_count`. */
function histogram(
  head: { name: string; help: string },
  entries: readonly SeriesEntry[],
): Family {
  const bounds = [...RT_BUCKETS_SECONDS.map(String), "+Inf"];
  const texts = entries.map((entry) => ({
    buckets: bounds.map((le) => seriesText(`${head.name}_bucket`, { le, ...entry.labels })),
    sum: seriesText(`${head.name}_sum`, entry.labels),
    count: seriesText(`${head.name}_count`, entry.labels),
  }));
  return {
    ...head,
    type: "histogram",
    collect(emit) {
      for (let i = 0; i < entries.length; i++) {
        const state = entries[i].state;
        const text = texts[i];
        let cumulative = 0;
        for (let b = 0; b < text.buckets.length; b++) {
          cumulative += state.buckets[b];
          emit(text.buckets[b], cumulative);
        }
        emit(text.sum, state.rt.sum / 1000);
        emit(text.count, state.rt.count);
      }
    },
  };
}

/**
 * The recording seam. A provider or consumer records the same method over and over:
 * comparing the four fields with the last target's (a copy, so callers may reuse or
 * mutate their object) skips building and hashing the map key.
 */
function callObserver(series: Map<string, SeriesEntry>, clock: () => number): CallObserver {
  let lastTarget: CallTarget | undefined;
  let lastEntry: SeriesEntry | undefined;
  const seriesOf = (target: CallTarget): SeriesEntry | undefined => {
    const last = lastTarget;
    if (
      last !== undefined && target.method === last.method &&
      target.interface === last.interface && target.group === last.group &&
      target.version === last.version
    ) return lastEntry;
    lastEntry = series.get(targetKey(target));
    const { interface: iface, method, group, version } = target;
    lastTarget = { interface: iface, method, group, version };
    return lastEntry;
  };
  const noop: CallEnd = () => {};
  return {
    start(target: CallTarget): CallEnd {
      const entry = seriesOf(target);
      if (entry === undefined) return noop;
      const state = entry.state;
      const startedAt = clock();
      state.started(startedAt);
      let open = true;
      return (code) => {
        if (!open) return;
        open = false;
        state.ended(startedAt, code);
      };
    },
  };
}
