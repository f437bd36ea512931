/**
 * The push side: `PUT` the whole exposition to the Pushgateway group
 * `/metrics/job/<job>/instance/<instance>` at start and then every interval, and `DELETE`
 * the group on graceful exit. A failed push is counted and logged once per outage; it
 * never throws, never blocks the caller, and never logs the password.
 *
 * @module
 */
import type { PushConfig } from "../config_types.ts";
import type { DubboMetrics } from "../metrics/mod.ts";
import { TEXT_CONTENT_TYPE } from "../metrics/mod.ts";
import { formatMs } from "../_duration.ts";
import { errorText } from "../error_text.ts";
import { Pushgateway, PushgatewayError } from "../pushgateway.ts";

/** A running pusher. */
export interface Pusher {
  /** The group URL pushed to (no credentials), for logs. */
  readonly url: string;
  /** Pushes now (outside the schedule); resolves `true` on success. Never rejects. */
  pushNow(): Promise<boolean>;
  /** Stops the timer, aborts and awaits a push in flight, then `DELETE`s the group (bounded). */
  stop(): Promise<void>;
}

/** What to push where. */
export interface PusherOptions {
  pushgateway: PushConfig;
  /** The `instance` grouping label, usually `<ip>:<metrics-port>`. */
  instance: string;
  /** Push period in milliseconds. */
  intervalMs: number;
  metrics: DubboMetrics;
  /** Where log lines go (default `console.error`). */
  log?: (line: string) => void;
  /** Per-request timeout; default min(interval / 2, 5 s). */
  timeoutMs?: number;
  /** Bound for the `DELETE` on stop; default 2 s. */
  deleteTimeoutMs?: number;
  /** `DELETE` the group on stop (default true). */
  deleteOnStop?: boolean;
}

/**
 * Starts pushing `metrics` (first push immediately, then every `intervalMs`; pushes never
 * overlap). Pushing is the only network activity; with push disabled, don't call this.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "../metrics/mod.ts";
 * const metrics = createMetrics({
 *   side: "provider", app: "a", appVersion: "1", hostname: "h", ip: "127.0.0.1", services: [],
 * });
 * const lines: string[] = [];
 * const pusher = startPusher({
 *   pushgateway: { url: "http://127.0.0.1:1", job: "dubbo_server" }, // fetch refuses port 1: no traffic
 *   instance: "10.0.0.5:9099", intervalMs: 10_000, metrics, log: (line) => lines.push(line),
 * });
 * assert.equal(await pusher.pushNow(), false); // counted and logged once, never thrown
 * await pusher.stop(); // on shutdown: stop and DELETE the group (bounded)
 * assert.match(lines[0], /^metrics push to http:\/\/127\.0\.0\.1:1\/metrics\/job\/dubbo_server\/instance\/10\.0\.0\.5%3A9099 failed: /);
 * ```
 */
export function startPusher(options: PusherOptions): Pusher {
  const { pushgateway, metrics, intervalMs } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const timeoutMs = options.timeoutMs ?? Math.max(50, Math.min(intervalMs / 2, 5000));
  const gateway = new Pushgateway({ ...pushgateway, timeoutMs });
  const key = { job: pushgateway.job, instance: options.instance };
  const url = gateway.groupUrl(key);
  const scrub = (text: string) =>
    pushgateway.pass ? text.replaceAll(pushgateway.pass, "***") : text;

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<boolean> | undefined;
  let inFlightAbort: AbortController | undefined;
  const outage = new OutageLog(`metrics push to ${url}`, intervalMs, (line) => log(scrub(line)));

  const pushOnce = async (): Promise<boolean> => {
    const abort = new AbortController();
    inFlightAbort = abort;
    try {
      metrics.markPushed(Date.now() / 1000);
      const { body } = await metrics.render(false);
      await gateway.push(key, body, TEXT_CONTENT_TYPE, { signal: abort.signal });
      outage.succeeded();
      return true;
    } catch (error) {
      if (abort.signal.aborted) return false; // stopping: not an outage
      metrics.pushFailed();
      outage.failed(reasonOf(error));
      return false;
    } finally {
      if (inFlightAbort === abort) inFlightAbort = undefined;
    }
  };

  const run = (): Promise<boolean> => {
    if (inFlight) return inFlight;
    inFlight = pushOnce().finally(() => inFlight = undefined);
    return inFlight;
  };

  const tick = async () => {
    timer = undefined;
    if (stopped) return;
    const startedAt = Date.now();
    await run();
    if (stopped) return;
    const wait = Math.max(0, intervalMs - (Date.now() - startedAt));
    timer = setTimeout(tick, wait);
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      inFlightAbort?.abort();
      await inFlight;
      if (options.deleteOnStop === false) return;
      try {
        await gateway.deleteGroup(key, { timeoutMs: options.deleteTimeoutMs ?? 2000 });
        log(`deleted metrics group ${url}`);
      } catch (error) {
        log(scrub(`deleting metrics group ${url} failed: ${reasonOf(error)}`));
      }
    })();

  timer = setTimeout(tick, 0);
  return {
    url,
    pushNow: () => stopped ? Promise.resolve(false) : run(),
    stop,
  };
}

function reasonOf(error: unknown): string {
  return error instanceof PushgatewayError ? error.reason : errorText(error);
}

/**
 * Logs an outage once, when it starts, and once more when it ends, however many
 * attempts fail in between.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const outage = new OutageLog("push", 10_000, (line) => lines.push(line));
 * outage.failed("HTTP 503");
 * outage.failed("HTTP 503");
 * outage.succeeded();
 * assert.deepEqual(lines, [
 *   "push failed: HTTP 503; retrying every 10s",
 *   "push recovered after 2 unsuccessful attempt(s)",
 * ]);
 * ```
 */
export class OutageLog {
  #failedAttempts = 0;

  constructor(
    readonly what: string,
    readonly retryMs: number,
    readonly log: (line: string) => void,
  ) {}

  /** One attempt failed for `reason`. */
  failed(reason: string): void {
    if (this.#failedAttempts++ === 0) {
      this.log(`${this.what} failed: ${reason}; retrying every ${formatMs(this.retryMs)}`);
    }
  }

  /** One attempt succeeded. */
  succeeded(): void {
    if (this.#failedAttempts > 0) {
      this.log(`${this.what} recovered after ${this.#failedAttempts} unsuccessful attempt(s)`);
    }
    this.#failedAttempts = 0;
  }
}
