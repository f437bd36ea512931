/**
 * Memory at a gentle, realistic load (issue 21: each of server and client ≤ 100 MB): the
 * server and the client started exactly as `deno task server` / `deno task client` start them,
 * at their defaults through a real ZooKeeper and a real Pushgateway (push every 10 s, a
 * failure rate of 1/101 and a 10 ms business delay on the server), the client at 4 workers ×
 * 5 ms interval (about 200 calls/s). Each process's RSS is sampled every second; reported:
 * RSS after the first 20 s (warm), the peak, the last sample, and the calls made.
 *
 * Knob: `GENTLE_BENCH_SECONDS` (how long the load runs, 120).
 * Run: `deno bench -P bench/gentle_bench.ts` (Linux only, for /proc).
 *
 * @module
 */
import { startProgram } from "../tests/support/programs.ts";
import { rssBytes } from "../tests/support/raw_http.ts";
import { scrapeSum } from "../tests/support/interop.ts";
import { startPushgateway, startZooKeeper } from "../tests/support/services.ts";
import { freePort } from "../tools/ports.ts";

const SECONDS = Number(Deno.env.get("GENTLE_BENCH_SECONDS") ?? 120);
const WARM_SECONDS = 20;
const MIB = 1024 * 1024;

function describe(name: string, samples: number[]): string {
  const mib = (bytes: number) => (bytes / MIB).toFixed(0).padStart(4);
  const warm = samples[Math.min(WARM_SECONDS, samples.length - 1)];
  return `${name.padEnd(7)} RSS warm ${mib(warm)} MiB  peak ${mib(Math.max(...samples))} MiB  ` +
    `last ${mib(samples.at(-1)!)} MiB`;
}

await using zk = await startZooKeeper();
await using pushgateway = await startPushgateway();
const env = { ZK_ADDRESS: zk.address, PUSHGATEWAY_URL: pushgateway.address };
const serverMetrics = await freePort();
await using server = startProgram("server", [
  "--host=127.0.0.1",
  `--port=${await freePort()}`,
  `--metrics-port=${serverMetrics}`,
], env);
await server.waitForLine(/registered in ZooKeeper/, 30_000);
const clientMetrics = await freePort();
await using client = startProgram("client", [
  "--host=127.0.0.1",
  `--metrics-port=${clientMetrics}`,
  "--concurrency=4",
  "--interval=5ms",
], env);
await client.waitForLine(/Greet response: /, 30_000);

const rss = { server: [] as number[], client: [] as number[] };
const started = Date.now();
while (Date.now() - started < SECONDS * 1000) {
  rss.server.push(rssBytes(server.pid));
  rss.client.push(rssBytes(client.pid));
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
const calls = await scrapeSum(clientMetrics, "dubbo_consumer_requests_total");
const served = await scrapeSum(serverMetrics, "dubbo_provider_requests_total");
console.log(
  `\ngentle load for ${SECONDS} s through ZooKeeper and the Pushgateway, client 4 workers × 5 ms: ` +
    `${calls} calls (${(calls / SECONDS).toFixed(0)}/s), ${served} served\n` +
    `${describe("server", rss.server)}\n${describe("client", rss.client)}\n`,
);

// `deno bench` lists a file only with an entry; the measurements above are the point.
const self = Deno.pid;
Deno.bench("gentle: read one RSS sample", () => {
  rssBytes(self);
});
