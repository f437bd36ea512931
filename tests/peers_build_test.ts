/**
 * The peer builder (tests/support/peer_build.ts): one build per source hash even when two
 * builds race, a cache hit after that, a rebuild after a source change, and one clear line
 * when the toolchain is missing.
 */
import assert from "node:assert/strict";
import { buildPeer, findOnPath, goPeer, hashSources } from "./support/peer_build.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const GO_SOURCES = `${ROOT}tests/peers/go`;

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test("dubbo-go: peer build - two racing builds build once, then a cache hit; a source change rebuilds", async () => {
  const temp = await Deno.makeTempDir({ prefix: "peers-build-" });
  try {
    const src = `${temp}/src`;
    const cacheRoot = `${temp}/cache`;
    await copyDir(GO_SOURCES, src);
    const peer = goPeer("go", src);

    const [a, b] = await Promise.all([
      buildPeer(peer, { cacheRoot }),
      buildPeer(peer, { cacheRoot }),
    ]);
    assert.equal(a.dir, b.dir);
    assert.deepEqual([a.cached, b.cached].sort(), [false, true], "exactly one of two built");
    for (const binary of ["provider", "consumer"]) {
      assert.ok(Deno.statSync(`${a.dir}/${binary}`).isFile, `${binary} built`);
    }
    const again = await buildPeer(peer, { cacheRoot });
    assert.deepEqual(again, { dir: a.dir, cached: true });

    const before = await hashSources(src);
    await Deno.writeTextFile(`${src}/provider/main.go`, "\n// changed\n", { append: true });
    assert.notEqual(await hashSources(src), before);
    const rebuilt = await buildPeer(peer, { cacheRoot });
    assert.equal(rebuilt.cached, false);
    assert.notEqual(rebuilt.dir, a.dir);
    assert.ok(Deno.statSync(`${rebuilt.dir}/provider`).isFile);
    assert.deepEqual(
      [...Deno.readDirSync(cacheRoot)].map((e) => e.name),
      [rebuilt.dir.slice(cacheRoot.length + 1)],
      "the build of the old sources is pruned",
    );
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
});

Deno.test("dubbo-go: peer build - a missing Go toolchain fails with one line naming what to install", async () => {
  const path = (Deno.env.get("PATH") ?? "").split(":")
    .filter((dir) => dir && !findOnPath("go", { PATH: dir }))
    .join(":");
  assert.equal(findOnPath("go", { PATH: path }), undefined);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tests/support/peer_build.ts`, "go"],
    env: { PATH: path, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const err = new TextDecoder().decode(stderr).trim();
  assert.equal(code, 1);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.equal(err.split("\n").length, 1, err);
  assert.match(err, /^peer build: Go toolchain missing \("go" not on PATH\): install Go 1\.25/);
});
