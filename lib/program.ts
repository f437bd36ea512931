/**
 * The start every long-running program shares once its config is loaded: advertised
 * IP, a timestamped log, the metrics, and both exporters (pull endpoint, pusher).
 *
 * @module
 */
import type { ClientConfig, ServerConfig } from "./config_types.ts";
import { type Exporters, startExporters } from "./exporters/mod.ts";
import { advertisedIp, hostname } from "./host.ts";
import {
  createMetrics,
  type DubboMetrics,
  MetricNameCollision,
  type MetricsOptions,
} from "./metrics/mod.ts";
import { VERSION } from "./version.ts";

/** What a started program has before its RPC and registry parts exist. */
export interface Started<C> {
  config: C;
  /** The IP written into the registry and metric labels. */
  ip: string;
  /** Writes one line to stdout with an ISO timestamp. */
  log: (line: string) => void;
  metrics: DubboMetrics;
  exporters: Exporters;
}

/** What the metrics cover: our services, and the users' own prom-client registries. */
export type ProgramOptions = Pick<MetricsOptions, "services" | "extraFamilies" | "registries">;

/**
 * Creates the metrics of a loaded config (provider for the server, consumer for the
 * client) and starts its exporters: pull endpoint, and pusher unless `--push=false`.
 * The metrics of `options.registries` (prom-client `Registry` objects) are served and
 * pushed with ours; a name that clashes with ours or another registry's ends the program
 * at once with one line on stderr and exit code 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 * // server.ts: `startProgram(loadConfig("server"), { services: [callTarget(greet)] })`
 * const args = ["--push=false", "--host=127.0.0.1", "--advertise-ip=127.0.0.1"];
 * const parsed = parseConfig("server", args, {});
 * assert.ok(!parsed.help);
 * const { metrics, exporters } = await startProgram(
 *   { ...parsed.config, metricsPort: 0 }, // any free port
 *   { services: [] },
 * );
 * assert.match((await metrics.render()).body, /^dubbo_application_info_total\{/m);
 * await exporters.closeScrape();
 * ```
 */
export async function startProgram<C extends ServerConfig | ClientConfig>(
  config: C,
  options: ProgramOptions,
): Promise<Started<C>> {
  const ip = advertisedIp(config.advertiseIp, config.host);
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const metrics = createMetrics({
    ...options,
    side: config.program === "server" ? "provider" : "consumer",
    app: config.app,
    appVersion: VERSION,
    hostname: hostname(),
    ip,
  });
  try {
    await metrics.checkRegistries();
  } catch (error) {
    if (!(error instanceof MetricNameCollision)) throw error;
    console.error(`${config.program}: ${error.message}`);
    Deno.exit(2);
  }
  const exporters = await startExporters(config, ip, metrics, log);
  return { config, ip, log, metrics, exporters };
}
