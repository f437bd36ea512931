/**
 * The Pushgateway zombie-group cleaner: deletes groups whose `job_pushed_at_seconds`
 * (else `push_time_seconds`) is older than a TTL, once or as a daemon.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config.ts";
 * // cleaner.ts does `Deno.exit(await runCleaner(loadConfig("cleaner")))`.
 * const parsed = parseConfig("cleaner", ["--pushgw=http://127.0.0.1:1", "--dry-run"], {});
 * assert.ok(!parsed.help);
 * const quiet = { log: () => {}, error: () => {} };
 * assert.equal(await runCleaner(parsed.config, quiet), 1); // fetch refuses port 1
 * ```
 *
 * @module
 */
import type { CleanerConfig } from "../config_types.ts";
import { runCycle } from "./cycle.ts";
import { runDaemon } from "./daemon.ts";
import { Pushgateway } from "../pushgateway.ts";
import { errorText } from "../error_text.ts";

export { type CycleOptions, type CycleReport, runCycle } from "./cycle.ts";
export { type DaemonOptions, runDaemon } from "./daemon.ts";
export { Pushgateway, PushgatewayError, type PushgatewayOptions } from "../pushgateway.ts";
export type { Group } from "../_pushgateway_groups.ts";
export { base64Url, describeKey, groupPath, needsBase64 } from "../grouping_key.ts";
export { CleanerMetrics } from "./metrics.ts";

/**
 * Runs the cleaner as configured and returns the exit code: 0 when done, 1 when the
 * gateway could not be read or a delete failed (one-shot), or the metrics port could not
 * be bound (daemon). The daemon returns 0 after SIGTERM/SIGINT. Lines go to `out`
 * (default the console).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "../config.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * listener.close(); // a loopback port nobody listens on: the connection is refused at once
 * const parsed = parseConfig("cleaner", [`--pushgw=http://127.0.0.1:${port}`, "--ttl=1h"], {});
 * assert.ok(!parsed.help);
 * const errors: string[] = [];
 * const code = await runCleaner(parsed.config, { log: () => {}, error: (l) => errors.push(l) });
 * assert.equal(code, 1);
 * assert.ok(errors.some((line) => line.includes(`127.0.0.1:${port}`)), errors.join("\n"));
 * ```
 */
export async function runCleaner(
  config: CleanerConfig,
  out: Pick<Console, "log" | "error"> = console,
): Promise<number> {
  const gateway = new Pushgateway(config.pushgateway);
  const cycle = {
    gateway,
    ttlMs: config.ttlMs,
    jobPrefix: config.jobPrefix,
    dryRun: config.dryRun,
  };
  if (!config.daemon) {
    const report = await runCycle({ ...cycle, log: out.log, warn: out.error });
    return report.errors > 0 ? 1 : 0;
  }
  // A long-running process: every line gets a timestamp, as the server's and client's do.
  const stamp = (line: string) => `${new Date().toISOString()} ${line}`;
  try {
    await runDaemon({
      ...cycle,
      log: (line) => out.log(stamp(line)),
      warn: (line) => out.error(stamp(line)),
      intervalMs: config.intervalMs,
      host: config.host,
      metricsPort: config.metricsPort,
    });
    return 0;
  } catch (error) {
    out.error(
      `pgw-cleaner: cannot serve metrics on ${config.host}:${config.metricsPort}: ${
        errorText(error)
      }`,
    );
    return 1;
  }
}
