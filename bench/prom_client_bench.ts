/**
 * prom-client against our own metrics (README "Design card"): the cost of recording one call
 * the idiomatic prom-client way, and of rendering about 1,000 series, next to lib/metrics
 * doing the same; and what a user's prom-client registry adds to our scrape.
 *
 * prom-client's call, with the 8 Dubbo labels as one object: `requests_total.inc`, the
 * outcome counter(s) (`succeed_total`, or `failed_total` + `unknown_failed_total`),
 * `requests_processing` gauge `inc` at the start and `dec` at the end, a `rt_milliseconds_last`
 * gauge `set`, the `rt_seconds` histogram (our 14 buckets) and a Summary for the window
 * quantiles (p50/p90/p95/p99 over 120 s in 10 age buckets, as dubbo-go's window). Ours is
 * `calls.start(target)` / `end(code)`, which records all of that and more.
 *
 * Run: `deno task bench bench/prom_client_bench.ts`.
 */
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import type { CallTarget } from "../lib/observe.ts";
import { RT_BUCKETS_SECONDS } from "../lib/metrics/mod.ts";
import { benchTargets, recordedMetrics } from "./_metrics.ts";

const APP = {
  application_name: "bench",
  application_version: "1.0.0",
  hostname: "bench-host",
  ip: "10.0.0.1",
};
const LABELS = [...Object.keys(APP), "interface", "method", "group", "version"];

/** The provider's families as prom-client metrics, the way a prom-client user writes them. */
function promClientProvider(registry: Registry) {
  const counter = (name: string) =>
    new Counter({ name, help: name, labelNames: LABELS, registers: [registry] });
  const gauge = (name: string) =>
    new Gauge({ name, help: name, labelNames: LABELS, registers: [registry] });
  const requests = counter("dubbo_provider_requests_total");
  const succeed = counter("dubbo_provider_requests_succeed_total");
  const failed = counter("dubbo_provider_requests_failed_total");
  const unknown = counter("dubbo_provider_requests_unknown_failed_total");
  const processing = gauge("dubbo_provider_requests_processing_total");
  const last = gauge("dubbo_provider_rt_milliseconds_last");
  const rt = new Histogram({
    name: "dubbo_provider_rt_seconds",
    help: "rt",
    labelNames: LABELS,
    buckets: [...RT_BUCKETS_SECONDS],
    registers: [registry],
  });
  const quantiles = new Summary({
    name: "dubbo_provider_rt_milliseconds",
    help: "rt window",
    labelNames: LABELS,
    percentiles: [0.5, 0.9, 0.95, 0.99],
    maxAgeSeconds: 120,
    ageBuckets: 10,
    registers: [registry],
  });
  /** Records one call of `target` the idiomatic way; `code` null is a success. */
  return (target: CallTarget, code: string | null) => {
    const labels = { ...APP, ...target };
    const startedAt = performance.now();
    requests.inc(labels);
    processing.inc(labels);
    const ms = performance.now() - startedAt;
    processing.dec(labels);
    if (code === null) succeed.inc(labels);
    else {
      failed.inc(labels);
      unknown.inc(labels);
    }
    last.set(labels, ms);
    rt.observe(labels, ms / 1000);
    quantiles.observe(labels, ms);
  };
}

function promClientWith(methods: number): Registry {
  const registry = new Registry();
  const record = promClientProvider(registry);
  for (const target of benchTargets(methods)) {
    for (let i = 0; i < 20; i++) record(target, i % 7 === 0 ? "unknown" : null);
  }
  return registry;
}

const seriesIn = (body: string) =>
  body.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length;

// Recording: one method, called over and over (a provider's hot path).
const ours = recordedMetrics(1);
const greet = ours.targets[0];
const recordPromClient = promClientProvider(new Registry());

Deno.bench("record one call: ours, success", { group: "record", baseline: true }, () => {
  ours.calls.start(greet)(null);
});
Deno.bench("record one call: ours, failure (unknown)", { group: "record" }, () => {
  ours.calls.start(greet)("unknown");
});
Deno.bench("record one call: prom-client, success", { group: "record" }, () => {
  recordPromClient(greet, null);
});
Deno.bench("record one call: prom-client, failure (unknown)", { group: "record" }, () => {
  recordPromClient(greet, "unknown");
});

// Rendering about 1,000 series: ours with 20 methods (all of Dubbo's families plus the
// runtime ones), prom-client's 28 series per method with 35 methods.
const oursSmall = recordedMetrics(20);
const promClient = promClientWith(35);
const promClientOpen = promClientWith(35);
promClientOpen.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
const oursSeries = `${seriesIn((await oursSmall.render()).body).toLocaleString("en")} series`;
const theirSeries = `${seriesIn(await promClient.metrics()).toLocaleString("en")} series`;

Deno.bench(`render text: ours, ${oursSeries}`, { group: "render", baseline: true }, async () => {
  await oursSmall.render();
});
Deno.bench(`render OpenMetrics: ours, ${oursSeries}`, { group: "render" }, async () => {
  await oursSmall.render(true);
});
Deno.bench(`render text: prom-client, ${theirSeries}`, { group: "render" }, async () => {
  await promClient.metrics();
});
Deno.bench(`render OpenMetrics: prom-client, ${theirSeries}`, { group: "render" }, async () => {
  await promClientOpen.metrics();
});

// A user's registry (a counter with labels and a histogram, 100 series) on our scrape: read
// as JSON and written by our writer, against prom-client rendering it alone.
function userRegistry(): Registry {
  const registry = new Registry();
  const orders = new Counter({
    name: "shop_orders_total",
    help: "Orders placed",
    labelNames: ["shop"],
    registers: [registry],
  });
  const basket = new Histogram({
    name: "shop_basket_euros",
    help: "Basket value",
    labelNames: ["shop"],
    buckets: [5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
  });
  for (let shop = 0; shop < 10; shop++) {
    orders.inc({ shop: `shop-${shop}` }, shop + 1);
    basket.observe({ shop: `shop-${shop}` }, 10 * shop);
  }
  return registry;
}
const users = userRegistry();
const oursBare = recordedMetrics(20);
const oursAndUsers = recordedMetrics(20, [users]);
Deno.bench("scrape: ours alone, text", { group: "users", baseline: true }, async () => {
  await oursBare.render();
});
Deno.bench("scrape: ours + a user's registry (100 series), text", { group: "users" }, async () => {
  await oursAndUsers.render();
});
Deno.bench("the user's registry alone: prom-client's own render", { group: "users" }, async () => {
  await users.metrics();
});
