/**
 * The programs as users start them: `deno task ...` exit codes, one-line errors before
 * any I/O, and the permissions each task grants.
 */
import assert from "node:assert/strict";
import { ENV_VARS } from "../lib/config.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stderr without the `Task <name> <command>` line that deno task prints first. */
  ours: string[];
}

async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr,
    ours: stderr.split("\n").filter((line) => line !== "" && !line.startsWith("Task ")),
  };
}

function tasks(): Record<string, string> {
  return JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)).tasks;
}

Deno.test("cli: deno task server --port=abc exits 2 with one line naming --port", async () => {
  const result = await run(["task", "server", "--port=abc"]);
  assert.equal(result.code, 2, result.stderr);
  assert.deepEqual(result.ours.length, 1, result.stderr);
  assert.match(result.ours[0], /--port/);
});

Deno.test("cli: PUSHGATEWAY_URL='http://[bad' deno task client exits 2 naming the variable", async () => {
  const result = await run(["task", "client"], { PUSHGATEWAY_URL: "http://[bad" });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.ours.length, 1, result.stderr);
  assert.match(result.ours[0], /PUSHGATEWAY_URL/);
});

Deno.test("cli: deno task client --interval=soon exits 2 naming --interval", async () => {
  const result = await run(["task", "client", "--interval=soon"]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.ours.length, 1, result.stderr);
  assert.match(result.ours[0], /--interval/);
});

Deno.test("cli: deno task cleaner --ttl=forever exits 2 naming --ttl", async () => {
  const result = await run(["task", "cleaner", "--ttl=forever"]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.ours.length, 1, result.stderr);
  assert.match(result.ours[0], /--ttl/);
});

Deno.test("cli: --help prints usage and exits 0 for each program", async () => {
  for (const program of ["server", "client", "cleaner"]) {
    const result = await run(["task", program, "--help"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`Usage: deno task ${program}`));
  }
});

Deno.test("permissions: server, client and cleaner tasks never grant all, write, run, read or ffi", () => {
  for (const name of ["server", "client", "cleaner"]) {
    const command = tasks()[name];
    for (
      const forbidden of [
        "-A ",
        "--allow-all",
        "--allow-write",
        "--allow-run",
        "--allow-ffi",
        "--allow-read",
      ]
    ) {
      assert.ok(!command.includes(forbidden), `${name} task grants ${forbidden}`);
    }
  }
});

Deno.test("permissions: each task's --allow-env lists exactly the variables the program reads", () => {
  for (const name of ["server", "client", "cleaner"] as const) {
    const granted = /--allow-env=(\S+)/.exec(tasks()[name])?.[1].split(",") ?? [];
    assert.deepEqual([...granted].sort(), [...ENV_VARS[name]].sort(), name);
  }
});

Deno.test("permissions: server and client ask only for hostname and network interfaces", () => {
  for (const name of ["server", "client"]) {
    assert.match(tasks()[name], /--allow-sys=hostname,networkInterfaces /);
  }
  assert.ok(!tasks().cleaner.includes("--allow-sys"));
});

Deno.test("permissions: a missing env permission is a clear error, not silent defaults", async () => {
  const result = await run(["run", "--allow-net", "server.ts", "--registry=none", "--push=false"]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.ours.length, 1, result.stderr);
  assert.match(result.ours[0], /needs --allow-env=PUSHGATEWAY_URL,/);
});

Deno.test("permissions: a missing sys permission is a clear error, not a 127.0.0.1 label", async () => {
  const env = `--allow-env=${ENV_VARS.server.join(",")}`;
  const result = await run(["run", "--allow-net", env, "server.ts", "--registry=none"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.ours[0], /needs --allow-sys=hostname,networkInterfaces/);
});

Deno.test("permissions: push mode without access to the Pushgateway is refused up front", async () => {
  const env = `--allow-env=${ENV_VARS.client.join(",")}`;
  const result = await run([
    "run",
    "--allow-net=127.0.0.1:20000,127.0.0.1:9097",
    env,
    "--allow-sys=hostname,networkInterfaces",
    "client.ts",
    "--host=127.0.0.1",
    "--url=tri://127.0.0.1:20000",
    "--push=true",
  ], { PUSHGATEWAY_URL: "127.0.0.1:9191" });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.ours[0], /needs --allow-net=127\.0\.0\.1:9191/);
});
