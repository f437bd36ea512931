/**
 * The Dubbo consumer: finds providers of the Greet service (ZooKeeper or `--url`),
 * calls Greet in a loop over Triple, and exports its metrics by pull and push.
 *
 *   config → startProgram (metrics → exporters: pull endpoint, pusher) → registry directory
 *          → Triple client (lib/triple on lib/h2) → call loop (lib/greet)
 *
 * @module
 */
import { GREET, runCallLoop } from "./lib/greet/mod.ts";
import { callTarget, createClient } from "./lib/triple/mod.ts";
import { createRegistry, serviceInterface } from "./lib/registry/mod.ts";
import { loadConfig } from "./lib/cli.ts";
import { startProgram } from "./lib/program.ts";
import { onShutdown } from "./lib/shutdown.ts";
import { errorText } from "./lib/error_text.ts";

const config = loadConfig("client");
const service = serviceInterface([GREET]);
const { ip, log, metrics, exporters } = await startProgram(config, {
  services: [callTarget(GREET)],
});

// A direct --url skips the registry, as Dubbo's direct connection does.
const registry = createRegistry({
  kind: config.url ? "none" : config.registry,
  address: config.zkAddress,
  service,
  observer: metrics.registryEvents,
  staticProviders: config.url ? [config.url] : undefined,
  log,
});
const client = createClient({
  timeoutMs: config.timeoutMs,
  serialization: config.serialization,
  protocol: config.protocol,
  http: config.http,
  observer: metrics.calls,
  onTransportMismatch: log, // once per provider that does not speak --protocol/--http
});

const running: { loop?: ReturnType<typeof runCallLoop> } = {};
const shutdown = onShutdown([
  { name: "remove registry nodes", run: () => registry.close() },
  { name: "drain calls", run: () => running.loop?.done },
  { name: "close connections", run: () => client.close() },
  { name: "delete Pushgateway group", run: () => exporters.stopPushing() },
  { name: "close scrape endpoint", run: () => exporters.closeScrape() },
], { log });

log(
  `consumer of ${service.name} via ${
    config.url ? `tri://${config.url.host}:${config.url.port}` : config.registry
  } over ${config.protocol}/HTTP ${config.http} ` +
    `(metrics ${exporters.scrapeUrl}, push ${exporters.pushTarget})`,
);
let directory;
try {
  directory = await registry.subscribe({ ip, app: config.app, discovery: config.discovery });
} catch (error) {
  log(`cannot subscribe in ZooKeeper ${config.zkAddress}: ${errorText(error)}`);
  await shutdown.now("subscription failed", 1);
  throw error;
}
const loop = running.loop = runCallLoop({
  client,
  pick: (tried) => directory.pick(tried),
  intervalMs: config.intervalMs,
  concurrency: config.concurrency,
  count: config.count,
  retries: config.retries,
  log,
  signal: shutdown.signal,
});
await loop.done;
if (config.count > 0) await shutdown.now(`${config.count} calls done`);
