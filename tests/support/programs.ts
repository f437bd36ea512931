/**
 * Our own programs as child processes, started exactly as their `deno task` starts them
 * (same permission flags, read from deno.json), with output captured and helpers to wait
 * for a log line, send signals, and collect the exit code.
 *
 * @example
 * ```ts
 * await using server = await startProgram("server", ["--registry=none", "--host=127.0.0.1"]);
 * await server.waitForLine(/provider greet.GreetService/);
 * ```
 *
 * @module
 */
import { preflight } from "./preflight.ts";
import { waitFor } from "./services.ts";

// Without run access (plain `deno test tests/x_test.ts`) every start would fail with
// NotCapable: stop this module at once with the one line instead.
await preflight("test", ["run"]);

const ROOT = new URL("../..", import.meta.url).pathname;

/** A running program started by {@linkcode startProgram}. */
export interface Program extends AsyncDisposable {
  readonly pid: number;
  /** All stdout and stderr so far. */
  output(): string;
  /** Waits until the output matches `pattern`; returns the match. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` by PID. */
  kill(signal?: Deno.Signal): void;
  /** Resolves with the exit code once it exited. */
  readonly exited: Promise<number>;
  /** SIGTERM (then SIGKILL after `graceMs`) and wait for exit; returns the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** The `deno run ...` argument list of a deno.json task, without `deno` itself. */
export function taskArgs(task: string): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks as Record<
    string,
    string
  >;
  const command = tasks[task];
  if (!command) throw new Error(`no task ${task} in deno.json`);
  const words = command.split(/\s+/).filter(Boolean);
  if (words[0] !== "deno") throw new Error(`task ${task} does not start with deno`);
  return words.slice(1);
}

/**
 * Starts `server`, `client` or `cleaner` with its task's permissions plus `args`, from
 * the project root, with `env` added to a minimal environment.
 */
export function startProgram(
  task: "server" | "client" | "cleaner",
  args: string[],
  env: Record<string, string> = {},
): Program {
  return startProgramWith(taskArgs(task), args, env);
}

/**
 * Starts `deno <denoArgs> <args>` (e.g. a task's arguments with an extra `--deny-net`)
 * from the project root, like {@linkcode startProgram}.
 */
export function startProgramWith(
  denoArgs: string[],
  args: string[],
  env: Record<string, string> = {},
): Program {
  const task = denoArgs.at(-1) ?? "deno";
  const child = new Deno.Command(Deno.execPath(), {
    args: [...denoArgs, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    clearEnv: false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = Promise.all([child.status, drained]).then(([status]) => status.code);
  let done = false;
  exited.then(() => done = true);

  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (done) return;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  const stop = async (graceMs = 8000) => {
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
    waitForLine: async (pattern, timeoutMs = 20_000) => {
      let match: RegExpMatchArray | null = null;
      await waitFor(`${task} output matching ${pattern}`, () => {
        match = text.match(pattern);
        if (!match && done) throw new Error("exited");
        return match !== null;
      }, timeoutMs).catch((error) => {
        throw new Error(`${error.message}\n--- ${task} output ---\n${text.slice(-3000)}`);
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
