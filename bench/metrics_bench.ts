/**
 * Cost of the metrics: recording one call through the CallObserver (goal ≤ 2 µs) and
 * rendering the scrape body (goal ≤ 10 ms for 1,000 series). Run: `deno task bench`.
 */
import { NO_CALLS } from "../lib/observe.ts";
import type { CallTarget } from "../lib/observe.ts";
import type { DubboMetrics } from "../lib/metrics/mod.ts";
import { recordedMetrics as metricsWith } from "./_metrics.ts";

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
