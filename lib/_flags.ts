/**
 * The machinery behind the flag table in `config.ts`: flag and variable entries, the
 * `--help` renderer and the `parseArgs` token reader. Holds no flag of its own.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Kind } from "./_flag_kinds.ts";
import { ConfigError, type Env, type Program } from "./config_types.ts";

/** One command-line flag; `D` is `T` when it has a default, else `undefined`. */
export interface Flag<T, D extends T | undefined = T> {
  programs: readonly Program[];
  name: string;
  kind: Kind<T>;
  default: D;
  help: string;
  /** Shown instead of the default when the default is computed at run time. */
  defaultHelp?: string;
}

/** One environment variable; an empty value counts as unset. */
export interface EnvVar<T> {
  programs: readonly Program[];
  name: string;
  kind: Kind<T>;
  /** Raw text used when the variable is unset, parsed like a set value. */
  default: string | undefined;
  help: string;
}

/**
 * A table row for a flag: programs, name, kind, typed default, help.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { port } from "./_flag_kinds.ts";
 * const row = flag(["server"], "port", port, 20000, "Triple port");
 * assert.equal(row.default, 20000);
 * ```
 */
export function flag<T>(
  programs: readonly Program[],
  name: string,
  kind: Kind<T>,
  fallback: undefined,
  help: string,
  defaultHelp?: string,
): Flag<T, undefined>;
export function flag<T>(
  programs: readonly Program[],
  name: string,
  kind: Kind<T>,
  fallback: NoInfer<T>,
  help: string,
): Flag<T, T>;
export function flag<T>(
  programs: readonly Program[],
  name: string,
  kind: Kind<T>,
  fallback: T | undefined,
  help: string,
  defaultHelp?: string,
): Flag<T, T | undefined> {
  return { programs, name, kind, default: fallback, help, defaultHelp };
}

/**
 * A table row for an environment variable: programs, name, kind, default text, help.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zkAddress } from "./_flag_kinds.ts";
 * const row = variable(["server"], "ZK_ADDRESS", zkAddress, "127.0.0.1:2181", "ZooKeeper");
 * assert.equal(read({}, row), "127.0.0.1:2181"); // unset: the default text, parsed
 * ```
 */
export function variable<T>(
  programs: readonly Program[],
  name: string,
  kind: Kind<T>,
  fallback: string | undefined,
  help: string,
): EnvVar<T> {
  return { programs, name, kind, default: fallback, help };
}

/** Entries of any value type, for whole-table walks. */
export type AnyFlag = Flag<unknown, unknown>;
/** Variables of any value type, for whole-table walks. */
export type AnyVar = EnvVar<unknown>;

/**
 * `--help` text: flags with their typed defaults written back, then variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { port } from "./_flag_kinds.ts";
 * const flags = [flag(["server"], "port", port, 20000, "Triple port")] as AnyFlag[];
 * assert.match(renderUsage("server", flags, []), /--port=<value> +Triple port \(default 20000\)/);
 * ```
 */
export function renderUsage(program: Program, flags: AnyFlag[], vars: AnyVar[]): string {
  const lines = [`Usage: deno task ${program} [flags]`, "", "Flags:"];
  for (const f of flags) {
    const arg = f.kind.type === "boolean" ? "" : "=<value>";
    const shown = f.kind.type === "boolean" || f.default === undefined
      ? f.defaultHelp
      : f.kind.show(f.default);
    const def = shown !== undefined ? ` (default ${shown})` : "";
    lines.push(`  --${(f.name + arg).padEnd(24)} ${f.help}${def}`);
  }
  lines.push("", "Durations: Go style (500ms, 10s, 1m, 1h) or plain seconds.", "", "Environment:");
  for (const v of vars) {
    const def = v.default !== undefined ? ` (default ${v.default})` : "";
    lines.push(`  ${v.name.padEnd(22)} ${v.help}${def}`);
  }
  return lines.join("\n");
}

/** Raw flag text by name, as given on the command line. */
export type RawFlags = Map<string, string>;

/**
 * Turns `args` into raw text per flag from `parseArgs` tokens: `--name=value`,
 * `--name value`, booleans as `--name`, `--no-name` or Go's `--name=false`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boolean, port } from "./_flag_kinds.ts";
 * const flags = [
 *   flag(["server"], "port", port, 20000, "Triple port"),
 *   flag(["server"], "push", boolean, true, "push metrics"),
 * ] as AnyFlag[];
 * const raw = readFlags(flags, ["--port", "20001", "--no-push"]);
 * assert.deepEqual([...raw], [["port", "20001"], ["push", "false"]]);
 * assert.throws(() => readFlags(flags, ["--bogus"]), /--bogus: unknown flag/);
 * ```
 */
export function readFlags(flags: AnyFlag[], args: string[]): RawFlags {
  const known = new Map(flags.map((f) => [f.name, f]));
  const options = Object.fromEntries(flags.map((f) => [f.name, { type: f.kind.type }]));
  const { tokens } = parseArgs({ args, options, strict: false, tokens: true });
  const raw: RawFlags = new Map();
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      throw new ConfigError(`${token.value}: unexpected argument (flags are --name=value)`);
    }
    const f = known.get(token.name);
    const negated = token.name.startsWith("no-") ? known.get(token.name.slice(3)) : undefined;
    if (f === undefined && negated?.kind.type === "boolean" && !token.inlineValue) {
      raw.set(negated.name, "false");
    } else if (f === undefined) {
      throw new ConfigError(`${token.rawName}: unknown flag`);
    } else if (f.kind.type === "boolean") {
      raw.set(f.name, token.value ?? "true");
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith("-"))) {
      throw new ConfigError(`${token.rawName}: a value is required`);
    } else {
      raw.set(f.name, token.value);
    }
  }
  return raw;
}

/**
 * One flag's value: its typed default when absent, else its kind's parse of the text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { port } from "./_flag_kinds.ts";
 * const portFlag = flag(["server"], "port", port, 20000, "Triple port");
 * assert.equal(get(new Map(), portFlag), 20000);
 * assert.equal(get(new Map([["port", "20001"]]), portFlag), 20001);
 * ```
 */
export function get<T, D extends T | undefined>(raw: RawFlags, f: Flag<T, D>): T | D {
  const text = raw.get(f.name);
  return text === undefined ? f.default : f.kind.parse(text, `--${f.name}`);
}

/**
 * One variable's value: an empty value is unset; then the default, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { job } from "./_flag_kinds.ts";
 * const jobVar = variable(["server"], "JOB_NAME", job, undefined, "Pushgateway job");
 * assert.equal(read({ JOB_NAME: " " }, jobVar), undefined); // blank counts as unset
 * assert.equal(read({ JOB_NAME: "dubbo" }, jobVar), "dubbo");
 * ```
 */
export function read<T>(env: Env, v: EnvVar<T>): T | undefined {
  const text = env[v.name]?.trim() || v.default;
  return text === undefined ? undefined : v.kind.parse(text, v.name);
}
