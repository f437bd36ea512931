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

/** A table row for a flag: programs, name, kind, typed default, help. */
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

/** A table row for an environment variable: programs, name, kind, default text, help. */
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

/** `--help` text: flags with their typed defaults written back, then variables. */
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

/** One flag's value: its typed default when absent, else its kind's parse of the text. */
export function get<T, D extends T | undefined>(raw: RawFlags, f: Flag<T, D>): T | D {
  const text = raw.get(f.name);
  return text === undefined ? f.default : f.kind.parse(text, `--${f.name}`);
}

/** One variable's value: an empty value is unset; then the default, if any. */
export function read<T>(env: Env, v: EnvVar<T>): T | undefined {
  const text = env[v.name]?.trim() || v.default;
  return text === undefined ? undefined : v.kind.parse(text, v.name);
}
