/**
 * Users' prom-client registries rendered beside Dubbo's families: real prom-client 15
 * metrics (counter with labels, gauge, histogram, summary), both formats in any order, the
 * counter that prom-client's own OpenMetrics render renames, and clashing names.
 */
import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import {
  createMetrics,
  type DubboMetrics,
  MetricNameCollision,
  type PromClientRegistry,
} from "./mod.ts";

const GREET = { interface: "greet.GreetService", method: "Greet", group: "", version: "" };

function metricsWith(...registries: PromClientRegistry[]): DubboMetrics {
  return createMetrics({
    side: "provider",
    app: "shop",
    appVersion: "1.0.0",
    hostname: "h",
    ip: "127.0.0.1",
    services: [GREET],
    registries,
  });
}

/** A registry with one metric of each kind, recorded; `openMetrics` sets its own render's format. */
function shopRegistry(openMetrics = false): Registry {
  const registry = new Registry();
  // prom-client's typings bind the format at construction; the JavaScript switches it.
  if (openMetrics) registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  const orders = new Counter({
    name: "shop_orders_total",
    help: "Orders placed",
    labelNames: ["shop", "payment"],
    registers: [registry],
  });
  orders.inc({ shop: "berlin", payment: "card" }, 2);
  orders.inc({ shop: "paris", payment: "cash" });
  new Gauge({ name: "shop_open_carts", help: "Carts open now", registers: [registry] }).set(7);
  const basket = new Histogram({
    name: "shop_basket_euros",
    help: "Basket value",
    buckets: [10, 50],
    registers: [registry],
  });
  basket.observe(5);
  basket.observe(30);
  basket.observe(80);
  const wait = new Summary({
    name: "shop_checkout_seconds",
    help: "Checkout time",
    percentiles: [0.5],
    registers: [registry],
  });
  wait.observe(2);
  return registry;
}

/** The lines of `body` that belong to the shop's families. */
function shopLines(body: string): string[] {
  return body.split("\n").filter((line) => /^(# (HELP|TYPE) )?shop_/.test(line));
}

Deno.test("registries: a prom-client registry's metrics follow ours, in text", async () => {
  const metrics = metricsWith(shopRegistry());
  const { body } = await metrics.render();
  assert.match(body, /^dubbo_provider_requests_total\{/m, "ours are still there");
  assert.ok(body.indexOf("dubbo_provider_requests_total") < body.indexOf("shop_orders_total"));
  assert.deepEqual(shopLines(body), [
    "# HELP shop_orders_total Orders placed",
    "# TYPE shop_orders_total counter",
    'shop_orders_total{shop="berlin",payment="card"} 2',
    'shop_orders_total{shop="paris",payment="cash"} 1',
    "# HELP shop_open_carts Carts open now",
    "# TYPE shop_open_carts gauge",
    "shop_open_carts 7",
    "# HELP shop_basket_euros Basket value",
    "# TYPE shop_basket_euros histogram",
    'shop_basket_euros_bucket{le="10"} 1',
    'shop_basket_euros_bucket{le="50"} 2',
    'shop_basket_euros_bucket{le="+Inf"} 3',
    "shop_basket_euros_sum 115",
    "shop_basket_euros_count 3",
    "# HELP shop_checkout_seconds Checkout time",
    "# TYPE shop_checkout_seconds summary",
    'shop_checkout_seconds{quantile="0.5"} 2',
    "shop_checkout_seconds_sum 2",
    "shop_checkout_seconds_count 1",
  ]);
});

Deno.test("registries: OpenMetrics names the counter family without _total; any scrape order", async () => {
  const metrics = metricsWith(shopRegistry());
  const text = shopLines((await metrics.render()).body);
  const body = (await metrics.render(true)).body;
  const open = shopLines(body);
  assert.deepEqual(open.slice(0, 3), [
    "# HELP shop_orders Orders placed",
    "# TYPE shop_orders counter",
    'shop_orders_total{shop="berlin",payment="card"} 2',
  ]);
  assert.match(body, /\n# EOF\n$/);
  // Process families move between renders; the shop's lines do not.
  assert.deepEqual(shopLines((await metrics.render()).body), text, "text after OpenMetrics");
  assert.deepEqual(shopLines((await metrics.render(true)).body), open);
});

Deno.test("registries: a counter renamed by prom-client's own OpenMetrics render keeps its name", async () => {
  const registry = shopRegistry(true);
  const metrics = metricsWith(registry);
  const before = shopLines((await metrics.render()).body);
  // The user (or prom-client's Pushgateway) renders the registry itself: prom-client 15
  // cuts `_total` off the counter's name for good.
  await registry.metrics();
  assert.equal((await registry.getMetricsAsJSON())[0].name, "shop_orders");
  assert.deepEqual(shopLines((await metrics.render()).body), before);
  assert.match((await metrics.render(true)).body, /^shop_orders_total\{shop="berlin"/m);
});

Deno.test("registries: default labels and several registries", async () => {
  const first = shopRegistry();
  first.setDefaultLabels({ region: "eu" });
  const second = new Registry();
  new Gauge({ name: "stock_items", help: "Items in stock", registers: [second] }).set(40);
  const { body } = await metricsWith(first, second).render();
  assert.match(body, /^shop_open_carts\{region="eu"\} 7$/m);
  assert.match(body, /^stock_items 40$/m);
});

Deno.test("registries: a name of ours or of another registry is refused", async () => {
  const clashes: [string, string][] = [
    ["dubbo_provider_requests_total", "dubbo_provider_requests_total"],
    ["dubbo_provider_requests", "dubbo_provider_requests_total"], // the same OpenMetrics family
    ["process_start_time_seconds", "process_start_time_seconds"],
    ["dubbo_provider_rt_seconds_bucket", "dubbo_provider_rt_seconds"], // our histogram's samples
  ];
  for (const [name, owner] of clashes) {
    const registry = new Registry();
    new Counter({ name, help: "x", registers: [registry] });
    await assert.rejects(metricsWith(registry).checkRegistries(), (error: Error) => {
      assert.ok(error instanceof MetricNameCollision);
      assert.equal(error.message.split("\n").length, 1);
      assert.ok(error.message.includes(`"${name}" of prom-client registry 1`), error.message);
      assert.ok(error.message.endsWith(`collides with Dubbo's family ${owner}: rename it`));
      return true;
    });
  }
  const twice = [shopRegistry(), shopRegistry()];
  await assert.rejects(
    metricsWith(...twice).checkRegistries(),
    /"shop_orders_total" of prom-client registry 2 collides with "shop_orders_total" of prom-client registry 1: rename it$/,
  );
  await metricsWith(shopRegistry()).checkRegistries(); // no clash: resolves
});

Deno.test("registries: a clashing metric registered after the start check is left out", async () => {
  const registry = shopRegistry();
  const metrics = metricsWith(registry);
  await metrics.checkRegistries();
  new Gauge({ name: "dubbo_provider_qps_total", help: "late", registers: [registry] }).set(99);
  const { body } = await metrics.render();
  assert.equal(body.match(/^# TYPE dubbo_provider_qps_total /gm)?.length, 1);
  assert.doesNotMatch(body, /^dubbo_provider_qps_total 99$/m);
  assert.match(body, /^shop_open_carts 7$/m);
});
