/**
 * The suite's preflight. The suite runs under the development config (`tests/deno.json`:
 * the runtime packages plus the test, tool and bench packages, with its own lock) and with
 * the permissions {@linkcode SUITE_PERMISSIONS}, which `deno task test` / `deno task bench`
 * give. Plain `deno test` / `deno bench` in the repository root run under the runtime config
 * (`deno.json`), which includes only the preflight module; and without permission flags
 * every test that starts a process would fail with `NotCapable`. Instead the first test
 * module (`_preflight_test.ts`), the first bench module and `programs.ts` check here first
 * and stop the run with one line naming the command that works.
 *
 * The tasks grant the permissions as flags: Deno 2.9.6's permission sets in a config file
 * (`-P`) print "Permissions in the config file is an experimental feature" on every run.
 *
 * @module
 */

/** The permissions the suite and the benches need (the `--allow-*` flags of the tasks). */
export const SUITE_PERMISSIONS: readonly Deno.PermissionName[] = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "sys",
];

/** How to run the suite or the benches with the development config and its permissions. */
function commands(kind: "test" | "bench"): string {
  return kind === "test"
    ? "run `deno task test [files]`"
    : "run `deno task bench [files]`; tests: `deno task test [files]`";
}

/** The one line printed when permissions are missing. */
export function preflightLine(kind: "test" | "bench", missing: readonly string[]): string {
  return `deno ${kind} lacks ${missing.join(", ")} access: ${commands(kind)}`;
}

/** The one line printed when the runtime config is the active one. */
export function configLine(kind: "test" | "bench"): string {
  return `deno ${kind} here runs with the runtime config (deno.json), without the suite's ` +
    `packages: ${commands(kind)}`;
}

/**
 * True when the development config is the active one: its import map (and only its)
 * resolves the suite's packages, e.g. `yaml`.
 */
export function developmentConfigActive(): boolean {
  try {
    import.meta.resolve("yaml");
    return true;
  } catch {
    return false;
  }
}

/** The suite permissions not granted to this process (querying needs no permission). */
export async function missingPermissions(
  needed: readonly Deno.PermissionName[] = SUITE_PERMISSIONS,
): Promise<Deno.PermissionName[]> {
  const missing: Deno.PermissionName[] = [];
  for (const name of needed) {
    const { state } = await Deno.permissions.query({ name } as Deno.PermissionDescriptor);
    if (state !== "granted") missing.push(name);
  }
  return missing;
}

/**
 * Stops the whole run with one line on stderr and exit code 2 when the runtime config is
 * active or a suite permission is missing (default: all of {@linkcode SUITE_PERMISSIONS});
 * returns quietly otherwise. In a test, call it from a test declared with
 * `sanitizeExit: false` (Deno then aborts the whole run; a top-level exit would end only
 * that module).
 */
export async function preflight(
  kind: "test" | "bench",
  needed: readonly Deno.PermissionName[] = SUITE_PERMISSIONS,
): Promise<void> {
  if (!developmentConfigActive()) {
    console.error(configLine(kind));
    Deno.exit(2);
  }
  const missing = await missingPermissions(needed);
  if (missing.length === 0) return;
  console.error(preflightLine(kind, missing));
  Deno.exit(2);
}
