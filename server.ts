/**
 * The Dubbo provider: serves greet.GreetService over Triple, registers in ZooKeeper,
 * and exports its metrics by pull (always) and push (unless `--push=false`).
 *
 *   config → metrics → exporters (pull endpoint, pusher) → Triple provider → registry
 *
 * @module
 */
import { loadConfig } from "./lib/config.ts";
import { advertisedIp, hostname } from "./lib/host.ts";
import { createMetrics } from "./lib/metrics/mod.ts";
import { startExporters } from "./lib/exporters/mod.ts";
import { GREET_SERVICE, GREET_TARGET, serveProvider } from "./lib/rpc/mod.ts";
import {
  appMetadata,
  createRegistry,
  type MetadataInfo,
  metadataServiceV2,
} from "./lib/registry/mod.ts";
import { onShutdown } from "./lib/shutdown.ts";
import { VERSION } from "./lib/version.ts";

const config = loadConfig("server");
const ip = advertisedIp(config.advertiseIp, config.host);
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

const metrics = createMetrics({
  side: "provider",
  app: config.app,
  appVersion: VERSION,
  hostname: hostname(),
  ip,
  services: [GREET_TARGET],
});
const exporters = await startExporters(config, ip, metrics, log);

// What the instance advertises, served as MetadataServiceV2 on the Triple port.
const exported: { metadata?: MetadataInfo } = {};
const provider = await serveProvider({
  hostname: config.host,
  port: config.port,
  failureRate: config.failureRate,
  delayMs: config.delayMs,
  observer: metrics.calls,
  maxConnections: config.maxConnections,
  log,
  methods: [metadataServiceV2(() => exported.metadata)],
});
const metadata = exported.metadata = appMetadata({ app: config.app, port: provider.port });
const registry = createRegistry({
  kind: config.registry,
  address: config.zkAddress,
  observer: metrics.registryEvents,
  log,
});

const shutdown = onShutdown([
  { name: "remove registry nodes", run: () => registry.close() },
  { name: "drain provider", run: () => provider.close(2000) },
  { name: "delete Pushgateway group", run: () => exporters.stopPushing() },
  { name: "close scrape endpoint", run: () => exporters.closeScrape() },
], { log });

log(
  `provider ${GREET_SERVICE} on tri://${ip}:${provider.port} ` +
    `(metrics ${exporters.scrapeUrl}, push ${exporters.pushTarget})`,
);
try {
  await registry.register({
    ip,
    port: provider.port,
    app: config.app,
    registerMode: config.registerMode,
    metadata,
  });
  if (config.registry === "zookeeper") log(`registered in ZooKeeper ${config.zkAddress}`);
} catch (error) {
  log(`cannot register in ZooKeeper ${config.zkAddress}: ${(error as Error).message}`);
  await shutdown.now("registration failed", 1);
}
