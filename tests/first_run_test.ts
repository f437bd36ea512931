/**
 * A user's first run: `deno task server --help` and then `deno task client --help` with an
 * empty Deno cache (`DENO_DIR`) fetch only the packages the two programs import (their
 * module graphs, as `deno info` reports them) and print no Deno warning, neither on the
 * first run nor on the later one. The suite's, the benches' and the code generator's
 * packages (`tests/deno.json`, `proto/deno.json`) stay in their own configs and are never
 * fetched by a runtime task. README "First run".
 */
import assert from "node:assert/strict";
import YAML from "yaml";

const ROOT = new URL("..", import.meta.url).pathname;

/** The npm package names a config's `imports` map pins (`npm:name@version` → `name`). */
function pinnedNames(config: string): Set<string> {
  const imports: Record<string, string> = JSON.parse(Deno.readTextFileSync(`${ROOT}${config}`))
    .imports;
  return new Set(
    Object.values(imports)
      .filter((target) => target.startsWith("npm:"))
      .map((target) => target.slice(4).replace(/(.)@.*$/, "$1")),
  );
}

/** The packages the test and tool configs pin, by name, that the runtime config does not. */
function toolPackageNames(): string[] {
  const runtime = pinnedNames("deno.json");
  return [...pinnedNames("tests/deno.json"), ...pinnedNames("proto/deno.json")]
    .filter((name) => !runtime.has(name));
}

/**
 * `name@version` of every npm package in the module graph of `entrypoint`: the packages its
 * modules import (`deno info`), and theirs, transitively.
 */
async function importedPackages(
  entrypoint: string,
  denoDir: string,
): Promise<Set<string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entrypoint],
    cwd: ROOT,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info: {
    modules: { kind: string; npmPackage?: string }[];
    npmPackages: Record<string, { dependencies: string[] }>;
  } = JSON.parse(new TextDecoder().decode(output.stdout));
  const reached = new Set<string>();
  const visit = (id: string) => {
    if (reached.has(id)) return;
    reached.add(id);
    for (const dependency of info.npmPackages[id]?.dependencies ?? []) {
      visit(dependency);
    }
  };
  for (const module of info.modules) {
    if (module.npmPackage) visit(module.npmPackage);
  }
  return new Set([...reached].map((id) => id.split("_")[0]));
}

/** `name@version` of every package unpacked in the npm cache of `denoDir`. */
function cachedPackages(denoDir: string): Set<string> {
  const registry = `${denoDir}/npm/registry.npmjs.org`;
  const found = new Set<string>();
  const versions = (dir: string, name: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) found.add(`${name}@${entry.name}`);
    }
  };
  for (const entry of Deno.readDirSync(registry)) {
    if (!entry.isDirectory) continue;
    if (!entry.name.startsWith("@")) {
      versions(`${registry}/${entry.name}`, entry.name);
      continue;
    }
    for (const scoped of Deno.readDirSync(`${registry}/${entry.name}`)) {
      const name = `${entry.name}/${scoped.name}`;
      if (scoped.isDirectory) versions(`${registry}/${name}`, name);
    }
  }
  return found;
}

/** Runs `deno task <task> --help` in the checkout with `denoDir` as the whole Deno cache. */
async function helpRun(task: string, denoDir: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", task, "--help"],
    cwd: ROOT,
    env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000),
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return {
    code: output.code,
    stdout: decode(output.stdout),
    stderr: decode(output.stderr),
  };
}

Deno.test("first run: server and client --help from an empty cache fetch only the runtime packages, no warning", async () => {
  const denoDir = await Deno.makeTempDir({ prefix: "first-run-deno-dir-" });
  try {
    for (const task of ["server", "client"]) {
      const run = await helpRun(task, denoDir);
      assert.equal(run.code, 0, `deno task ${task} --help\n${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: deno task ${task} `));
      const noise = run.stderr.split("\n").filter((line) => /warn|deprecat/i.test(line));
      assert.deepEqual(
        noise,
        [],
        `deno task ${task} --help printed a warning\n${run.stderr}`,
      );
    }

    const cached = cachedPackages(denoDir);
    assert.ok(cached.has("node-zookeeper-client@1.1.3"), [...cached].join(" "));
    const imported = new Set([
      ...await importedPackages("server.ts", denoDir),
      ...await importedPackages("client.ts", denoDir),
    ]);
    const notImported = [...cached].filter((pkg) => !imported.has(pkg));
    assert.deepEqual(
      notImported,
      [],
      "fetched packages that neither program imports",
    );

    // The packages named in the issue, and whatever else only the tool configs pin.
    const named = [
      "@bufbuild/buf",
      "@grafana/schema",
      "kubernetes-models",
      "@grpc/grpc-js",
    ];
    const toolNames = [
      ...named,
      "bcryptjs",
      "@connectrpc/connect-node",
      "yaml",
      "protobufjs",
    ];
    toolNames.push(...toolPackageNames());
    const fetchedTools = [...cached].filter((pkg) =>
      toolNames.some((name) => pkg.startsWith(`${name}@`))
    );
    assert.deepEqual(
      fetchedTools,
      [],
      "a runtime task fetched test or tool packages",
    );
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});

Deno.test("configs: the development and example configs pin every runtime package as deno.json does; the locks agree", async () => {
  const imports = (config: string): Record<string, string> =>
    JSON.parse(Deno.readTextFileSync(`${ROOT}${config}`)).imports;
  const locked = (lock: string): Record<string, { integrity: string }> =>
    JSON.parse(Deno.readTextFileSync(`${ROOT}${lock}`)).npm;
  const runtime = imports("deno.json");
  const runtimeLock = locked("deno.lock");
  for (const config of ["tests/deno.json", "examples/deno.json"]) {
    const pins = imports(config);
    for (const [name, target] of Object.entries(runtime)) {
      assert.equal(pins[name], target, `${config} pins ${name} as deno.json does`);
    }
    const lock = locked(config.replace(/json$/, "lock"));
    for (const [id, entry] of Object.entries(runtimeLock)) {
      assert.equal(lock[id]?.integrity, entry.integrity, `${config}'s lock holds ${id}`);
    }
  }
  assert.equal(runtime["prom-client"], undefined, "prom-client stays out of the programs' way");
  assert.equal(
    imports("examples/deno.json")["prom-client"],
    imports("tests/deno.json")["prom-client"],
  );

  // `deno fmt <path>` formats a path under a nested config with that config's settings.
  const lineWidth = (config: string) =>
    JSON.parse(Deno.readTextFileSync(`${ROOT}${config}`)).fmt?.lineWidth;
  for (const config of ["tests/deno.json", "examples/deno.json", "proto/deno.json"]) {
    assert.equal(lineWidth(config), lineWidth("deno.json"), `${config} formats as deno.json does`);
  }

  // The generator runs buf and protoc-gen-es at the versions its config pins.
  const { BUF, GEN_CONFIG } = await import("../tools/gen.ts");
  const generator = imports(GEN_CONFIG);
  assert.equal(BUF, generator["@bufbuild/buf"]);
  const template = YAML.parse(
    Deno.readTextFileSync(`${ROOT}proto/buf.gen.yaml`),
  );
  const plugin: string[] = template.plugins[0].local;
  assert.deepEqual(plugin.slice(0, 4), ["deno", "run", "--config", GEN_CONFIG]);
  assert.equal(plugin.at(-1), generator["@bufbuild/protoc-gen-es"]);
});
