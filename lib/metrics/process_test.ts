import assert from "node:assert/strict";
import {
  GC_BUCKETS_SECONDS,
  gcKind,
  GcRecorder,
  processFamilies,
  versionLabels,
} from "./process.ts";
import { LagMonitor, summarize } from "./_lag.ts";
import { writeExposition } from "./exposition.ts";
import { parseExposition } from "../../tests/support/exposition.ts";

/** Renders the process families alone, parsed. */
function scrape() {
  return Promise.resolve(parseExposition(writeExposition(processFamilies(), false)));
}

/** Allocates and drops enough short-lived objects to make V8 collect young garbage. */
function churn(rounds: number): number {
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const junk: { i: number; s: string }[] = [];
    for (let i = 0; i < 100_000; i++) junk.push({ i, s: `x${i}` });
    total += junk.length;
  }
  return total;
}

Deno.test("process metrics: every family renders with its type and real values", async () => {
  const all = await scrape();
  const v = (name: string) => {
    const family = all.get(name);
    assert.ok(family, `${name} is exported`);
    return family.samples[0].value;
  };
  assert.equal(all.get("process_cpu_seconds_total")?.type, "counter");
  const cpu = v("process_cpu_seconds_total");
  assert.ok(cpu > 0 && cpu < 3600, `cpu ${cpu}`);
  assert.ok(
    Math.abs(cpu - v("process_cpu_user_seconds_total") - v("process_cpu_system_seconds_total")) <
      0.05,
  );
  const start = v("process_start_time_seconds");
  assert.ok(start > 1_600_000_000 && start <= Date.now() / 1000, `start ${start}`);
  assert.ok(v("process_resident_memory_bytes") > 1_000_000);
  assert.ok(v("nodejs_heap_size_used_bytes") > 0);
  assert.ok(v("nodejs_heap_size_used_bytes") <= v("nodejs_heap_size_total_bytes"));
  const spaces = all.get("nodejs_heap_space_size_used_bytes")!.samples.map((s) => s.labels.space);
  assert.ok(spaces.includes("old") && spaces.includes("new"), `spaces ${spaces}`);
  assert.ok(v("nodejs_eventloop_lag_seconds") >= 0);
  assert.equal(all.get("nodejs_gc_duration_seconds")?.type, "histogram");
  const node = all.get("nodejs_version_info")!.samples[0];
  assert.match(node.labels.version, /^v\d+\.\d+\.\d+/);
  assert.equal(node.value, 1);
  const deno = all.get("deno_version_info")!.samples[0];
  assert.equal(deno.labels.version, Deno.version.deno);
  for (const absent of ["process_open_fds", "process_max_fds", "process_virtual_memory_bytes"]) {
    assert.equal(all.has(absent), false, `${absent} needs /proc, which Deno grants only with -A`);
  }
});

Deno.test("process metrics: GC pauses from churn land in the minor histogram", async () => {
  await scrape(); // starts the process-wide profiler
  const before = await scrape();
  const count = (all: typeof before, kind: string) =>
    all.get("nodejs_gc_duration_seconds")!.samples.find((s) =>
      s.name === "nodejs_gc_duration_seconds_count" && s.labels.kind === kind
    )!.value;
  assert.ok(churn(30) > 0);
  const after = await scrape();
  assert.ok(count(after, "minor") > count(before, "minor"), "scavenges were recorded");
  const sum =
    after.get("nodejs_gc_duration_seconds")!.samples.find((s) =>
      s.name === "nodejs_gc_duration_seconds_sum" && s.labels.kind === "minor"
    )!.value;
  assert.ok(sum > 0 && sum < 60, `gc seconds ${sum}`);
});

Deno.test("process metrics: GC recorder buckets are cumulative", () => {
  const gc = new GcRecorder();
  gc.record("minor", 0.0005);
  gc.record("minor", 0.05);
  gc.record("weakcb", 3);
  const lines: [string, number][] = [];
  gc.collect("g", (series, value) => lines.push([series, value]));
  const of = (prefix: string, kind: string) =>
    lines.filter(([series]) => series.startsWith(prefix) && series.includes(`kind="${kind}"`))
      .map(([, value]) => value);
  const buckets = of("g_bucket{", "minor");
  assert.deepEqual(buckets, [1, 1, 2, 2, 2, 2, 2]);
  assert.equal(buckets.length, GC_BUCKETS_SECONDS.length + 1);
  assert.deepEqual(of("g_count{", "minor"), [2]);
  assert.ok(lines.some(([series]) => series === 'g_bucket{le="+Inf",kind="minor"}'));
  assert.deepEqual(of("g_bucket{", "weakcb"), [
    0,
    0,
    0,
    0,
    0,
    1,
    1,
  ]);
});

Deno.test("process metrics: V8 GC type names map to prom-client kinds", () => {
  assert.equal(gcKind("Scavenge"), "minor");
  assert.equal(gcKind("MarkSweepCompact"), "major");
  assert.equal(gcKind("IncrementalMarking"), "incremental");
  assert.equal(gcKind("ProcessWeakCallbacks"), "weakcb");
  assert.equal(gcKind("SomethingNew"), "major");
  assert.deepEqual(versionLabels("v26.3.0"), { major: "26", minor: "3", patch: "0" });
  assert.deepEqual(versionLabels("2.9.6"), { major: "2", minor: "9", patch: "6" });
});

Deno.test("process metrics: a blocked event loop shows as lag", async () => {
  let now = 0;
  const lag = new LagMonitor(1000, () => now);
  now = 5000;
  lag.snapshot(); // empties the window
  await new Promise((resolve) => setTimeout(resolve, 30));
  const until = performance.now() + 120;
  while (performance.now() < until) { /* block the loop */ }
  await new Promise((resolve) => setTimeout(resolve, 30));
  now = 10_000;
  const snap = lag.snapshot();
  assert.ok(snap.max >= 0.05, `max lag ${snap.max} s after a 120 ms block`);
  assert.ok(snap.min <= snap.mean && snap.mean <= snap.max);
  now = 10_500;
  assert.equal(lag.snapshot(), snap, "one snapshot per window");
});

Deno.test("process metrics: lag summary of known delays", () => {
  const snap = summarize([4, 1, 3, 2, 10]);
  assert.equal(snap.min, 0.001);
  assert.equal(snap.max, 0.01);
  assert.equal(snap.mean, 0.004);
  assert.equal(snap.p50, 0.003);
  assert.equal(snap.p99, 0.01);
  assert.ok(Math.abs(snap.stddev - Math.sqrt(10) / 1000) < 1e-12);
  assert.equal(summarize([]).max, 0);
});
