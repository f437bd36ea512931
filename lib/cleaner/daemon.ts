/**
 * Daemon mode: a cycle at start, then one every interval, with the cleaner's metrics
 * served on `/metrics`; gateway outages are logged and counted, never fatal; SIGTERM or
 * SIGINT (or an abort) stops it cleanly.
 *
 * @module
 */
import { sleep } from "../_sleep.ts";
import { type CycleOptions, runCycle } from "./cycle.ts";
import { formatMs } from "../_duration.ts";
import { CleanerMetrics } from "./metrics.ts";

/** What the daemon runs and where it serves its metrics. */
export interface DaemonOptions extends Omit<CycleOptions, "signal"> {
  /** Pause between cycle starts, milliseconds. */
  intervalMs: number;
  /** Address the metrics listener binds to. */
  host: string;
  /** Port of the metrics listener (0 = any free port). */
  metricsPort: number;
  /** Stops the daemon; without it, SIGTERM/SIGINT do. */
  signal?: AbortSignal;
  /** Called once the metrics listener is up, with its port. */
  onListen?: (port: number) => void;
}

/**
 * Runs until stopped; resolves after the listener has closed. Rejects only when the
 * metrics port cannot be bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pushgateway } from "../pushgateway.ts";
 * const stop = new AbortController();
 * await runDaemon({
 *   gateway: new Pushgateway({ url: "http://127.0.0.1:1" }),
 *   ttlMs: 3_600_000, jobPrefix: "dubbo_", intervalMs: 60_000,
 *   host: "127.0.0.1", metricsPort: 0, log: () => {}, warn: () => {},
 *   signal: stop.signal,
 *   onListen: () => stop.abort(), // a real daemon runs until SIGTERM/SIGINT
 * });
 * assert.equal(stop.signal.aborted, true); // it listened, then stopped when asked
 * ```
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const log = options.log ?? console.log;
  const metrics = new CleanerMetrics();
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("stopped by signal"));
  const signals: Deno.Signal[] = options.signal ? [] : ["SIGTERM", "SIGINT"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  options.signal?.addEventListener("abort", () => stop.abort(options.signal?.reason), {
    once: true,
  });

  const server = Deno.serve({
    hostname: options.host,
    port: options.metricsPort,
    onListen: ({ port }) => {
      log(
        `pgw-cleaner daemon: cleaning ${options.gateway.url} every ${
          formatMs(options.intervalMs)
        }; metrics on http://${options.host}:${port}/metrics`,
      );
      options.onListen?.(port);
    },
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path !== "/metrics") return new Response("not found; try /metrics\n", { status: 404 });
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET" } });
    }
    const { body, contentType } = await metrics.render();
    return new Response(body, { headers: { "content-type": contentType } });
  });

  try {
    while (!stop.signal.aborted) {
      const started = Date.now();
      try {
        const report = await runCycle({ ...options, signal: stop.signal });
        metrics.record(report, Date.now());
      } catch (error) {
        if (!stop.signal.aborted) throw error;
        break;
      }
      await sleep(Math.max(0, started + options.intervalMs - Date.now()), stop.signal);
    }
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    await server.shutdown();
    log("pgw-cleaner daemon: stopped");
  }
}
