/**
 * `deno task cleaner`: removes zombie groups (stale `job_pushed_at_seconds`, else
 * `push_time_seconds`) from the Pushgateway, once or with `--daemon` every `--interval`.
 *
 * @example
 * ```sh
 * deno task cleaner --pushgw=http://127.0.0.1:9091 --ttl=10m --dry-run
 * ```
 *
 * @module
 */
import { loadConfig } from "./lib/cli.ts";
import { runCleaner } from "./lib/cleaner/mod.ts";

Deno.exit(await runCleaner(loadConfig("cleaner")));
