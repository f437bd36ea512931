/**
 * Library-level tests of lib/metrics: every exported metric (as dubbo-go names them) with its type and labels, counts
 * and error classification, window gauges and quantiles (with an injected clock), the
 * fixed label space, registry events and the OpenMetrics rendering.
 */
import assert from "node:assert/strict";
import type { CallTarget, Side } from "../observe.ts";
import {
  createMetrics,
  type DubboMetrics,
  type MetricsOptions,
  OPENMETRICS_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
} from "./mod.ts";
import { type ParsedFamily, parseExposition } from "../../tests/support/exposition.ts";
import { REGISTRY_FAMILIES, rpcFamilies } from "../../tests/support/metric_names.ts";

const GREET: CallTarget = {
  interface: "greet.GreetService",
  method: "Greet",
  group: "",
  version: "",
};
const OTHER: CallTarget = {
  interface: "greet.GreetService",
  method: "Hello",
  group: "g1",
  version: "1.0",
};

const APP_LABELS = ["application_name", "application_version", "hostname", "ip"];
const RPC_LABELS = [...APP_LABELS, "interface", "method", "group", "version"];
const INFO_LABELS = [...APP_LABELS, "git_commit_id"];

function options(side: Side, extra: Partial<MetricsOptions> = {}): MetricsOptions {
  return {
    side,
    app: "test-app",
    appVersion: "1.2.3",
    hostname: "test-host",
    ip: "10.1.2.3",
    services: [GREET, OTHER],
    ...extra,
  };
}

async function families(metrics: DubboMetrics): Promise<Map<string, ParsedFamily>> {
  return parseExposition((await metrics.render()).body);
}

/** The value of sample `name` for `target` (RPC labels), or the only sample. */
function value(
  all: Map<string, ParsedFamily>,
  name: string,
  target?: CallTarget,
): number {
  const samples = [...all.values()].flatMap((family) => family.samples);
  const sample = samples.find((s) =>
    s.name === name &&
    (target === undefined ||
      (s.labels.method === target.method && s.labels.interface === target.interface &&
        s.labels.group === target.group && s.labels.version === target.version))
  );
  assert.ok(sample, `no sample of ${name}`);
  return sample.value;
}

/** A fake monotonic clock. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => now += ms };
}

for (const side of ["provider", "consumer"] as const) {
  Deno.test(`metrics(${side}): every exported family is present with its type and labels, at 0`, async () => {
    const metrics = createMetrics(options(side));
    const all = await families(metrics);
    for (const [name, type] of Object.entries(rpcFamilies(side))) {
      const family = all.get(name);
      assert.ok(family, `${name} missing`);
      assert.equal(family.type, type, `${name} type`);
      const own = family.samples.filter((s) =>
        type === "histogram" ? s.name === `${name}_count` : s.name === name
      );
      assert.equal(own.length, 2, `${name}: one series per registered method`);
      for (const sample of own) {
        assert.deepEqual(Object.keys(sample.labels).sort(), [...RPC_LABELS].sort(), name);
        assert.equal(sample.labels.application_name, "test-app");
        assert.equal(sample.labels.application_version, "1.2.3");
        assert.equal(sample.labels.hostname, "test-host");
        assert.equal(sample.labels.ip, "10.1.2.3");
        assert.equal(sample.value, 0, `${name} starts at 0`);
      }
    }
    for (const [name, type] of Object.entries(REGISTRY_FAMILIES)) {
      const family = all.get(name);
      assert.ok(family, `${name} missing`);
      assert.equal(family.type, type, `${name} type`);
      assert.equal(family.samples.length, 1);
      assert.deepEqual(Object.keys(family.samples[0].labels).sort(), [...INFO_LABELS].sort());
    }
    const info = all.get("dubbo_application_info_total");
    assert.equal(info?.type, "counter");
    assert.equal(info?.samples[0].value, 1);
    assert.deepEqual(Object.keys(info!.samples[0].labels).sort(), [...INFO_LABELS].sort());
    assert.equal(info!.samples[0].labels.git_commit_id, "");
    assert.equal(all.get("job_pushed_at_seconds")?.type, "gauge");
    assert.equal(all.get("dubbo_metrics_push_failed_total")?.type, "counter");
    // The other side's families are not exported.
    const other = side === "provider" ? "consumer" : "provider";
    assert.equal(all.has(`dubbo_${other}_requests_total`), false);
  });
}

Deno.test("metrics: process metrics are real under scoped permissions", async () => {
  const all = await families(createMetrics(options("provider")));
  const start = value(all, "process_start_time_seconds");
  assert.ok(start > 1_600_000_000 && start <= Date.now() / 1000, `start time ${start}`);
  assert.ok(value(all, "process_resident_memory_bytes") > 1_000_000, "rss is real");
});

Deno.test("metrics: n calls with k failures count exactly, classified like dubbo-go", async () => {
  const metrics = createMetrics(options("provider"));
  const n = 57, k = 9;
  for (let i = 0; i < n; i++) metrics.calls.start(GREET)(i < k ? "unknown" : null);
  const all = await families(metrics);
  assert.equal(value(all, "dubbo_provider_requests_total", GREET), n);
  assert.equal(value(all, "dubbo_provider_requests_succeed_total", GREET), n - k);
  assert.equal(value(all, "dubbo_provider_requests_failed_total", GREET), k);
  assert.equal(value(all, "dubbo_provider_requests_unknown_failed_total", GREET), k);
  assert.equal(value(all, "dubbo_provider_requests_timeout_total", GREET), 0);
  assert.equal(value(all, "dubbo_provider_requests_total_aggregate", GREET), n);
  assert.equal(value(all, "dubbo_provider_requests_failed_total_aggregate", GREET), k);
  assert.equal(value(all, "dubbo_provider_requests_processing_total", GREET), 0);
  assert.equal(value(all, "dubbo_provider_rt_seconds_count", GREET), n);
  assert.equal(value(all, "dubbo_provider_requests_total", OTHER), 0, "other method untouched");
});

Deno.test("metrics: error codes land in timeout, limit, service-unavailable, business, unknown", async () => {
  const metrics = createMetrics(options("consumer"));
  const codes: Record<string, string> = {
    deadline_exceeded: "requests_timeout_total",
    resource_exhausted: "requests_limit_total",
    unavailable: "requests_failed_service_unavailable_total",
    permission_denied: "requests_failed_service_unavailable_total",
    biz_error: "requests_business_failed_total",
    unknown: "requests_unknown_failed_total",
    internal: "requests_unknown_failed_total",
    invalid_argument: "requests_unknown_failed_total",
    unimplemented: "requests_unknown_failed_total",
  };
  for (const code of Object.keys(codes)) metrics.calls.start(GREET)(code);
  const all = await families(metrics);
  const expected: Record<string, number> = {};
  for (const name of Object.values(codes)) expected[name] = (expected[name] ?? 0) + 1;
  for (const [name, count] of Object.entries(expected)) {
    assert.equal(value(all, `dubbo_consumer_${name}`, GREET), count, name);
    assert.equal(value(all, `dubbo_consumer_${name}_aggregate`, GREET), count, `${name} window`);
  }
  const total = Object.keys(codes).length;
  assert.equal(value(all, "dubbo_consumer_requests_failed_total", GREET), total);
  assert.equal(value(all, "dubbo_consumer_requests_succeed_total", GREET), 0);
});

Deno.test("metrics: window gauges, quantiles and rt stats for a known delay (fake clock)", async () => {
  const clock = fakeClock();
  const metrics = createMetrics(options("provider", { clock: clock.now }));
  // 60 calls over 60 s: 50 take 40 ms, 10 take 200 ms.
  for (let i = 0; i < 60; i++) {
    const end = metrics.calls.start(GREET);
    clock.advance(i < 50 ? 40 : 200);
    end(null);
    clock.advance(1000 - (i < 50 ? 40 : 200));
  }
  let all = await families(metrics);
  const near = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= expected * 0.02, `${what}: ${actual} vs ${expected}`);
  near(value(all, "dubbo_provider_rt_milliseconds_p50", GREET), 40, "p50");
  near(value(all, "dubbo_provider_rt_milliseconds_p90", GREET), 200, "p90");
  near(value(all, "dubbo_provider_rt_milliseconds_p99", GREET), 200, "p99");
  near(
    value(all, "dubbo_provider_rt_avg_milliseconds_aggregate", GREET),
    (50 * 40 + 10 * 200) / 60,
    "window avg",
  );
  assert.equal(value(all, "dubbo_provider_rt_min_milliseconds_aggregate", GREET), 40);
  assert.equal(value(all, "dubbo_provider_rt_max_milliseconds_aggregate", GREET), 200);
  assert.equal(value(all, "dubbo_provider_rt_milliseconds_min", GREET), 40);
  assert.equal(value(all, "dubbo_provider_rt_milliseconds_max", GREET), 200);
  assert.equal(value(all, "dubbo_provider_rt_milliseconds_last", GREET), 200);
  assert.equal(value(all, "dubbo_provider_rt_milliseconds_sum", GREET), 50 * 40 + 10 * 200);
  near(value(all, "dubbo_provider_rt_milliseconds_avg", GREET), (50 * 40 + 10 * 200) / 60, "avg");
  assert.equal(value(all, "dubbo_provider_requests_total_aggregate", GREET), 60);
  near(value(all, "dubbo_provider_qps_total", GREET), 1, "qps over 60 s of 1 call/s");
  const bucket = all.get("dubbo_provider_rt_seconds")!.samples.find((s) =>
    s.name === "dubbo_provider_rt_seconds_bucket" && s.labels.le === "0.05" &&
    s.labels.method === "Greet"
  );
  assert.equal(bucket?.value, 50, "histogram: 50 calls ≤ 50 ms");
  near(value(all, "dubbo_provider_rt_seconds_sum", GREET), 4, "histogram sum in seconds");

  // After the 120 s window has passed, the window is empty; since-start values stay.
  clock.advance(130_000);
  all = await families(metrics);
  assert.equal(value(all, "dubbo_provider_requests_total_aggregate", GREET), 0);
  assert.equal(value(all, "dubbo_provider_rt_milliseconds_p99", GREET), 0);
  assert.equal(value(all, "dubbo_provider_qps_total", GREET), 0);
  assert.equal(value(all, "dubbo_provider_requests_total", GREET), 60);
  assert.equal(value(all, "dubbo_provider_rt_milliseconds_max", GREET), 200);
});

Deno.test("metrics: window slides pane by pane (only recent panes count)", async () => {
  const clock = fakeClock(0);
  const metrics = createMetrics(options("provider", { clock: clock.now }));
  for (let second = 0; second < 240; second++) {
    metrics.calls.start(GREET)(second % 2 === 0 ? null : "deadline_exceeded");
    clock.advance(1000);
  }
  const all = await families(metrics);
  const inWindow = value(all, "dubbo_provider_requests_total_aggregate", GREET);
  // 10 panes of 12 s: between 108 and 120 calls of the last 120 s are inside.
  assert.ok(inWindow >= 108 && inWindow <= 120, `window holds ${inWindow}`);
  assert.equal(value(all, "dubbo_provider_requests_total", GREET), 240);
  const timeouts = value(all, "dubbo_provider_requests_timeout_total_aggregate", GREET);
  assert.ok(Math.abs(timeouts - inWindow / 2) <= 1, `timeouts ${timeouts} of ${inWindow}`);
});

Deno.test("metrics: a real delay shows in the quantiles", async () => {
  const metrics = createMetrics(options("provider"));
  for (let i = 0; i < 3; i++) {
    const end = metrics.calls.start(GREET);
    await new Promise((resolve) => setTimeout(resolve, 25));
    end(null);
  }
  const all = await families(metrics);
  assert.ok(value(all, "dubbo_provider_rt_milliseconds_p50", GREET) >= 24);
  assert.ok(value(all, "dubbo_provider_rt_milliseconds_min", GREET) >= 24);
});

Deno.test("metrics: in-flight calls show in requests_processing_total", async () => {
  const metrics = createMetrics(options("provider"));
  const ends = [1, 2, 3].map(() => metrics.calls.start(GREET));
  assert.equal(
    value(await families(metrics), "dubbo_provider_requests_processing_total", GREET),
    3,
  );
  ends[0](null);
  ends[0](null); // a second end is ignored
  assert.equal(
    value(await families(metrics), "dubbo_provider_requests_processing_total", GREET),
    2,
  );
  ends[1]("unknown");
  ends[2](null);
  const all = await families(metrics);
  assert.equal(value(all, "dubbo_provider_requests_processing_total", GREET), 0);
  assert.equal(value(all, "dubbo_provider_requests_total", GREET), 3);
});

Deno.test("metrics: 1,000 calls to made-up methods add no series", async () => {
  const metrics = createMetrics(options("provider"));
  const seriesOf = async () => {
    const all = await families(metrics);
    return [...all.values()].flatMap((f) =>
      f.samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    ).sort();
  };
  const before = await seriesOf();
  for (let i = 0; i < 1000; i++) {
    metrics.calls.start({ ...GREET, method: `Nope${i}` })(i % 2 ? null : "unknown");
    metrics.calls.start({ ...GREET, interface: `evil.Service${i}` })(null);
    metrics.calls.start({ ...GREET, group: `g${i}` })(null);
  }
  assert.deepEqual(await seriesOf(), before);
  const all = await families(metrics);
  assert.equal(value(all, "dubbo_provider_requests_total", GREET), 0);
  assert.equal(value(all, "dubbo_provider_requests_processing_total", GREET), 0);
});

Deno.test("metrics: registry events fill the registry families", async () => {
  const metrics = createMetrics(options("consumer"));
  metrics.registryEvents.register(true, 12);
  metrics.registryEvents.register(false, 30);
  metrics.registryEvents.subscribe(true);
  metrics.registryEvents.subscribe(false);
  metrics.registryEvents.subscribe(true);
  metrics.registryEvents.notify(3, 4);
  metrics.registryEvents.notify(2, 8);
  const all = await families(metrics);
  assert.equal(value(all, "dubbo_registry_register_requests_total"), 2);
  assert.equal(value(all, "dubbo_registry_register_requests_succeed_total"), 1);
  assert.equal(value(all, "dubbo_registry_register_requests_failed_total"), 1);
  assert.equal(value(all, "dubbo_registry_subscribe_num_total"), 3);
  assert.equal(value(all, "dubbo_registry_subscribe_num_succeed_total"), 2);
  assert.equal(value(all, "dubbo_registry_subscribe_num_failed_total"), 1);
  assert.equal(value(all, "dubbo_registry_notify_requests_total"), 2);
  assert.equal(value(all, "dubbo_registry_notify_num_last"), 2);
  assert.equal(value(all, "dubbo_register_rt_milliseconds_sum"), 42);
  assert.equal(value(all, "dubbo_register_rt_milliseconds_last"), 30);
  assert.equal(value(all, "dubbo_register_rt_milliseconds_min"), 12);
  assert.equal(value(all, "dubbo_register_rt_milliseconds_max"), 30);
  assert.equal(value(all, "dubbo_register_rt_milliseconds_avg"), 21);
  assert.equal(value(all, "dubbo_notify_rt_milliseconds_avg"), 6);
  assert.equal(value(all, "dubbo_registry_notify_num_last"), 2);
});

Deno.test("metrics: markPushed and pushFailed", async () => {
  const metrics = createMetrics(options("provider"));
  assert.equal(value(await families(metrics), "job_pushed_at_seconds"), 0);
  metrics.markPushed(1_700_000_123);
  metrics.pushFailed();
  metrics.pushFailed();
  const all = await families(metrics);
  assert.equal(value(all, "job_pushed_at_seconds"), 1_700_000_123);
  assert.equal(value(all, "dubbo_metrics_push_failed_total"), 2);
});

Deno.test("metrics: text rendering has no timestamps; each registry is separate", async () => {
  const a = createMetrics(options("provider"));
  const b = createMetrics(options("provider", { app: "other" }));
  a.calls.start(GREET)(null);
  const { body, contentType } = await a.render();
  assert.equal(contentType, TEXT_CONTENT_TYPE);
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  for (const sample of [...parseExposition(body).values()].flatMap((f) => f.samples)) {
    assert.equal(sample.rest, "", `no timestamp on ${sample.name}`);
  }
  assert.equal(value(await families(b), "dubbo_provider_requests_total", GREET), 0);
  assert.doesNotMatch((await b.render()).body, /test-app/);
});

Deno.test("metrics: OpenMetrics rendering; text rendering unchanged afterwards", async () => {
  const metrics = createMetrics(options("provider"));
  metrics.calls.start(GREET)(null);
  // Values like QPS and RSS move with time; names, types and label sets must not.
  const shape = (body: string) => body.split("\n").map((line) => line.replace(/ [^ ]+$/, ""));
  const textBefore = shape((await metrics.render()).body);
  const { body, contentType } = await metrics.render(true);
  assert.equal(contentType, OPENMETRICS_CONTENT_TYPE);
  assert.match(body, /# EOF\n$/);
  assert.match(body, /^# TYPE dubbo_provider_requests counter$/m);
  assert.match(body, /^dubbo_provider_requests_total\{.*method="Greet".*\} 1$/m);
  assert.match(body, /^# TYPE dubbo_application_info counter$/m);
  assert.match(body, /^# TYPE dubbo_provider_rt_seconds histogram$/m);
  const textAfter = (await metrics.render()).body;
  assert.deepEqual(shape(textAfter), textBefore);
  assert.match(textAfter, /^# TYPE dubbo_provider_requests_total counter$/m);
});

Deno.test("metrics: duplicate registered targets give one series", async () => {
  const metrics = createMetrics(options("provider", { services: [GREET, { ...GREET }] }));
  const all = await families(metrics);
  assert.equal(all.get("dubbo_provider_requests_total")?.samples.length, 1);
});
