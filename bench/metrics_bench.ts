/**
 * Cost of the metrics: recording one call through the CallObserver (goal ≤ 2 µs) and
 * rendering the scrape body (goal ≤ 10 ms for 1,000 series). Run: `deno task bench`.
 */
import { NO_CALLS } from "../lib/observe.ts";
import type { CallTarget } from "../lib/observe.ts";
import { createMetrics, type DubboMetrics } from "../lib/metrics/mod.ts";

function targets(count: number): CallTarget[] {
  return Array.from({ length: count }, (_, i) => ({
    interface: `bench.Service${Math.floor(i / 10)}`,
    method: `Method${i % 10}`,
    group: "",
    version: "",
  }));
}

function metricsWith(methods: number): DubboMetrics {
  const metrics = createMetrics({
    side: "provider",
    app: "bench",
    appVersion: "1.0.0",
    hostname: "bench-host",
    ip: "10.0.0.1",
    services: targets(methods),
  });
  // Give every series some data so quantiles and windows have work to do.
  for (const target of metrics.targets) {
    for (let i = 0; i < 20; i++) metrics.calls.start(target)(i % 7 === 0 ? "unknown" : null);
  }
  return metrics;
}

const recording = metricsWith(1);
const greet = recording.targets[0];
const unknownTarget: CallTarget = { ...greet, method: "Nope" };

Deno.bench("record one call: no metrics (NO_CALLS)", { group: "record", baseline: true }, () => {
  NO_CALLS.start(greet)(null);
});
Deno.bench("record one call: success", { group: "record" }, () => {
  recording.calls.start(greet)(null);
});
Deno.bench("record one call: failure (unknown)", { group: "record" }, () => {
  recording.calls.start(greet)("unknown");
});
Deno.bench("record one call: unregistered method (ignored)", { group: "record" }, () => {
  recording.calls.start(unknownTarget)(null);
});

// ~46 series per method (RPC gauges, counters and histogram lines) plus ~140 per program: 20
// methods ≈ 1,000 series.
const small = metricsWith(20);
const large = metricsWith(1000);
const seriesCount = (metrics: DubboMetrics) =>
  metrics.render().then(({ body }) =>
    body.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length
  );
console.error(
  `series: 20 methods → ${await seriesCount(small)}, 1000 methods → ${await seriesCount(large)}`,
);

Deno.bench(
  "render text, 20 methods (1,058 series)",
  { group: "render", baseline: true },
  async () => {
    await small.render();
  },
);
Deno.bench("render OpenMetrics, 20 methods (1,058 series)", { group: "render" }, async () => {
  await small.render(true);
});
Deno.bench("render text, 1,000 methods (46,138 series)", { group: "render" }, async () => {
  await large.render();
});
