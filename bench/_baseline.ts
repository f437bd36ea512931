/**
 * The "before" side of bench/hardening_bench.ts: the provider as it was before issue 13's
 * hardening, built from a named commit checked out with `git worktree add` into a temp dir
 * (never a fork kept in the tree, which would drift with the code it imports).
 *
 * The commit is the parent of the commit that landed the hardening, found by its subject
 * (`Hardening: strict HTTP/1.1 parser ...`); on this repository that is ad17c8a.
 *
 * @module
 */

/** The subject the hardening commit starts with; the baseline is its parent. */
export const HARDENING_SUBJECT = "^Hardening: strict HTTP/1.1 parser";

/** The provider of the baseline commit, started from its own checkout (its deno.json, lock, API). */
const DRIVER = `
import { serveProvider } from "./lib/rpc/mod.ts";
const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 });
console.log(JSON.stringify({ port: provider.port }));
for await (const _ of Deno.stdin.readable) { /* until stdin ends */ }
await provider.close(100);
`;

async function git(args: string[], cwd: string): Promise<string> {
  const output = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return new TextDecoder().decode(output.stdout).trim();
}

/** A checkout of the baseline commit. */
export interface Baseline {
  /** The commit checked out. */
  commit: string;
  /** The command line that serves the baseline provider (prints `{"port":…}`). */
  command: { cwd: string; args: string[] };
  /** Removes the worktree. */
  remove(): Promise<void>;
}

/** The baseline commit: `override` (any revision) or the parent of the hardening commit. */
async function baselineCommit(repo: string, override: string | undefined): Promise<string> {
  if (override) return await git(["rev-parse", "--verify", `${override}^{commit}`], repo);
  const hardening = await git(
    ["log", "--all", "-1", "--format=%H", `--grep=${HARDENING_SUBJECT}`],
    repo,
  );
  if (!hardening) {
    throw new Error(`no commit matching ${HARDENING_SUBJECT} (a shallow clone?): no baseline`);
  }
  return await git(["rev-parse", `${hardening}^`], repo);
}

/**
 * Checks the baseline commit out into a temp dir with `git worktree add`. `override` names
 * another commit to compare with (`HARDEN_BENCH_BASELINE`); it must still have
 * `serveProvider({ hostname, port, failureRate, delayMs })` in `lib/rpc/mod.ts`.
 */
export async function checkOutBaseline(override?: string): Promise<Baseline> {
  const repo = new URL("../", import.meta.url).pathname;
  const commit = await baselineCommit(repo, override);
  const dir = await Deno.makeTempDir({ prefix: "bench-baseline-" });
  await git(["worktree", "add", "--detach", dir, commit], repo);
  await Deno.writeTextFile(`${dir}/bench_baseline_provider.ts`, DRIVER);
  return {
    commit,
    command: { cwd: dir, args: ["run", "-A", "bench_baseline_provider.ts"] },
    remove: async () => {
      await git(["worktree", "remove", "--force", dir], repo).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
