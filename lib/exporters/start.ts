import type { CommonConfig } from "../config_types.ts";
import type { DubboMetrics } from "../metrics/mod.ts";
import { startPusher } from "./push.ts";
import { serveMetrics } from "./scrape.ts";

/** Both exporters of one program, started from its config. */
export interface Exporters {
  /** The scrape endpoint's URL as printed for users. */
  readonly scrapeUrl: string;
  /** Where pushes go (`"off"` with `--push=false`), without credentials. */
  readonly pushTarget: string;
  /** Stops pushing and deletes our Pushgateway group (no-op in pull mode). */
  stopPushing(): Promise<void>;
  /** Closes the scrape endpoint. */
  closeScrape(): Promise<void>;
}

/**
 * Serves `metrics` for pull and, unless `config.push` is false, pushes them every
 * `config.pushIntervalMs` under `instance` `<ip>:<metrics-port>` (or `--instance`), so
 * push and pull label the program the same way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config.ts";
 * import { createMetrics } from "../metrics/mod.ts";
 * const parsed = parseConfig("server", ["--push=false", "--host=127.0.0.1"], {});
 * assert.ok(!parsed.help);
 * const metrics = createMetrics({
 *   side: "provider", app: "a", appVersion: "1", hostname: "h", ip: "127.0.0.1", services: [],
 * });
 * const config = { ...parsed.config, metricsPort: 0 }; // any free port
 * const exporters = await startExporters(config, "127.0.0.1", metrics, () => {});
 * assert.equal(exporters.pushTarget, "off");
 * // shutdown:
 * await exporters.stopPushing();
 * await exporters.closeScrape();
 * ```
 */
export async function startExporters(
  config: CommonConfig,
  ip: string,
  metrics: DubboMetrics,
  log: (line: string) => void,
): Promise<Exporters> {
  const scrape = await serveMetrics({
    hostname: config.host,
    port: config.metricsPort,
    path: config.metricsPath,
    metrics,
  });
  const pusher = config.push
    ? startPusher({
      pushgateway: config.pushgateway,
      instance: config.instance ?? `${ip}:${scrape.port}`,
      intervalMs: config.pushIntervalMs,
      metrics,
      log,
    })
    : undefined;
  return {
    scrapeUrl: `http://${config.host}:${scrape.port}${config.metricsPath}`,
    pushTarget: pusher ? `${config.pushgateway.url} job=${config.pushgateway.job}` : "off",
    stopPushing: async () => await pusher?.stop(),
    closeScrape: () => scrape.close(),
  };
}
