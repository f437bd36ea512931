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
import { type ChildProcess, spawnProcess } from "./process.ts";

// Without run access (plain `deno test tests/x_test.ts`) every start would fail with
// NotCapable: stop this module at once with the one line instead.
await preflight("test", ["run"]);

const ROOT = new URL("../..", import.meta.url).pathname;

/** A running program started by {@linkcode startProgram}. */
export type Program = ChildProcess;

/**
 * The `deno run ...` argument list of a deno.json task (this checkout's, or `root`'s),
 * without `deno` itself.
 */
export function taskArgs(task: string, root = ROOT): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).tasks as Record<
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
  return startProgramWith(taskArgs(task), args, env, task === "server");
}

/**
 * {@linkcode startProgram} from another checkout `root` (its deno.json and sources), or
 * from this one when `root` is undefined.
 */
export function startProgramIn(
  root: string | undefined,
  task: "server" | "client" | "cleaner",
  args: string[],
  env: Record<string, string> = {},
): Program {
  if (root === undefined) return startProgram(task, args, env);
  return spawnProcess(Deno.execPath(), [...taskArgs(task, root), ...args], {
    name: `${task} in ${root}`,
    cwd: root,
    env,
    graceMs: 8000,
    waitTimeoutMs: 20_000,
    persistent: task === "server",
  });
}

/**
 * Starts `deno <denoArgs> <args>` (e.g. a task's arguments with an extra `--deny-net`)
 * from the project root, like {@linkcode startProgram}. `persistent`: a server, whose exit
 * on its own fails the test's next wait (tests/support/watchdog.ts); `startProgram` sets it
 * for `server`.
 */
export function startProgramWith(
  denoArgs: string[],
  args: string[],
  env: Record<string, string> = {},
  persistent = false,
): Program {
  return spawnProcess(Deno.execPath(), [...denoArgs, ...args], {
    name: denoArgs.at(-1) ?? "deno",
    cwd: ROOT,
    env,
    graceMs: 8000,
    waitTimeoutMs: 20_000,
    persistent,
  });
}
