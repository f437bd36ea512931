/**
 * The start every long-running program shares: config, advertised IP, a timestamped
 * log, the metrics, and both exporters (pull endpoint, pusher), in that order.
 *
 * @module
 */
import { loadConfig } from "./cli.ts";
import type { ClientConfig, ServerConfig } from "./config_types.ts";
import { type Exporters, startExporters } from "./exporters/mod.ts";
import { advertisedIp, hostname } from "./host.ts";
import { createMetrics, type DubboMetrics, type MetricsOptions } from "./metrics/mod.ts";
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

/** Which program to start and what its metrics cover. */
export type ProgramOptions = Pick<MetricsOptions, "services" | "extraFamilies">;

/**
 * Loads the config of `program` (exiting on a bad one), then creates its metrics and
 * starts its exporters.
 *
 * @example
 * ```ts ignore
 * const { config, metrics, log } = await startProgram("server", { services: [GREET_TARGET] });
 * ```
 */
export function startProgram(
  program: "server",
  options: ProgramOptions,
): Promise<Started<ServerConfig>>;
export function startProgram(
  program: "client",
  options: ProgramOptions,
): Promise<Started<ClientConfig>>;
export async function startProgram(
  program: "server" | "client",
  options: ProgramOptions,
): Promise<Started<ServerConfig | ClientConfig>> {
  const config = program === "server" ? loadConfig("server") : loadConfig("client");
  const ip = advertisedIp(config.advertiseIp, config.host);
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const metrics = createMetrics({
    ...options,
    side: program === "server" ? "provider" : "consumer",
    app: config.app,
    appVersion: VERSION,
    hostname: hostname(),
    ip,
  });
  const exporters = await startExporters(config, ip, metrics, log);
  return { config, ip, log, metrics, exporters };
}
