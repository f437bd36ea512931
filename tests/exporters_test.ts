/**
 * lib/exporters against real services: the scrape endpoint (and Prometheus scraping it),
 * and the pusher against a real Pushgateway (grouping, @base64, basic auth with a bcrypt
 * web config, outage and recovery, DELETE), queried back through Prometheus.
 */
import assert from "node:assert/strict";
import type { CallTarget } from "../lib/observe.ts";
import { createMetrics, type DubboMetrics } from "../lib/metrics/mod.ts";
import { serveMetrics, startPusher, wantsOpenMetrics } from "../lib/exporters/mod.ts";
import { groupPath } from "../lib/grouping_key.ts";
import { bcryptHash, startPrometheus, startPushgateway, waitFor } from "./support/services.ts";
import type { Service } from "../tools/services.ts";
import { parseExposition } from "./support/exposition.ts";

const GREET: CallTarget = {
  interface: "greet.GreetService",
  method: "Greet",
  group: "",
  version: "",
};

function newMetrics(app = "exporter-test"): DubboMetrics {
  return createMetrics({
    side: "provider",
    app,
    appVersion: "0.0.1",
    hostname: "test-host",
    ip: "127.0.0.1",
    services: [GREET],
  });
}

/** Records `ok` successes and `failed` unknown failures. */
function record(metrics: DubboMetrics, ok: number, failed = 0): void {
  for (let i = 0; i < ok; i++) metrics.calls.start(GREET)(null);
  for (let i = 0; i < failed; i++) metrics.calls.start(GREET)("unknown");
}

/** A log sink that keeps its lines. */
function captureLog() {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line) };
}

interface Group {
  labels: Record<string, string>;
  [family: string]: unknown;
}

/** The groups the Pushgateway holds (its JSON API). */
async function groups(pgw: Service, authorization?: string): Promise<Group[]> {
  const response = await fetch(`${pgw.url}/api/v1/metrics`, {
    headers: authorization ? { authorization } : {},
  });
  assert.equal(response.status, 200, "pushgateway API");
  const json = await response.json() as { data: Group[] };
  return json.data;
}

function findGroup(all: Group[], job: string, instance: string): Group | undefined {
  return all.find((g) => g.labels.job === job && g.labels.instance === instance);
}

/** A value of `family` in a Pushgateway group. */
function groupValue(group: Group, family: string): number {
  const entry = group[family] as { metrics: { value: string }[] } | undefined;
  assert.ok(entry, `group has no ${family}`);
  return Number(entry.metrics[0].value);
}

/** Instant query against Prometheus: the result vector. */
async function query(
  prom: Service,
  promql: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const json = await response.json();
  assert.equal(json.status, "success", JSON.stringify(json));
  return json.data.result;
}

function basic(user: string, pass: string): string {
  return `Basic ${btoa(`${user}:${pass}`)}`;
}

Deno.test("scrape: text format, OpenMetrics on Accept, HEAD, 404 elsewhere, 405 for POST", async () => {
  const metrics = newMetrics();
  record(metrics, 3, 1);
  const endpoint = await serveMetrics({
    hostname: "127.0.0.1",
    port: 0,
    path: "/prometheus",
    metrics,
  });
  try {
    const base = `http://127.0.0.1:${endpoint.port}`;
    const text = await fetch(`${base}/prometheus`);
    assert.equal(text.status, 200);
    assert.match(text.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await text.text());
    const requests = families.get("dubbo_provider_requests_total")!.samples[0];
    assert.equal(requests.value, 4);
    assert.equal(families.get("dubbo_provider_requests_failed_total")!.samples[0].value, 1);

    const om = await fetch(`${base}/prometheus`, {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    });
    assert.match(
      om.headers.get("content-type")!,
      /^application\/openmetrics-text; version=1\.0\.0/,
    );
    assert.match(await om.text(), /# EOF\n$/);

    const head = await fetch(`${base}/prometheus`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");

    const elsewhere = await fetch(`${base}/metrics`);
    assert.equal(elsewhere.status, 404);
    await elsewhere.body?.cancel();

    const post = await fetch(`${base}/prometheus`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  } finally {
    await endpoint.close();
  }
});

Deno.test("scrape: Accept negotiation", () => {
  assert.equal(wantsOpenMetrics(null), false);
  assert.equal(wantsOpenMetrics("text/plain"), false);
  assert.equal(wantsOpenMetrics("*/*"), false);
  assert.equal(wantsOpenMetrics("application/openmetrics-text; version=1.0.0"), true);
  assert.equal(wantsOpenMetrics("text/plain, application/openmetrics-text;q=0"), false);
});

Deno.test("scrape: a busy port is a clear error", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (blocker.addr as Deno.NetAddr).port;
    await assert.rejects(
      serveMetrics({ hostname: "127.0.0.1", port, path: "/prometheus", metrics: newMetrics() }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(`metrics port 127\\.0\\.0\\.1:${port} is already in use`),
        );
        return true;
      },
    );
  } finally {
    blocker.close();
  }
});

Deno.test("pull: Prometheus scrapes the endpoint and sees the calls", async () => {
  const metrics = newMetrics();
  record(metrics, 5, 2);
  const endpoint = await serveMetrics({
    hostname: "127.0.0.1",
    port: 0,
    path: "/prometheus",
    metrics,
  });
  try {
    await using prom = await startPrometheus({
      config: [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: dubbo_pull",
        "    metrics_path: /prometheus",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${endpoint.port}"]`,
        "",
      ].join("\n"),
    });
    await waitFor(
      "Prometheus to scrape the succeed counter",
      async () => {
        const result = await query(prom, 'dubbo_provider_requests_succeed_total{job="dubbo_pull"}');
        return result.length === 1 && Number(result[0].value[1]) === 5;
      },
      30_000,
      250,
    );
    const [failed] = await query(prom, "dubbo_provider_requests_failed_total");
    assert.equal(Number(failed.value[1]), 2);
    assert.equal(failed.metric.method, "Greet");
    assert.equal(failed.metric.interface, "greet.GreetService");
    const [up] = await query(prom, 'up{job="dubbo_pull"}');
    assert.equal(up.value[1], "1");
    const buckets = await query(prom, "dubbo_provider_rt_seconds_bucket");
    assert.ok(buckets.length >= 10, "histogram buckets scraped");
    const [info] = await query(prom, "dubbo_application_info_total");
    assert.equal(info.metric.application_name, "exporter-test");
  } finally {
    await endpoint.close();
  }
});

Deno.test("grouping path: plain, escaped and @base64 values", () => {
  assert.equal(
    groupPath({ job: "dubbo_server", instance: "10.0.0.5:9099" }),
    "/metrics/job/dubbo_server/instance/10.0.0.5%3A9099",
  );
  assert.equal(
    groupPath({ job: "dubbo_server", instance: "" }),
    "/metrics/job/dubbo_server/instance@base64/=",
  );
  assert.equal(
    groupPath({ job: "a/b", instance: "pod/x?" }),
    "/metrics/job@base64/YS9i/instance@base64/cG9kL3g_",
  );
});

Deno.test("push: lands under job+instance; Prometheus (honor_labels) sees it; DELETE removes it", async () => {
  await using pgw = await startPushgateway();
  await using prom = await startPrometheus({
    config: [
      "global:",
      "  scrape_interval: 1s",
      "scrape_configs:",
      "  - job_name: pushgateway",
      "    honor_labels: true",
      "    static_configs:",
      `      - targets: ["${pgw.address}"]`,
      "",
    ].join("\n"),
  });
  const metrics = newMetrics();
  record(metrics, 7, 1);
  const { lines, log } = captureLog();
  const before = Date.now() / 1000;
  const pusher = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_server" },
    instance: "127.0.0.1:9099",
    intervalMs: 500,
    metrics,
    log,
  });
  try {
    let group: Group | undefined;
    await waitFor("the group in the Pushgateway", async () => {
      group = findGroup(await groups(pgw), "dubbo_server", "127.0.0.1:9099");
      return group !== undefined;
    });
    assert.equal(groupValue(group!, "dubbo_provider_requests_succeed_total"), 7);
    const pushedAt = groupValue(group!, "job_pushed_at_seconds");
    assert.ok(pushedAt >= Math.floor(before), `job_pushed_at_seconds ${pushedAt} is this push`);
    assert.ok(groupValue(group!, "push_time_seconds") > 0);

    // More calls show up with a later push.
    record(metrics, 3);
    await waitFor("the next push", async () => {
      const next = findGroup(await groups(pgw), "dubbo_server", "127.0.0.1:9099");
      return next !== undefined && groupValue(next, "dubbo_provider_requests_succeed_total") === 10;
    });

    await waitFor(
      "Prometheus to see the pushed counter",
      async () => {
        const result = await query(
          prom,
          'dubbo_provider_requests_succeed_total{job="dubbo_server",instance="127.0.0.1:9099"} > 0',
        );
        return result.length === 1 && result[0].metric.method === "Greet";
      },
      30_000,
      250,
    );

    await pusher.stop();
    assert.equal(findGroup(await groups(pgw), "dubbo_server", "127.0.0.1:9099"), undefined);
    assert.ok(lines.some((line) => line.startsWith("deleted metrics group")), lines.join("\n"));
    assert.ok(!lines.some((line) => /failed/.test(line)), lines.join("\n"));
  } finally {
    await pusher.stop();
  }
});

Deno.test("push: two instances of one job keep separate groups; stop deletes only its own", async () => {
  await using pgw = await startPushgateway();
  const a = newMetrics("app-a");
  const b = newMetrics("app-b");
  record(a, 1);
  record(b, 2);
  const quiet = () => {};
  const pushA = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_client" },
    instance: "10.0.0.1:9097",
    intervalMs: 300,
    metrics: a,
    log: quiet,
  });
  const pushB = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_client" },
    instance: "10.0.0.2:9097",
    intervalMs: 300,
    metrics: b,
    log: quiet,
  });
  try {
    await waitFor("both groups", async () => {
      const all = await groups(pgw);
      return findGroup(all, "dubbo_client", "10.0.0.1:9097") !== undefined &&
        findGroup(all, "dubbo_client", "10.0.0.2:9097") !== undefined;
    });
    const all = await groups(pgw);
    assert.equal(
      groupValue(findGroup(all, "dubbo_client", "10.0.0.1:9097")!, "dubbo_provider_requests_total"),
      1,
    );
    assert.equal(
      groupValue(findGroup(all, "dubbo_client", "10.0.0.2:9097")!, "dubbo_provider_requests_total"),
      2,
    );
    await pushA.stop();
    const after = await groups(pgw);
    assert.equal(findGroup(after, "dubbo_client", "10.0.0.1:9097"), undefined);
    assert.ok(findGroup(after, "dubbo_client", "10.0.0.2:9097"));
  } finally {
    await pushA.stop();
    await pushB.stop();
  }
});

Deno.test("push: instance values with '/' or empty use @base64 and arrive intact", async () => {
  await using pgw = await startPushgateway();
  const slash = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_server" },
    instance: "pod/dubbo-0",
    intervalMs: 300,
    metrics: newMetrics(),
    log: () => {},
  });
  const empty = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_server" },
    instance: "",
    intervalMs: 300,
    metrics: newMetrics(),
    log: () => {},
  });
  try {
    await waitFor("both groups", async () => {
      const all = await groups(pgw);
      return findGroup(all, "dubbo_server", "pod/dubbo-0") !== undefined &&
        findGroup(all, "dubbo_server", "") !== undefined;
    });
    await slash.stop();
    await empty.stop();
    // Only our job: other processes on this machine may push to a recycled port.
    assert.deepEqual((await groups(pgw)).filter((g) => g.labels.job === "dubbo_server"), []);
  } finally {
    await slash.stop();
    await empty.stop();
  }
});

Deno.test("push: basic auth against a bcrypt web config; a wrong password is counted, logged once, never shown", async () => {
  const password = "s3cret-Pa55-word";
  await using pgw = await startPushgateway({
    basicAuth: { user: "pusher", bcryptHash: bcryptHash(password) },
  });
  const good = captureLog();
  const bad = captureLog();
  const goodMetrics = newMetrics();
  const badMetrics = newMetrics();
  const pushGood = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_server", user: "pusher", pass: password },
    instance: "127.0.0.1:1",
    intervalMs: 600,
    metrics: goodMetrics,
    log: good.log,
  });
  const wrongPassword = "wrong-Pa55-word";
  const pushBad = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_server", user: "pusher", pass: wrongPassword },
    instance: "127.0.0.1:2",
    intervalMs: 600,
    metrics: badMetrics,
    log: bad.log,
  });
  try {
    const auth = basic("pusher", password);
    await waitFor(
      "the authenticated group",
      async () => findGroup(await groups(pgw, auth), "dubbo_server", "127.0.0.1:1") !== undefined,
    );
    const unauthenticated = await fetch(`${pgw.url}/api/v1/metrics`);
    assert.equal(unauthenticated.status, 401, "the Pushgateway really requires auth");
    await unauthenticated.body?.cancel();

    await waitFor("three failed pushes", async () => {
      const failed = parseExposition((await badMetrics.render()).body)
        .get("dubbo_metrics_push_failed_total")!.samples[0].value;
      return failed >= 3;
    });
    assert.equal(findGroup(await groups(pgw, auth), "dubbo_server", "127.0.0.1:2"), undefined);
    const failures = bad.lines.filter((line) => / failed: /.test(line));
    assert.equal(failures.length, 1, `one line per outage:\n${bad.lines.join("\n")}`);
    assert.match(failures[0], /HTTP 401/);
    assert.match(failures[0], /http:\/\/127\.0\.0\.1:\d+\/metrics\/job\/dubbo_server\/instance\//);

    await pushGood.stop();
    await pushBad.stop();
    assert.equal(findGroup(await groups(pgw, auth), "dubbo_server", "127.0.0.1:1"), undefined);
    const everything = [...good.lines, ...bad.lines].join("\n");
    assert.ok(!everything.includes(password), "password never logged");
    assert.ok(!everything.includes(wrongPassword), "wrong password never logged");
    assert.ok(!everything.includes(btoa(`pusher:${password}`)), "credentials never logged");
  } finally {
    await pushGood.stop();
    await pushBad.stop();
  }
});

Deno.test("push: Pushgateway down then back: outage logged once, pushes resume, program unharmed", async () => {
  await using pgw = await startPushgateway();
  const metrics = newMetrics();
  const { lines, log } = captureLog();
  const pusher = startPusher({
    pushgateway: { url: pgw.url, job: "dubbo_server" },
    instance: "127.0.0.1:9099",
    intervalMs: 200,
    metrics,
    log,
  });
  const failedPushes = async () =>
    parseExposition((await metrics.render()).body).get("dubbo_metrics_push_failed_total")!
      .samples[0].value;
  try {
    await waitFor(
      "the first push",
      async () => findGroup(await groups(pgw), "dubbo_server", "127.0.0.1:9099") !== undefined,
    );
    await pgw.stop();
    await waitFor("several failed pushes", async () => (await failedPushes()) >= 4);
    record(metrics, 2); // recording goes on during the outage
    assert.equal(lines.filter((line) => / failed: /.test(line)).length, 1, lines.join("\n"));
    assert.equal(lines.filter((line) => line.includes("recovered")).length, 0);

    await pgw.restart();
    await waitFor("the recovery line", () => lines.some((line) => line.includes("recovered")));
    await waitFor("the group to come back with the new calls", async () => {
      const group = findGroup(await groups(pgw), "dubbo_server", "127.0.0.1:9099");
      return group !== undefined && groupValue(group, "dubbo_provider_requests_total") === 2;
    });
    assert.equal(lines.filter((line) => / failed: /.test(line)).length, 1, lines.join("\n"));
    assert.equal(lines.filter((line) => line.includes("recovered")).length, 1, lines.join("\n"));
  } finally {
    await pusher.stop();
  }
});

Deno.test("push: stop is bounded and quiet when the Pushgateway is unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const metrics = newMetrics();
  const { lines, log } = captureLog();
  const pusher = startPusher({
    pushgateway: { url: `http://127.0.0.1:${port}`, job: "dubbo_server" },
    instance: "127.0.0.1:9099",
    intervalMs: 10_000,
    metrics,
    log,
  });
  assert.equal(await pusher.pushNow(), false);
  await pusher.stop();
  assert.equal(lines.filter((line) => line.includes("metrics push")).length, 1, lines.join("\n"));
  assert.ok(lines.some((line) => line.startsWith("deleting metrics group")), lines.join("\n"));
  assert.equal(await pusher.pushNow(), false, "no pushes after stop");
});
