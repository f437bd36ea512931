/**
 * The suite's permission check. Plain `deno test` / `deno bench` run with no permissions,
 * and every test that starts a process would fail with `NotCapable`; instead the first
 * test module (`_preflight_test.ts`), the first bench module and `programs.ts` check here
 * first and stop the run with one line naming the commands that work.
 *
 * `deno test -P` / `deno bench -P` apply deno.json's `permissions.default` set. Deno 2.9.6
 * has `test.permissions` / `bench.permissions` too, but with those set it refuses plain
 * `deno test` with its own message (which cannot name `deno task test`), so the set is the
 * default one.
 *
 * @module
 */

/** The permissions the suite and the benches need (deno.json `permissions.default`). */
export const SUITE_PERMISSIONS: readonly Deno.PermissionName[] = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "sys",
];

/** The one line printed when permissions are missing. */
export function preflightLine(kind: "test" | "bench", missing: readonly string[]): string {
  return kind === "test"
    ? `deno test lacks ${
      missing.join(", ")
    } access: run \`deno task test\`, or \`deno test -P\` (deno.json's permission set)`
    : `deno bench lacks ${
      missing.join(", ")
    } access: run \`deno task bench\`, or \`deno bench -P\` (deno.json's permission set); tests: \`deno task test\``;
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
 * Stops the whole run with one line on stderr and exit code 2 when a suite permission is
 * missing (default: all of {@linkcode SUITE_PERMISSIONS}); returns quietly otherwise. In a test, call it from a test declared with
 * `sanitizeExit: false` (Deno then aborts the whole run; a top-level exit would end only
 * that module).
 */
export async function preflight(
  kind: "test" | "bench",
  needed: readonly Deno.PermissionName[] = SUITE_PERMISSIONS,
): Promise<void> {
  const missing = await missingPermissions(needed);
  if (missing.length === 0) return;
  console.error(preflightLine(kind, missing));
  Deno.exit(2);
}
