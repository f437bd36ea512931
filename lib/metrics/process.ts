/**
 * The runtime families a user of a Deno service expects beside Dubbo's: CPU, memory, V8
 * heap and heap spaces, event-loop lag, GC pauses and the runtime's version, named as
 * prom-client's default metrics name them (`process_*`, `nodejs_*`) so existing Node.js
 * dashboards work, plus `deno_version_info`.
 *
 * Everything is read from in-process APIs that need no Deno permission
 * (`Deno.memoryUsage`, `process.cpuUsage`, `node:v8`, a timer). The families
 * that need `/proc` (`process_open_fds`, `process_max_fds`, `process_virtual_memory_bytes`)
 * are left out: Deno 2.9.6 grants reads under `/proc` only with `--allow-all`, and the
 * tasks never run with it.
 *
 * The event-loop sampler (an unref'd timer) and the GC profiler are process-wide and start
 * on first use; neither keeps the process alive.
 *
 * @module
 */
import process from "node:process";
import v8 from "node:v8";
import { LagMonitor, type LagSnapshot } from "./_lag.ts";
import { type Emit, type Family, type FamilyType, type Labels, seriesText } from "./exposition.ts";

/** Bucket bounds of `nodejs_gc_duration_seconds`, prom-client's defaults. */
export const GC_BUCKETS_SECONDS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];

/** How often the GC profiler's records are folded into the histogram without a scrape. */
const GC_DRAIN_MS = 10_000;

/**
 * The `kind` label values of `nodejs_gc_duration_seconds`, as prom-client uses them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(GC_KINDS.includes(gcKind("Scavenge")));
 * ```
 */
export const GC_KINDS: readonly string[] = ["minor", "major", "incremental", "weakcb"];

/**
 * Maps V8's GC type name (as `v8.GCProfiler` reports it) to prom-client's `kind` label;
 * unknown names count as `major`, so no pause is lost.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(gcKind("Scavenge"), "minor");
 * assert.equal(gcKind("SomethingNew"), "major"); // never lose a pause
 * ```
 */
export function gcKind(gcType: string): string {
  switch (gcType) {
    case "Scavenge":
    case "MinorMarkSweep":
    case "MinorMarkCompact":
      return "minor";
    case "IncrementalMarking":
      return "incremental";
    case "ProcessWeakCallbacks":
      return "weakcb";
    default:
      return "major";
  }
}

/** Cumulative GC pause histogram of one `kind`. */
interface GcSeries {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

/** One entry of `v8.GCProfiler#stop().statistics`; `cost` is in nanoseconds under Deno. */
interface GcStatistic {
  gcType: string;
  cost: number;
}

/** Minimal shape of `v8.GCProfiler` (Node ≥ 19, present in Deno's `node:v8`). */
interface GcProfiler {
  start(): void;
  stop(): { statistics: GcStatistic[] } | undefined;
}

/**
 * GC pauses as a histogram per kind, fed by a `v8.GCProfiler` drained at each read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const gc = new GcRecorder(); // not started: no profiler, no drain timer
 * gc.record("minor", 0.004);
 * const lines: string[] = [];
 * gc.collect("nodejs_gc_duration_seconds", (series, value) => lines.push(`${series} ${value}`));
 * assert.ok(lines.includes('nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} 1'));
 * assert.ok(lines.includes('nodejs_gc_duration_seconds_count{kind="minor"} 1'));
 * ```
 */
export class GcRecorder {
  readonly #series = new Map<string, GcSeries>();
  #profiler: GcProfiler | undefined;

  constructor() {
    for (const kind of GC_KINDS) {
      this.#series.set(kind, {
        labels: { kind },
        buckets: GC_BUCKETS_SECONDS.map(() => 0),
        sum: 0,
        count: 0,
      });
    }
  }

  /** Starts profiling; a runtime without `v8.GCProfiler` just reports no pauses. */
  start(): void {
    const ctor = (v8 as unknown as { GCProfiler?: new () => GcProfiler }).GCProfiler;
    if (ctor === undefined || this.#profiler !== undefined) return;
    this.#profiler = new ctor();
    this.#profiler.start();
    // The profiler keeps every GC's record until stopped: fold them in even when no one
    // scrapes, so an unscraped process does not grow.
    Deno.unrefTimer(setInterval(() => this.drain(), GC_DRAIN_MS));
  }

  /** Records one pause of `seconds` of the given kind. */
  record(kind: string, seconds: number): void {
    const series = this.#series.get(kind) ?? this.#series.get("major")!;
    for (let i = 0; i < GC_BUCKETS_SECONDS.length; i++) {
      if (seconds <= GC_BUCKETS_SECONDS[i]) series.buckets[i]++;
    }
    series.sum += seconds;
    series.count++;
  }

  /** Moves what the profiler saw since the last drain into the histogram, then restarts it. */
  drain(): void {
    const profiler = this.#profiler;
    if (profiler === undefined) return;
    const report = profiler.stop();
    profiler.start();
    for (const stat of report?.statistics ?? []) {
      if (Number.isFinite(stat.cost) && stat.cost >= 0) record(this, stat);
    }
  }

  /** Emits the histogram's samples (cumulative buckets, `_sum`, `_count`) per kind. */
  collect(name: string, emit: Emit): void {
    for (const series of this.#series.values()) {
      for (let i = 0; i < GC_BUCKETS_SECONDS.length; i++) {
        emit(
          seriesText(`${name}_bucket`, { ...GC_LE_LABELS[i], ...series.labels }),
          series.buckets[i],
        );
      }
      const inf = GC_LE_LABELS[GC_BUCKETS_SECONDS.length];
      emit(seriesText(`${name}_bucket`, { ...inf, ...series.labels }), series.count);
      emit(seriesText(`${name}_sum`, series.labels), series.sum);
      emit(seriesText(`${name}_count`, series.labels), series.count);
    }
  }
}

/** Records one profiler entry (nanoseconds) as seconds. */
function record(recorder: GcRecorder, stat: GcStatistic): void {
  recorder.record(gcKind(stat.gcType), stat.cost / 1e9);
}

const GC_LE_LABELS: readonly Labels[] = [
  ...GC_BUCKETS_SECONDS.map((bound) => ({ le: String(bound) })),
  { le: "+Inf" },
];

/**
 * Process-wide samplers, started by the first {@linkcode processFamilies} call: GC events and
 * event-loop lag belong to the process, not to one metrics object (the demo runs a provider's
 * and a consumer's metrics in one process): module-level on purpose, as is the hessian.js
 * import in `registry/metadata_v1.ts`; nothing else in lib/ keeps state at module level.
 */
let shared: { gc: GcRecorder; lag: LagMonitor } | undefined;

function samplers(): { gc: GcRecorder; lag: LagMonitor } {
  if (shared === undefined) {
    const gc = new GcRecorder();
    gc.start();
    shared = { gc, lag: new LagMonitor() };
  }
  return shared;
}

/** Reads one family's samples at collect time: `emit` each under the family's `name`. */
type Collect = (name: string, emit: Emit) => void;

const NO_LABELS: Labels = {};
const one = (labels: Labels, value: () => number): Collect => (name, emit) =>
  emit(seriesText(name, labels), value());

/**
 * `major.minor.patch` of a version string such as `v26.3.0` or `2.9.6`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(versionLabels("v26.3.0"), { major: "26", minor: "3", patch: "0" });
 * ```
 */
export function versionLabels(version: string): { major: string; minor: string; patch: string } {
  const [major = "0", minor = "0", patch = "0"] = version.replace(/^v/, "").split(/[.+-]/);
  return { major, minor, patch };
}

/** One sample per V8 heap space, labelled `space` (without the `_space` suffix). */
function heapSpaces(field: "space_size" | "space_used_size" | "space_available_size"): Collect {
  return (name, emit) => {
    for (const space of v8.getHeapSpaceStatistics()) {
      emit(seriesText(name, { space: space.space_name.replace(/_space$/, "") }), space[field]);
    }
  };
}

type Spec = [name: string, help: string, type: FamilyType, collect: Collect];

/** Help text of the CPU, start time and memory families, by name (prom-client's wording). */
const CPU_AND_MEMORY_HELP: Record<string, string> = {
  process_cpu_user_seconds_total: "Total user CPU time spent in seconds.",
  process_cpu_system_seconds_total: "Total system CPU time spent in seconds.",
  process_cpu_seconds_total: "Total user and system CPU time spent in seconds.",
  process_start_time_seconds: "Start time of the process since unix epoch in seconds.",
  process_resident_memory_bytes: "Resident memory size in bytes.",
  nodejs_heap_size_total_bytes: "Process heap size from V8 in bytes.",
  nodejs_heap_size_used_bytes: "Process heap size used from V8 in bytes.",
  nodejs_external_memory_bytes: "V8 external memory size in bytes.",
  nodejs_heap_space_size_total_bytes: "Process heap space size total from V8 in bytes.",
  nodejs_heap_space_size_used_bytes: "Process heap space size used from V8 in bytes.",
  nodejs_heap_space_size_available_bytes: "Process heap space size available from V8 in bytes.",
};

/** CPU, start time and memory (`Deno.memoryUsage`, `process.cpuUsage`, `node:v8`). */
function cpuAndMemory(): Spec[] {
  const startTimeSeconds = performance.timeOrigin / 1000;
  const cpu = (pick: (u: { user: number; system: number }) => number) =>
    one(NO_LABELS, () => pick(process.cpuUsage()) / 1e6);
  const mem = (pick: (m: Deno.MemoryUsage) => number) =>
    one(NO_LABELS, () => pick(Deno.memoryUsage()));
  const spec = (name: string, type: FamilyType, collect: Collect): Spec => [
    name,
    CPU_AND_MEMORY_HELP[name],
    type,
    collect,
  ];
  return [
    spec("process_cpu_user_seconds_total", "counter", cpu((u) => u.user)),
    spec("process_cpu_system_seconds_total", "counter", cpu((u) => u.system)),
    spec("process_cpu_seconds_total", "counter", cpu((u) => u.user + u.system)),
    spec("process_start_time_seconds", "gauge", one(NO_LABELS, () => startTimeSeconds)),
    spec("process_resident_memory_bytes", "gauge", mem((m) => m.rss)),
    spec("nodejs_heap_size_total_bytes", "gauge", mem((m) => m.heapTotal)),
    spec("nodejs_heap_size_used_bytes", "gauge", mem((m) => m.heapUsed)),
    spec("nodejs_external_memory_bytes", "gauge", mem((m) => m.external)),
    spec("nodejs_heap_space_size_total_bytes", "gauge", heapSpaces("space_size")),
    spec("nodejs_heap_space_size_used_bytes", "gauge", heapSpaces("space_used_size")),
    spec("nodejs_heap_space_size_available_bytes", "gauge", heapSpaces("space_available_size")),
  ];
}

/** Event-loop delay families, all read from one snapshot per window. */
function eventLoop(lag: LagMonitor): Spec[] {
  const parts: [string, string, (s: LagSnapshot) => number][] = [
    ["", "Lag of event loop in seconds (mean over the last window).", (s) => s.mean],
    ["_min", "The minimum recorded event loop delay.", (s) => s.min],
    ["_max", "The maximum recorded event loop delay.", (s) => s.max],
    ["_mean", "The mean of the recorded event loop delays.", (s) => s.mean],
    ["_stddev", "The standard deviation of the recorded event loop delays.", (s) => s.stddev],
    ["_p50", "The 50th percentile of the recorded event loop delays.", (s) => s.p50],
    ["_p90", "The 90th percentile of the recorded event loop delays.", (s) => s.p90],
    ["_p99", "The 99th percentile of the recorded event loop delays.", (s) => s.p99],
  ];
  return parts.map(([suffix, help, pick]) => [
    `nodejs_eventloop_lag${suffix}_seconds`,
    help,
    "gauge",
    one(NO_LABELS, () => pick(lag.snapshot())),
  ]);
}

/** GC pauses and the runtime's version. */
function gcAndVersion(gc: GcRecorder): Spec[] {
  const nodeVersion = { version: process.version, ...versionLabels(process.version) };
  const { deno, v8: v8Version, typescript } = Deno.version;
  const gcName = "nodejs_gc_duration_seconds";
  return [
    [
      gcName,
      "Garbage collection duration by kind, one of major, minor, incremental or weakcb.",
      "histogram",
      (name, emit) => {
        gc.drain();
        gc.collect(name, emit);
      },
    ],
    [
      "nodejs_version_info",
      "Node.js API version info (Deno's node compatibility).",
      "gauge",
      one(nodeVersion, () => 1),
    ],
    [
      "deno_version_info",
      "Deno runtime version info.",
      "gauge",
      one({ version: deno, v8: v8Version, typescript }, () => 1),
    ],
  ];
}

/**
 * The process and runtime families, read at collect time; no Deno permission needed.
 * `createMetrics` lists them after Dubbo's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const names = processFamilies().map((family) => family.name);
 * assert.ok(names.includes("process_resident_memory_bytes"));
 * assert.ok(names.includes("nodejs_eventloop_lag_p99_seconds"));
 * ```
 */
export function processFamilies(): Family[] {
  const { gc, lag } = samplers();
  return [...cpuAndMemory(), ...eventLoop(lag), ...gcAndVersion(gc)].map(
    ([name, help, type, collect]): Family => ({
      name,
      help,
      type,
      collect: (emit) => collect(name, emit),
    }),
  );
}
