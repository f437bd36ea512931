/**
 * One child process with its output captured: the shape our programs, the dubbo-go peer
 * and the Java peer all share (wait for a log line, signal by PID, stop with a grace
 * period, dispose).
 *
 * @module
 */
import { waitFor } from "./services.ts";
import { exitError, WaitAborted } from "../../tools/services.ts";
import { unwatch, watch } from "./watchdog.ts";

/** A running child process started by {@linkcode spawnProcess}. */
export interface ChildProcess extends AsyncDisposable {
  readonly pid: number;
  /** All stdout and stderr so far (the tail only, when an output limit is set). */
  output(): string;
  /** Waits until the output matches `pattern`; returns the match. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` by PID (ignored once exited). */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit code once it exited and its output is drained. */
  readonly exited: Promise<number>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** How {@linkcode spawnProcess} starts and describes a process. */
export interface SpawnOptions {
  /** Name in error messages. */
  name: string;
  cwd?: string;
  /** Added to the inherited environment, after `NO_COLOR=1`. */
  env?: Record<string, string>;
  /** Default grace of `stop()` before SIGKILL. */
  graceMs?: number;
  /** Default timeout of `waitForLine()`. */
  waitTimeoutMs?: number;
  /** Keep at most this many characters of output (the tail). */
  outputLimit?: number;
  /** What of the output an error message shows; default its last 3,000 characters. */
  excerpt?: (output: string) => string;
  /**
   * A server: it runs until the test stops it, so any exit the test did not ask for (a
   * signal through `kill`/`stop`) fails the test's next wait at once
   * (tests/support/watchdog.ts). One-shot programs (a consumer making N calls) leave it off.
   */
  persistent?: boolean;
}

/** Starts `command args` with its output captured; stop it by PID through the result. */
export function spawnProcess(
  command: string,
  args: string[],
  options: SpawnOptions,
): ChildProcess {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const limit = options.outputLimit ?? Infinity;
  const excerpt = options.excerpt ?? ((output: string) => output.slice(-3000));
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > limit * 2) text = text.slice(-limit);
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let done = false;
  /** The test sent a signal that may end it. */
  let asked = false;
  let ownExit: Error | undefined;
  const watched = { exitedOnItsOwn: () => ownExit };
  if (options.persistent) watch(watched);
  const exited = Promise.all([child.status, drained]).then(([status]) => {
    done = true;
    if (options.persistent && !asked) {
      ownExit = exitError(options.name, child.pid, status, excerpt(text));
    } else unwatch(watched);
    return status.code;
  });
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (done) return;
    if (signal !== "SIGSTOP" && signal !== "SIGCONT") asked = true;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  const stop = async (graceMs = options.graceMs ?? 5000) => {
    unwatch(watched);
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), graceMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    pid: child.pid,
    output: () => text,
    waitForLine: async (pattern, timeoutMs = options.waitTimeoutMs ?? 30_000) => {
      let match: RegExpMatchArray | null = null;
      await waitFor(`${options.name} output matching ${pattern}`, () => {
        match = text.match(pattern);
        if (!match && done) {
          throw new WaitAborted(`${options.name} (pid ${child.pid}) exited before printing it`);
        }
        return match !== null;
      }, timeoutMs).catch((error) => {
        throw new Error(`${error.message}\n--- ${options.name} output ---\n${excerpt(text)}`);
      });
      return match!;
    },
    kill,
    exited,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop(3000);
    },
  };
}
