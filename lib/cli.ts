/**
 * The process side of configuration: reads `Deno.args` and the environment, checks the
 * permissions the config needs, and exits with usage (0) or one error line (2).
 *
 * @module
 */
import { ENV_VARS, parseConfig } from "./config.ts";
import { ConfigError } from "./config_types.ts";
import type { CleanerConfig, ClientConfig, Env, Program, ServerConfig } from "./config_types.ts";
import { describe, PermissionMissing, requireEnv, requirePermissions } from "./permissions.ts";

/**
 * Parses `Deno.args` and the environment for `program`; prints usage and exits 0 on
 * `--help`, prints one line and exits 2 on any bad value or a permission the config
 * needs but the process lacks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ServerConfig } from "./config_types.ts";
 * // server.ts: `const config = loadConfig("server");` — exits 0 on --help, 2 on a bad value.
 * // Calling it here would exit the test, so this only shows the overload's typed result.
 * const load: () => ServerConfig = () => loadConfig("server");
 * assert.equal(typeof load, "function");
 * ```
 */
export function loadConfig(program: "server"): ServerConfig;
export function loadConfig(program: "client"): ClientConfig;
export function loadConfig(program: "cleaner"): CleanerConfig;
export function loadConfig(program: Program): ServerConfig | ClientConfig | CleanerConfig;
export function loadConfig(program: Program): ServerConfig | ClientConfig | CleanerConfig {
  try {
    requireEnv(ENV_VARS[program]);
    const parsed = parseConfig(program, Deno.args, readEnv(program));
    if (parsed.help) {
      console.log(parsed.usage);
      Deno.exit(0);
    }
    requirePermissions(parsed.config);
    return parsed.config;
  } catch (error) {
    if (error instanceof PermissionMissing) {
      console.error(describe(program, error));
      Deno.exit(2);
    }
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${program}: ${error.message} (see --help)`);
    Deno.exit(2);
  }
}

function readEnv(program: Program): Env {
  const env: Env = {};
  for (const name of ENV_VARS[program]) env[name] = Deno.env.get(name);
  return env;
}
