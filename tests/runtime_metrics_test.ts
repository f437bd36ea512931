/**
 * The runtime families (CPU, memory, heap, event loop, GC, versions) appear on the
 * provider's `/prometheus` when it runs with exactly `deno task server`'s permissions.
 */
import assert from "node:assert/strict";
import { parseExposition } from "./support/exposition.ts";
import { freePort } from "../tools/ports.ts";
import { startProgram, taskArgs } from "./support/programs.ts";
import { waitFor } from "./support/services.ts";
import { EXPORTED_METRICS } from "./support/metric_names.ts";

Deno.test("runtime metrics: served under deno task server's own permissions with sane values", async () => {
  assert.ok(!taskArgs("server").some((a) => a === "-A" || a.startsWith("--allow-all")));
  assert.ok(!taskArgs("server").some((a) => a.startsWith("--allow-read")), "no read access");
  const startedAt = Date.now() / 1000;
  const port = await freePort();
  const metricsPort = await freePort();
  await using server = startProgram("server", [
    "--registry=none",
    "--push=false",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--failure-rate=0",
    "--delay=0ms",
  ]);
  await using client = startProgram("client", [
    "--registry=none",
    "--push=false",
    "--host=127.0.0.1",
    `--url=tri://127.0.0.1:${port}`,
    `--metrics-port=${await freePort()}`,
    "--interval=1ms",
    "--concurrency=4",
    "--count=400",
  ]);
  assert.equal(await client.exited, 0, client.output());
  const url = `http://127.0.0.1:${metricsPort}/prometheus`;
  let text = "";
  await waitFor("runtime families on /prometheus", async () => {
    const response = await fetch(url).catch(() => undefined);
    text = response ? await response.text() : "";
    return text.includes("deno_version_info");
  });
  const all = parseExposition(text);
  const v = (name: string, labels: Record<string, string> = {}) => {
    const sample = [...all.values()].flatMap((f) => f.samples).find((s) =>
      s.name === name && Object.entries(labels).every(([k, want]) => s.labels[k] === want)
    );
    assert.ok(sample, `${name} ${JSON.stringify(labels)} on ${url}`);
    return sample.value;
  };
  const cpu = v("process_cpu_seconds_total");
  assert.ok(cpu > 0 && cpu < 600, `cpu ${cpu}`);
  assert.equal(all.get("process_cpu_seconds_total")?.type, "counter");
  const start = v("process_start_time_seconds");
  assert.ok(start > startedAt - 5 && start <= Date.now() / 1000, `start ${start}`);
  const rss = v("process_resident_memory_bytes");
  assert.ok(rss > 10_000_000 && rss < 4_000_000_000, `rss ${rss}`);
  assert.ok(v("nodejs_heap_size_used_bytes") > 1_000_000);
  assert.ok(v("nodejs_heap_size_used_bytes") <= v("nodejs_heap_size_total_bytes"));
  assert.ok(v("nodejs_heap_space_size_used_bytes", { space: "old" }) > 0);
  const lag = v("nodejs_eventloop_lag_p99_seconds");
  assert.ok(lag >= 0 && lag < 10, `lag ${lag}`);
  assert.equal(all.get("nodejs_gc_duration_seconds")?.type, "histogram");
  assert.ok(v("nodejs_gc_duration_seconds_count", { kind: "minor" }) >= 0);
  assert.equal(v("deno_version_info", { version: Deno.version.deno }), 1);
  assert.equal(v("nodejs_version_info"), 1);
  // The dashboard and rule checks know exactly these runtime series.
  const runtime = /^(process|nodejs|deno)_/;
  const served = new Set([...all.values()].flatMap((f) => f.samples.map((s) => s.name)));
  assert.deepEqual(
    [...served].filter((n) => runtime.test(n)).sort(),
    [...EXPORTED_METRICS].filter((n) => runtime.test(n)).sort(),
  );
  assert.doesNotMatch(server.output(), /NotCapable|PermissionDenied|Requires .* access/);
  assert.equal(await server.stop(), 0, server.output());
});
