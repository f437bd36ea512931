/**
 * `deno task demo`: a provider and a consumer in one process, no external service
 * (registry none, pull mode), with a live one-line summary of the traffic.
 *
 * @module
 */
import { hostname } from "./lib/host.ts";
import { createMetrics } from "./lib/metrics/mod.ts";
import { serveMetrics } from "./lib/exporters/mod.ts";
import { GREET, greetService, runCallLoop } from "./lib/greet/mod.ts";
import { callTarget, createClient, pathOf, serveProvider } from "./lib/triple/mod.ts";
import { onShutdown } from "./lib/shutdown.ts";
import { VERSION } from "./lib/version.ts";

const HOST = "127.0.0.1";
const identity = {
  appVersion: VERSION,
  hostname: hostname(),
  ip: HOST,
  services: [callTarget(GREET)],
};

const providerMetrics = createMetrics({
  side: "provider",
  app: "dubbo-metrics-server",
  ...identity,
});
const consumerMetrics = createMetrics({
  side: "consumer",
  app: "dubbo-metrics-client",
  ...identity,
});
const providerScrape = await serveMetrics({
  hostname: HOST,
  port: 9099,
  path: "/prometheus",
  metrics: providerMetrics,
});
const consumerScrape = await serveMetrics({
  hostname: HOST,
  port: 9097,
  path: "/prometheus",
  metrics: consumerMetrics,
});
const provider = await serveProvider({
  hostname: HOST,
  port: 20000,
  services: [greetService({ failureRate: 1 / 101, delayMs: 10 })],
  observer: providerMetrics.calls,
});
const client = createClient({
  timeoutMs: 3000,
  serialization: "protobuf",
  observer: consumerMetrics.calls,
});

const live = Deno.stdout.isTerminal();
const running: {
  loop?: ReturnType<typeof runCallLoop>;
  ticker?: ReturnType<typeof setInterval>;
} = {};
const shutdown = onShutdown([
  { name: "stop summary", run: () => clearInterval(running.ticker) },
  { name: "drain calls", run: () => running.loop?.done },
  { name: "close connections", run: () => client.close() },
  { name: "drain provider", run: () => provider.close(1000) },
  {
    name: "close scrape endpoints",
    run: () => Promise.all([providerScrape.close(), consumerScrape.close()]).then(() => {}),
  },
], { log: (line) => console.log(live ? `\n${line}` : line) });

console.log(`provider  tri://${HOST}:${provider.port}/${GREET.service}`);
console.log(`metrics   http://${HOST}:${providerScrape.port}/prometheus (provider)`);
console.log(`metrics   http://${HOST}:${consumerScrape.port}/prometheus (consumer)`);
console.log(
  `try       curl -H 'Content-Type: application/json' -d '{"name":"Dubbo"}' http://${HOST}:${provider.port}${
    pathOf(GREET)
  }`,
);
console.log("Ctrl-C to stop");

const loop = running.loop = runCallLoop({
  client,
  pick: () => ({ host: HOST, port: provider.port }),
  intervalMs: 20,
  concurrency: 4,
  count: 0,
  retries: 0,
  log: () => {}, // the live summary line replaces per-call lines
  signal: shutdown.signal,
});
const stats = loop.stats;
running.ticker = setInterval(() => {
  const line = stats.summary();
  if (live) Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`));
  else console.log(line);
}, 1000);
await loop.done;
