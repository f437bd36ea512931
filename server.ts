/**
 * The Dubbo provider: serves greet.GreetService over Triple, registers in ZooKeeper,
 * and exports its metrics by pull (always) and push (unless `--push=false`).
 *
 *   config → startProgram (metrics → exporters: pull endpoint, pusher) → Triple provider → registry
 *
 * @module
 */
import { GREET_SERVICE, GREET_TARGET, serveProvider } from "./lib/rpc/mod.ts";
import {
  appMetadata,
  createRegistry,
  type MetadataInfo,
  metadataServiceV2,
} from "./lib/registry/mod.ts";
import { loadConfig } from "./lib/cli.ts";
import { startProgram } from "./lib/program.ts";
import { onShutdown } from "./lib/shutdown.ts";
import { errorText } from "./lib/error_text.ts";

const config = loadConfig("server");
const { ip, log, metrics, exporters } = await startProgram(config, { services: [GREET_TARGET] });

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
  // First: health turns NOT_SERVING, so Watch clients move traffic before the port closes.
  { name: "report NOT_SERVING", run: () => provider.setServing(false) },
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
  log(`cannot register in ZooKeeper ${config.zkAddress}: ${errorText(error)}`);
  await shutdown.now("registration failed", 1);
}
