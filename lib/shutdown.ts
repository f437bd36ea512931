/**
 * Graceful shutdown in a fixed order within a fixed budget: each step gets what is left
 * of the budget, a failing or hanging step never blocks the next one, and the process
 * exits 0 when done, within the budget even when a service is down.
 *
 * @module
 */
import { errorText } from "./error_text.ts";

/** One named shutdown step. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/** Controls a registered shutdown sequence. */
export interface Shutdown {
  /** Runs the steps once (later calls return the same promise), then exits with `code`. */
  now(reason: string, code?: number): Promise<void>;
  /** Aborted when shutdown begins: long-running loops listen to it. */
  readonly signal: AbortSignal;
}

/**
 * Runs `steps` in order on SIGINT/SIGTERM (or {@linkcode Shutdown.now}), each bounded by
 * the time left of `budgetMs`, then exits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const done: string[] = [];
 * const shutdown = onShutdown([
 *   { name: "remove registry nodes", run: () => void done.push("registry") },
 *   { name: "drain provider", run: () => void done.push("provider") },
 * ], { log: () => {}, exit: (code) => done.push(`exit ${code}`) });
 * await shutdown.now("example"); // what SIGTERM or SIGINT does
 * assert.deepEqual(done, ["registry", "provider", "exit 0"]);
 * ```
 */
export function onShutdown(
  steps: ShutdownStep[],
  options: { budgetMs?: number; log?: (line: string) => void; exit?: (code: number) => void } = {},
): Shutdown {
  const budgetMs = options.budgetMs ?? 4500;
  const log = options.log ?? ((line: string) => console.error(line));
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const controller = new AbortController();
  let running: Promise<void> | undefined;

  const now = (reason: string, code = 0): Promise<void> => {
    running ??= (async () => {
      log(`shutting down (${reason})`);
      controller.abort();
      const deadline = Date.now() + budgetMs;
      for (const step of steps) {
        const left = deadline - Date.now();
        if (left <= 0) {
          log(`shutdown: no time left for ${step.name}`);
          continue;
        }
        const outcome = await runBounded(step, left);
        if (outcome !== "ok") log(`shutdown: ${step.name} ${outcome}`);
      }
      for (const signal of SIGNALS) Deno.removeSignalListener(signal, handlers[signal]);
      exit(code);
    })();
    return running;
  };

  const SIGNALS = ["SIGINT", "SIGTERM"] as const;
  const handlers = {
    SIGINT: () => void now("SIGINT"),
    SIGTERM: () => void now("SIGTERM"),
  };
  for (const signal of SIGNALS) Deno.addSignalListener(signal, handlers[signal]);
  return { now, signal: controller.signal };
}

async function runBounded(step: ShutdownStep, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`did not finish within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([
      Promise.resolve().then(step.run).then(() => "ok"),
      timeout,
    ]);
  } catch (error) {
    return `failed: ${errorText(error)}`;
  } finally {
    clearTimeout(timer);
  }
}
