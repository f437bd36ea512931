/**
 * `tools/test_deps.ts` (first step of `deno task test`) and the services' fail-fast check,
 * run for real with a PATH that lacks some or all of the suite's binaries.
 * `TEST_DEPS_INSTALL=never` stands in for a user without root or passwordless sudo, so
 * nothing on this machine is installed or changed.
 */
import assert from "node:assert/strict";
import { installCommand, missingPackages, REQUIREMENTS, which } from "../tools/requirements.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PATH = Deno.env.get("PATH") ?? "";

/** The permissions `deno task test` gives tools/test_deps.ts, read from deno.json. */
function testDepsArgs(): string[] {
  const task: string = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.test;
  const step = task.split("&&")[0].trim().split(/\s+/);
  assert.equal(step.at(-1), "tools/test_deps.ts", "deno task test starts with tools/test_deps.ts");
  return step.slice(1);
}

async function run(args: string[], env: Record<string, string>) {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text: text.trim(), seconds: (performance.now() - started) / 1000 };
}

/** A PATH holding only links to the real binaries of `commands`. */
async function pathWith(commands: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "test-deps-path-" });
  for (const command of commands) {
    const real = which(command, PATH);
    assert.ok(real, `${command} is installed on this machine`);
    await Deno.symlink(real, `${dir}/${command}`);
  }
  return dir;
}

Deno.test("test deps: everything installed here, so the first step passes silently", async () => {
  assert.deepEqual(missingPackages(PATH), []);
  const result = await run(testDepsArgs(), {});
  assert.equal(result.code, 0, result.text);
  assert.equal(result.text.replace(/^Warning.*$/gm, "").trim(), "");
});

Deno.test("test deps: nothing on PATH and no way to install → one line with the exact command, at once", async () => {
  const empty = await Deno.makeTempDir({ prefix: "test-deps-empty-" });
  try {
    const result = await run(testDepsArgs(), { PATH: empty, TEST_DEPS_INSTALL: "never" });
    assert.equal(result.code, 1, result.text);
    assert.ok(result.seconds <= 10, `${result.seconds} s`);
    const all = REQUIREMENTS.map((r) => r.package);
    assert.equal(result.text.split("\n").length, 1, result.text);
    assert.ok(result.text.endsWith(installCommand(all, false)), result.text);
    assert.ok(result.text.includes("missing zookeeper, prometheus"), result.text);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("test deps: only the missing packages are named", async () => {
  const dir = await pathWith(["java", "prometheus"]);
  try {
    const result = await run(testDepsArgs(), { PATH: dir, TEST_DEPS_INSTALL: "never" });
    assert.equal(result.code, 1, result.text);
    assert.ok(
      result.text.endsWith(
        installCommand(["prometheus-pushgateway", "docker-compose", "nghttp2-client"], false),
      ),
      result.text,
    );
    assert.doesNotMatch(result.text, /missing .*\bzookeeper\b/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test deps: a service whose binary is missing fails at once with the install command", async () => {
  const dir = await pathWith(["java"]); // ZooKeeper's needs; no prometheus, no pushgateway
  try {
    const script = `
      import { startPrometheus, startPushgateway, startZooKeeper } from "${ROOT}tests/support/services.ts";
      for (const start of [startPrometheus, startPushgateway]) {
        try { await (await start()).close(); console.log("started"); }
        catch (error) { console.log(String(error.message).split("\\n")[0]); }
      }
      await (await startZooKeeper()).close();
      console.log("zookeeper ok");
    `;
    const config = `${ROOT}tests/deno.json`; // services.ts uses the suite's packages
    const result = await run(["eval", "--config", config, "--ext=ts", script], { PATH: dir });
    assert.equal(result.code, 0, result.text);
    const lines = result.text.split("\n").filter((l) => !l.startsWith("Warning"));
    assert.match(
      lines[0],
      /^prometheus is not installed .*`sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus`/,
    );
    assert.match(
      lines[1],
      /^prometheus-pushgateway is not installed .*--no-install-recommends prometheus-pushgateway`/,
    );
    assert.equal(lines[2], "zookeeper ok", "an installed service still starts under the same PATH");
    assert.ok(result.seconds < 60, `${result.seconds} s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
