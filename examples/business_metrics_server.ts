/**
 * A provider with business metrics of its own, next to Dubbo's: `server.ts` plus a
 * prom-client registry with a counter (with a label) and a histogram, recorded around every
 * Greet call. Both are served on the same `/prometheus` (text and OpenMetrics) and pushed in
 * the same Pushgateway group as Dubbo's families (README "Your own metrics").
 *
 *   deno task example:business-metrics --registry=none --push=false
 *
 * @module
 */
import { Counter, Histogram, Registry } from "prom-client";
import { GREET, greetService } from "../lib/greet/mod.ts";
import { callTarget, serveProvider } from "../lib/triple/mod.ts";
import { createRegistry, serviceInterface } from "../lib/registry/mod.ts";
import type { CallObserver } from "../lib/observe.ts";
import { loadConfig } from "../lib/cli.ts";
import { startProgram } from "../lib/program.ts";
import { onShutdown } from "../lib/shutdown.ts";

// The business metrics, in a registry of their own.
const business = new Registry();
const greetings = new Counter({
  name: "greet_greetings_total",
  help: "Greetings answered, by outcome",
  labelNames: ["outcome"],
  registers: [business],
});
const answerTime = new Histogram({
  name: "greet_answer_seconds",
  help: "Time to answer a greeting",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers: [business],
});

const config = loadConfig("server");
const greet = greetService({ failureRate: config.failureRate, delayMs: config.delayMs });
const service = serviceInterface([GREET]);
const { ip, log, metrics, exporters } = await startProgram(config, {
  services: [callTarget(greet)],
  registries: [business], // served and pushed with Dubbo's families; a clashing name exits 2
});

// Dubbo's families are recorded as in server.ts; the business ones around the same calls.
const observer: CallObserver = {
  start(target) {
    const end = metrics.calls.start(target);
    if (target.method !== GREET.method) return end;
    const stopTimer = answerTime.startTimer();
    return (code) => {
      end(code);
      stopTimer();
      greetings.inc({ outcome: code ?? "ok" });
    };
  },
};

const provider = await serveProvider({
  hostname: config.host,
  port: config.port,
  services: [greet],
  observer,
  maxConnections: config.maxConnections,
  log,
});
const registry = createRegistry({
  kind: config.registry,
  address: config.zkAddress,
  service,
  observer: metrics.registryEvents,
  log,
});
onShutdown([
  { name: "remove registry nodes", run: () => registry.close() },
  { name: "drain provider", run: () => provider.close(2000) },
  { name: "delete Pushgateway group", run: () => exporters.stopPushing() },
  { name: "close scrape endpoint", run: () => exporters.closeScrape() },
], { log });

log(`provider ${service.name} on tri://${ip}:${provider.port} (metrics ${exporters.scrapeUrl})`);
await registry.register({
  ip,
  port: provider.port,
  app: config.app,
  registerMode: config.registerMode,
});
