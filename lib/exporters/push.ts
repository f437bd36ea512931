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
import { groupPath } from "../grouping_key.ts";

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
 * const pusher = startPusher({
 *   pushgateway: { url: "http://127.0.0.1:9091", job: "dubbo_server" },
 *   instance: "10.0.0.5:9099", intervalMs: 10_000, metrics,
 * });
 * // on shutdown:
 * await pusher.stop();
 * ```
 */
export function startPusher(options: PusherOptions): Pusher {
  const { pushgateway, metrics, intervalMs } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const timeoutMs = options.timeoutMs ?? Math.max(50, Math.min(intervalMs / 2, 5000));
  const url = `${pushgateway.url}${
    groupPath({ job: pushgateway.job, instance: options.instance })
  }`;
  const headers: Record<string, string> = {};
  if (pushgateway.user !== undefined && pushgateway.user !== "") {
    headers.authorization = `Basic ${basicCredentials(pushgateway.user, pushgateway.pass ?? "")}`;
  }
  const scrub = (text: string) =>
    pushgateway.pass ? text.replaceAll(pushgateway.pass, "***") : text;

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<boolean> | undefined;
  let inFlightAbort: AbortController | undefined;
  let failing = false;
  let failedAttempts = 0;

  const pushOnce = async (): Promise<boolean> => {
    const abort = new AbortController();
    inFlightAbort = abort;
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      metrics.markPushed(Date.now() / 1000);
      const { body } = await metrics.render(false);
      const response = await fetch(url, {
        method: "PUT",
        headers: { ...headers, "content-type": TEXT_CONTENT_TYPE },
        body,
        signal,
      });
      const text = response.ok ? "" : (await response.text()).trim().slice(0, 300);
      if (!response.ok) failed(`HTTP ${response.status}${text ? `: ${text}` : ""}`);
      else {
        await response.body?.cancel();
        succeeded();
      }
      return response.ok;
    } catch (error) {
      if (abort.signal.aborted) return false; // stopping: not an outage
      failed(describe(error, timeoutMs));
      return false;
    } finally {
      if (inFlightAbort === abort) inFlightAbort = undefined;
    }
  };

  const failed = (reason: string) => {
    metrics.pushFailed();
    failedAttempts++;
    if (!failing) {
      failing = true;
      log(
        scrub(`metrics push to ${url} failed: ${reason}; retrying every ${seconds(intervalMs)}`),
      );
    }
  };

  const succeeded = () => {
    if (failing) {
      log(`metrics push to ${url} recovered after ${failedAttempts} unsuccessful attempt(s)`);
      failing = false;
    }
    failedAttempts = 0;
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
      const deleteTimeout = options.deleteTimeoutMs ?? 2000;
      try {
        const response = await fetch(url, {
          method: "DELETE",
          headers,
          signal: AbortSignal.timeout(deleteTimeout),
        });
        await response.body?.cancel();
        if (response.ok) log(`deleted metrics group ${url}`);
        else log(`deleting metrics group ${url} failed: HTTP ${response.status}`);
      } catch (error) {
        log(scrub(`deleting metrics group ${url} failed: ${describe(error, deleteTimeout)}`));
      }
    })();

  timer = setTimeout(tick, 0);
  return {
    url,
    pushNow: () => stopped ? Promise.resolve(false) : run(),
    stop,
  };
}

function basicCredentials(user: string, pass: string): string {
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${timeoutMs} ms`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error
    ? ` (${error.cause.message.replace(/^error sending request for url \([^)]*\): /, "")})`
    : "";
  return `${message}${cause}`.split("\n")[0];
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
