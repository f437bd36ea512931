/**
 * The Dubbo provider: serves the Greet service over Triple, registers in ZooKeeper,
 * and exports its metrics by pull (always) and push (unless `--push=false`).
 *
 *   config → startProgram (metrics → exporters: pull endpoint, pusher)
 *          → Triple provider (lib/triple on lib/net, lib/http1, lib/h2) serving Greet (lib/greet)
 *          → registry
 *
 * `examples/business_metrics_server.ts` runs the same provider with its own prom-client
 * registry and a wrapped call observer (`runProvider`'s options).
 *
 * @module
 */
import { GREET, greetService } from "./lib/greet/mod.ts";
import { callTarget, serveProvider } from "./lib/triple/mod.ts";
import {
  appMetadata,
  createRegistry,
  type MetadataInfo,
  metadataServiceV2,
  serviceInterface,
} from "./lib/registry/mod.ts";
import { loadConfig } from "./lib/cli.ts";
import { startProgram } from "./lib/program.ts";
import { onShutdown } from "./lib/shutdown.ts";
import { errorText } from "./lib/error_text.ts";
import type { CallObserver } from "./lib/observe.ts";
import type { ProgramOptions } from "./lib/program.ts";

/** What a program built on this provider adds to it (the business-metrics example does). */
export interface ProviderExtras {
  /** prom-client registries served and pushed with Dubbo's families; a clashing name exits 2. */
  registries?: ProgramOptions["registries"];
  /** Wraps Dubbo's call observer, to record metrics of one's own around the same calls. */
  observe?: (dubbo: CallObserver) => CallObserver;
}

/**
 * Starts the provider (config, metrics and exporters, Triple provider, registry, in that
 * order) and returns once it is registered; SIGINT/SIGTERM's shutdown undoes them in reverse.
 */
export async function runProvider(extras: ProviderExtras = {}): Promise<void> {
  const config = loadConfig("server");
  const greet = greetService({ failureRate: config.failureRate, delayMs: config.delayMs });
  const service = serviceInterface([GREET]);
  const { ip, log, metrics, exporters } = await startProgram(config, {
    services: [callTarget(greet)],
    registries: extras.registries,
  });

  // What the instance advertises, served as MetadataServiceV2 on the Triple port.
  const exported: { metadata?: MetadataInfo } = {};
  const provider = await serveProvider({
    hostname: config.host,
    port: config.port,
    services: [greet],
    internal: [metadataServiceV2(() => exported.metadata)],
    observer: extras.observe?.(metrics.calls) ?? metrics.calls,
    maxConnections: config.maxConnections,
    log,
  });
  const metadata = exported.metadata = appMetadata({
    service,
    app: config.app,
    port: provider.port,
  });
  const registry = createRegistry({
    kind: config.registry,
    address: config.zkAddress,
    service,
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
    `provider ${service.name} on tri://${ip}:${provider.port} ` +
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
}

if (import.meta.main) await runProvider();
