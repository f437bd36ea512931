/**
 * Acceptance of issue 12: real Dubbo peers at THEIR defaults meet ours at OURS through
 * ZooKeeper, both ways. dubbo-go 3.3 registers and subscribes application-level only
 * (its provider serves MetadataService V1 over Dubbo+hessian2); Dubbo Java 3.3 registers
 * both layouts and its consumer is APPLICATION_FIRST (MetadataServiceV2 over Triple).
 *
 * The peers' harnesses come from the `peers` (tests/support/peers.ts) and `java`
 * (tests/support/peer_java.ts) branches; they are imported by computed specifier so this
 * file type-checks on its own, and each test fails with a clear message while a harness
 * is missing.
 */
import assert from "node:assert/strict";
import { type Service, startZooKeeper } from "./support/services.ts";
import { freePort } from "./support/ports.ts";
import { type Program, startProgram } from "./support/programs.ts";

interface PeerProcess extends AsyncDisposable {
  output(): string;
  readonly exited: Promise<number>;
  stop(graceMs?: number): Promise<number>;
}
type Result = { ok: true; greeting: string } | { ok: false; code: string; message: string };
interface GoPeers {
  startGoProvider(options: { zk: string }): Promise<PeerProcess & { port: number }>;
  startGoConsumer(options: { zk: string; n: number; warmup: string }): Promise<PeerProcess>;
  parseGoResults(output: string): Result[];
}
interface JavaPeers {
  startJavaProvider(options: { zkAddress: string }): Promise<PeerProcess & { port: number }>;
  startJavaConsumer(options: { zkAddress: string; count: number }): Promise<
    PeerProcess & { results(timeoutMs?: number): Promise<Result[]> }
  >;
}

async function harness<T>(file: string, branch: string): Promise<T> {
  const url = new URL(`./support/${file}`, import.meta.url).href;
  try {
    return await import(url) as T;
  } catch (error) {
    throw new Error(`needs tests/support/${file} (branch ${branch}): ${(error as Error).message}`);
  }
}

async function withZooKeeper(fn: (zk: Service) => Promise<void>): Promise<void> {
  const zk = await startZooKeeper();
  try {
    await fn(zk);
  } finally {
    await zk.close();
  }
}

/** Our server at its defaults (only ports, loopback and metrics push off set). */
async function ourServer(zk: string): Promise<{ server: Program; port: number }> {
  const port = await freePort();
  const server = startProgram("server", [
    "--host=127.0.0.1",
    "--advertise-ip=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${await freePort()}`,
    "--push=false",
    "--failure-rate=0",
  ], { ZK_ADDRESS: zk });
  await server.waitForLine(/registered in ZooKeeper/);
  return { server, port };
}

/** Our client at its defaults, making `count` calls. */
async function ourClient(zk: string, count: number): Promise<Program> {
  return startProgram("client", [
    "--host=127.0.0.1",
    "--advertise-ip=127.0.0.1",
    `--metrics-port=${await freePort()}`,
    "--push=false",
    "--interval=50ms",
    `--count=${count}`,
  ], { ZK_ADDRESS: zk });
}

/** Waits for our client to finish; asserts every call succeeded via application-level. */
async function assertClientCalled(client: Program, port: number, count: number) {
  const timer = setTimeout(() => client.kill("SIGKILL"), 60_000);
  const code = await client.exited;
  clearTimeout(timer);
  const out = client.output();
  assert.equal(code, 0, out);
  assert.equal(out.match(/Greet response: /g)?.length, count, out);
  assert.match(out, new RegExp(`application-level\\): 1 \\(127\\.0\\.0\\.1:${port}\\)`), out);
  assert.doesNotMatch(out, /cannot fetch metadata/, "metadata fetched, no fallback");
}

Deno.test("dubbo-go: its consumer at defaults calls our provider at defaults via ZooKeeper", async () => {
  const go = await harness<GoPeers>("peers.ts", "peers");
  await withZooKeeper(async (zk) => {
    const { server } = await ourServer(zk.address);
    try {
      await using consumer = await go.startGoConsumer({ zk: zk.address, n: 5, warmup: "30s" });
      assert.equal(await consumer.exited, 0, consumer.output());
      const results = go.parseGoResults(consumer.output());
      assert.equal(results.length, 5, consumer.output());
      assert.ok(results.every((r) => r.ok), consumer.output());
    } finally {
      await server.stop();
    }
  });
});

Deno.test("dubbo-go: our consumer at defaults calls its provider at defaults (metadata over Dubbo+hessian2)", async () => {
  const go = await harness<GoPeers>("peers.ts", "peers");
  await withZooKeeper(async (zk) => {
    await using provider = await go.startGoProvider({ zk: zk.address });
    const client = await ourClient(zk.address, 5);
    try {
      await assertClientCalled(client, provider.port, 5);
    } finally {
      await client.stop();
    }
  });
});

Deno.test("dubbo-java: its consumer at defaults calls our provider at defaults via ZooKeeper", async () => {
  const java = await harness<JavaPeers>("peer_java.ts", "java");
  await withZooKeeper(async (zk) => {
    const { server } = await ourServer(zk.address);
    try {
      await using consumer = await java.startJavaConsumer({ zkAddress: zk.address, count: 5 });
      const results = await consumer.results();
      assert.equal(results.length, 5, consumer.output());
      assert.ok(results.every((r) => r.ok), consumer.output());
    } finally {
      await server.stop();
    }
  });
});

Deno.test("dubbo-java: our consumer at defaults calls its provider at defaults (metadata over Triple V2)", async () => {
  const java = await harness<JavaPeers>("peer_java.ts", "java");
  await withZooKeeper(async (zk) => {
    await using provider = await java.startJavaProvider({ zkAddress: zk.address });
    const client = await ourClient(zk.address, 5);
    try {
      await assertClientCalled(client, provider.port, 5);
    } finally {
      await client.stop();
    }
  });
});
