/**
 * The consumer's call loop: `concurrency` workers each calling Greet and pausing
 * `intervalMs`, until `count` calls are made or the signal aborts; failover to another
 * endpoint on `unavailable`; the sample's log lines plus a periodic one-line summary.
 *
 * @module
 */
import { sleep } from "../_sleep.ts";
import { RpcError, type TripleClient } from "../triple/mod.ts";
import { type Endpoint, endpointKey } from "../endpoint.ts";
import { errorText } from "../error_text.ts";
import { GREET } from "./_service.ts";

/**
 * Settings of {@linkcode runCallLoop}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createClient } from "../triple/mod.ts";
 * const client = createClient({ timeoutMs: 1000, serialization: "protobuf" });
 * const lines: string[] = [];
 * const options: CallLoopOptions = {
 *   client, pick: () => undefined, intervalMs: 1, concurrency: 1, count: 1, retries: 0,
 *   log: (line) => lines.push(line),
 * };
 * await runCallLoop(options).done;
 * assert.equal(lines[0], `Greet failed: unavailable: ${NO_PROVIDER_MESSAGE}`);
 * client.close();
 * ```
 */
export interface CallLoopOptions {
  /** The client Greet is called with. */
  client: TripleClient;
  /**
   * Chooses the endpoint for the next attempt, skipping the keys (`${host}:${port}`)
   * already tried by this call; `undefined` means no provider is available.
   */
  pick: (tried: ReadonlySet<string>) => Endpoint | undefined;
  /** Pause between two calls of one worker, milliseconds. */
  intervalMs: number;
  /** Parallel workers (at least 1). */
  concurrency: number;
  /** Stop after this many calls in total; 0 = run until the signal aborts. */
  count: number;
  /** Extra attempts on another endpoint after an `unavailable` failure. */
  retries: number;
  /** The `name` sent in each request (default `hello world`, like the sample). */
  name?: string;
  /** Where log lines go (default `console.log`). */
  log?: (line: string) => void;
  /** Stops the loop; in-flight calls finish first. */
  signal?: AbortSignal;
  /** Period of the summary line, milliseconds (default 10000; 0 = off). */
  summaryIntervalMs?: number;
}

/**
 * Running totals of a call loop (a call counts once, whatever its retries).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createClient } from "../triple/mod.ts";
 * const client = createClient({ timeoutMs: 1000, serialization: "protobuf" });
 * const { stats, done } = runCallLoop({
 *   client, pick: () => undefined, intervalMs: 1, concurrency: 1, count: 2, retries: 0,
 *   log: () => {},
 * });
 * await done;
 * assert.equal(stats.calls, 2);
 * assert.equal(stats.failed, 2);
 * assert.match(stats.summary(), /^calls=2 .*success=0\.00%/);
 * client.close();
 * ```
 */
export interface CallStats {
  calls: number;
  succeeded: number;
  failed: number;
  /** Completed calls per second since the loop started. */
  qps(): number;
  /** 99th percentile latency of recent calls, milliseconds (0 before the first call). */
  p99Ms(): number;
  /** One line: calls, QPS, success rate, p99. */
  summary(): string;
}

/** Default period of the summary line. */
export const DEFAULT_SUMMARY_INTERVAL_MS = 10_000;
/** Latencies kept for the p99 (the most recent calls). */
const LATENCY_WINDOW = 10_000;

/** The log line when `pick` has nothing to offer. */
export const NO_PROVIDER_MESSAGE = `no provider available for ${GREET.service}`;

class LoopStats implements CallStats {
  calls = 0;
  succeeded = 0;
  failed = 0;
  #started = performance.now();
  #latencies = new Float64Array(LATENCY_WINDOW);
  #recorded = 0;

  record(ok: boolean, ms: number) {
    this.calls++;
    if (ok) this.succeeded++;
    else this.failed++;
    this.#latencies[this.#recorded++ % LATENCY_WINDOW] = ms;
  }

  qps(): number {
    const seconds = (performance.now() - this.#started) / 1000;
    return seconds > 0 ? this.calls / seconds : 0;
  }

  p99Ms(): number {
    const n = Math.min(this.#recorded, LATENCY_WINDOW);
    if (n === 0) return 0;
    const sorted = this.#latencies.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.ceil(n * 0.99) - 1)];
  }

  summary(): string {
    const rate = this.calls === 0 ? 0 : (this.succeeded / this.calls) * 100;
    return `calls=${this.calls} qps=${this.qps().toFixed(2)} success=${rate.toFixed(2)}% ` +
      `p99=${this.p99Ms().toFixed(1)}ms`;
  }
}

/**
 * Starts the call loop. `done` resolves after `count` calls or, once `signal` aborts,
 * after the in-flight calls finish.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { endpointKey } from "../endpoint.ts";
 * import { createClient, serveProvider } from "../triple/mod.ts";
 * import { greetService } from "./_service.ts";
 * const provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 0, services: [greetService({ failureRate: 0, delayMs: 0 })],
 * });
 * const client = createClient({ timeoutMs: 3000, serialization: "protobuf" });
 * const endpoint = { host: "127.0.0.1", port: provider.port };
 * const lines: string[] = [];
 * const { stats, done } = runCallLoop({
 *   client, intervalMs: 1, concurrency: 1, count: 2, retries: 2,
 *   pick: (tried) => tried.has(endpointKey(endpoint)) ? undefined : endpoint,
 *   log: (line) => lines.push(line),
 * });
 * await done;
 * assert.equal(stats.succeeded, 2);
 * assert.equal(lines[0], "Greet response: hello world");
 * client.close();
 * await provider.close();
 * ```
 */
export function runCallLoop(options: CallLoopOptions): { stats: CallStats; done: Promise<void> } {
  const stats = new LoopStats();
  const log = options.log ?? ((line: string) => console.log(line));
  const name = options.name ?? "hello world";
  const { signal } = options;
  let started = 0;

  const claim = (): boolean => {
    if (signal?.aborted) return false;
    if (options.count > 0 && started >= options.count) return false;
    started++;
    return true;
  };

  const callOnce = async (): Promise<void> => {
    const tried = new Set<string>();
    const begin = performance.now();
    let lastError: RpcError | undefined;
    for (let attempt = 0; attempt <= Math.max(0, options.retries); attempt++) {
      const endpoint = options.pick(tried);
      if (!endpoint) break;
      tried.add(endpointKey(endpoint));
      try {
        const greeting = await options.client.call(GREET, endpoint, name);
        stats.record(true, performance.now() - begin);
        log(`Greet response: ${greeting}`);
        return;
      } catch (error) {
        lastError = error instanceof RpcError ? error : new RpcError("unknown", errorText(error));
        if (lastError.code !== "unavailable") break;
      }
    }
    stats.record(false, performance.now() - begin);
    log(
      lastError
        ? `Greet failed: ${lastError.code}: ${lastError.message}`
        : `Greet failed: unavailable: ${NO_PROVIDER_MESSAGE}`,
    );
  };

  const worker = async () => {
    while (claim()) {
      try {
        await callOnce();
      } catch (error) {
        // pick or log threw: report and keep the loop alive
        stats.record(false, 0);
        log(`Greet failed: internal: ${errorText(error)}`);
      }
      if (options.count > 0 && started >= options.count) break;
      await sleep(options.intervalMs, signal);
    }
  };

  const summaryEvery = options.summaryIntervalMs ?? DEFAULT_SUMMARY_INTERVAL_MS;
  const ticker = summaryEvery > 0
    ? setInterval(() => log(`Summary: ${stats.summary()}`), summaryEvery)
    : undefined;
  const workers = Array.from({ length: Math.max(1, options.concurrency) }, worker);
  const done = Promise.all(workers).then(() => {
    clearInterval(ticker);
    if (ticker !== undefined) log(`Summary: ${stats.summary()}`);
  });
  return { stats, done };
}
