/**
 * Resolves after `ms`, or at once when `signal` aborts (or `ms` is not positive), so
 * loops that wait between rounds stop promptly on shutdown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stop = new AbortController();
 * const waiting = sleep(60_000, stop.signal);
 * stop.abort(); // resolves at once and clears the timer
 * assert.equal(await waiting, undefined);
 * await sleep(1); // a short wait without a signal
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
