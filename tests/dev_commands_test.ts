/**
 * The development commands work as typed, in a scratch copy of the checkout (tracked and
 * untracked files, as `git ls-files` lists them): plain `deno test` and `deno bench` in the
 * root (the runtime config) end at once with one line naming the commands that work, and so
 * does the development config without permissions; `deno task test <file>` runs that file,
 * with no Deno warning.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;

/** Copies the working tree's files (not .git, not ignored ones) to a fresh temp dir. */
async function scratchCopy(): Promise<string> {
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.equal(listed.code, 0, "git ls-files");
  const dir = await Deno.makeTempDir({ prefix: "dev-commands-" });
  const files = new TextDecoder().decode(listed.stdout).split("\0").filter(Boolean);
  for (const file of files) {
    const from = join(ROOT, file);
    const stat = await Deno.lstat(from).catch(() => undefined);
    if (!stat?.isFile) continue; // deleted in the working tree, or a symlink/submodule
    await Deno.mkdir(dirname(join(dir, file)), { recursive: true });
    await Deno.copyFile(from, join(dir, file));
  }
  return dir;
}

interface Run {
  code: number;
  output: string;
  seconds: number;
}

/** Runs `deno <args>` in `cwd` with no permission flags beyond `args`; bounded at 120 s. */
async function deno(cwd: string, args: string[]): Promise<Run> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return { code, output: text, seconds: (performance.now() - started) / 1000 };
}

/** Asserts the one-line stop: non-zero exit, within 10 s, one line naming `names`. */
function assertOneLineStop(run: Run, names: string[], what: string): void {
  assert.notEqual(run.code, 0, `${what} must fail\n${run.output}`);
  assert.ok(run.seconds <= 10, `${what} took ${run.seconds.toFixed(1)} s\n${run.output}`);
  const lines = run.output.split("\n").filter((line) => names.every((n) => line.includes(n)));
  assert.equal(lines.length, 1, `${what}: one line naming ${names.join(" and ")}\n${run.output}`);
  assert.doesNotMatch(run.output, /NotCapable|Requires run access/, what);
  assert.doesNotMatch(run.output, /^\S+ \.\.\. (ok|FAILED)/m, `${what} ran no real test`);
}

Deno.test({
  name: "dev commands: plain deno test / deno bench stop with one line; deno task test <file> runs",
  // The copy shares DENO_DIR: npm packages come from the warm cache, nothing is fetched.
  async fn() {
    const dir = await scratchCopy();
    try {
      // Type-checking a fresh copy is the same work for every `deno test`; do it first, so
      // the bound below is on what the run does without permissions.
      const checked = await deno(dir, ["test", "--no-run"]);
      assert.equal(checked.code, 0, checked.output);
      const plainTest = await deno(dir, ["test"]);
      const testNames = ["`deno task test [files]`"];
      assertOneLineStop(plainTest, testNames, "deno test");
      const allowed = await deno(dir, ["test", "-A"]);
      assertOneLineStop(allowed, testNames, "deno test -A (runtime config)");

      const benchChecked = await deno(dir, ["bench", "--no-run"]);
      assert.equal(benchChecked.code, 0, benchChecked.output);
      const plainBench = await deno(dir, ["bench"]);
      const benchNames = ["`deno task bench [files]`", "`deno task test [files]`"];
      assertOneLineStop(plainBench, benchNames, "deno bench");

      // Typing is checked above and by `deno task check`; this run is about the preflight.
      const dev = ["test", "--config", "tests/deno.json", "--no-check"];
      const unpermitted = await deno(dir, dev);
      assertOneLineStop(unpermitted, ["lacks", ...testNames], "deno test (dev config, no flags)");

      const scoped = await deno(dir, ["task", "test", "tests/cli_test.ts"]);
      assert.equal(scoped.code, 0, scoped.output);
      assert.match(scoped.output, /^ok \| \d+ passed \| 0 failed/m);
      assert.doesNotMatch(scoped.output, /warning/i, "deno task test printed a warning");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
