/**
 * The programs end to end, as users run them (task permissions, real ZooKeeper and
 * Pushgateway): discovery, balancing, failover, live additions, session expiry, push,
 * graceful shutdown.
 */
import assert from "node:assert/strict";
import { freePort } from "../tools/ports.ts";
import { type Program, startProgram, startProgramWith, taskArgs } from "./support/programs.ts";
import { startPushgateway, startZooKeeper, waitFor } from "./support/services.ts";
import { connectRaw } from "./support/zk.ts";
import { scrapeSum } from "./support/interop.ts";

const PROVIDERS = "/dubbo/greet.GreetService/providers";
const CONSUMERS = "/dubbo/greet.GreetService/consumers";
const SUCCESS = /Greet response: /g;

async function startServer(zk: string, extra: string[] = [], env: Record<string, string> = {}) {
  const port = await freePort();
  const metricsPort = await freePort();
  const server = startProgram("server", [
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--push=false",
    "--failure-rate=0",
    "--delay=1ms",
    ...extra,
  ], { ZK_ADDRESS: zk, ...env });
  await server.waitForLine(/registered in ZooKeeper/);
  return { server, port, metricsPort };
}

function startClient(zk: string, extra: string[] = [], env: Record<string, string> = {}) {
  return freePort().then((metricsPort) => ({
    client: startProgram("client", [
      "--host=127.0.0.1",
      `--metrics-port=${metricsPort}`,
      "--push=false",
      "--interval=20ms",
      "--concurrency=2",
      ...extra,
    ], { ZK_ADDRESS: zk, ...env }),
    metricsPort,
  }));
}

function successes(program: Program): number {
  return program.output().match(SUCCESS)?.length ?? 0;
}

Deno.test("e2e: provider node has Dubbo's path and URL; SIGTERM removes it within 3 s, exit 0", async () => {
  await using zk = await startZooKeeper();
  await using raw = await connectRaw(zk.address);
  const { server, port } = await startServer(zk.address);
  try {
    const nodes = await raw.children(PROVIDERS);
    assert.equal(nodes.length, 1);
    const url = new URL(nodes[0].replace(/^tri:/, "http:"));
    assert.equal(nodes[0].slice(0, 6), "tri://");
    assert.equal(url.host, `127.0.0.1:${port}`);
    assert.equal(url.pathname, "/greet.GreetService");
    for (
      const [key, value] of Object.entries({
        anyhost: "true",
        application: "dubbo-metrics-server",
        interface: "greet.GreetService",
        methods: "Greet",
        serialization: "protobuf",
        side: "provider",
      })
    ) {
      assert.equal(url.searchParams.get(key), value, key);
    }
    assert.match(url.searchParams.get("pid") ?? "", /^\d+$/);
    assert.match(url.searchParams.get("timestamp") ?? "", /^\d{13}$/);
    assert.match(url.searchParams.get("release") ?? "", /\S/);
    const stoppedAt = Date.now();
    server.kill("SIGTERM");
    await waitFor(
      "provider node removed",
      async () => (await raw.children(PROVIDERS)).length === 0,
      3000,
    );
    assert.ok(Date.now() - stoppedAt <= 3000);
    assert.equal(await server.exited, 0);
  } finally {
    await server.stop();
  }
});

Deno.test("e2e: two providers share one consumer's traffic; a SIGKILLed one fails over with >= 99% success", async () => {
  await using zk = await startZooKeeper();
  await using raw = await connectRaw(zk.address);
  const a = await startServer(zk.address);
  const b = await startServer(zk.address);
  const { client } = await startClient(zk.address, ["--timeout=1s", "--retries=2"]);
  try {
    await waitFor("consumer node", async () => (await raw.children(CONSUMERS)).length === 1);
    await waitFor(
      "both providers called",
      async () =>
        (await scrapeSum(a.metricsPort, "dubbo_provider_requests_total")) > 5 &&
        (await scrapeSum(b.metricsPort, "dubbo_provider_requests_total")) > 5,
    );
    a.server.kill("SIGKILL");
    await a.server.exited;
    const before = successes(client);
    const errorsBefore = errorLines(client);
    // The killed provider's node lives until its session expires; calls keep succeeding
    // by failing over to the survivor, then the node disappears.
    await waitFor(
      "killed provider's node expires",
      async () => (await raw.children(PROVIDERS)).length === 1,
      30_000,
    );
    const target = successes(client) + 100;
    await waitFor("100 more calls", () => successes(client) >= target, 30_000);
    const ok = successes(client) - before;
    const failed = errorLines(client) - errorsBefore;
    assert.ok(
      ok / (ok + failed) >= 0.99,
      `success ${ok}/${ok + failed}\n${client.output().slice(-2000)}`,
    );
  } finally {
    await Promise.all([client.stop(), a.server.stop(), b.server.stop()]);
  }
});

Deno.test("e2e: a provider started later receives traffic without restarting the consumer", async () => {
  await using zk = await startZooKeeper();
  const { client } = await startClient(zk.address, ["--timeout=1s"]);
  let late: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    await client.waitForLine(/no provider/i);
    late = await startServer(zk.address);
    await waitFor(
      "late provider called",
      async () => (await scrapeSum(late!.metricsPort, "dubbo_provider_requests_total")) > 0,
    );
    await client.waitForLine(/Greet response: /);
  } finally {
    await Promise.all([client.stop(), late?.server.stop()]);
  }
});

Deno.test("e2e: ZooKeeper restarted with its sessions gone → provider node re-created, calls continue", async () => {
  await using zk = await startZooKeeper();
  await using _raw = await connectRaw(zk.address);
  const s = await startServer(zk.address);
  const { client } = await startClient(zk.address, ["--timeout=1s"]);
  try {
    await client.waitForLine(/Greet response: /);
    await zk.stop();
    // Calls go on from the last known provider list while ZooKeeper is away.
    const during = successes(client);
    await waitFor("calls continue without ZooKeeper", () => successes(client) > during + 20);
    // Restart with its data wiped: the old sessions are unknown, so the programs see
    // their sessions expire and must re-create their nodes (and the parents).
    await Deno.remove(`${zk.dir}/data/version-2`, { recursive: true }).catch(() => {});
    await zk.restart();
    await using raw = await connectRaw(zk.address);
    await waitFor(
      "provider node re-created",
      async () => (await raw.children(PROVIDERS)).some((url) => url.includes(`:${s.port}/`)),
      40_000,
    );
    const after = successes(client);
    await waitFor("calls continue after restart", () => successes(client) > after + 20);
  } finally {
    await Promise.all([client.stop(), s.server.stop()]);
  }
});

Deno.test("e2e: push lands in the Pushgateway under job and instance; SIGTERM deletes the group; no password in output", async () => {
  await using pgw = await startPushgateway();
  const port = await freePort();
  const metricsPort = await freePort();
  const secret = "hunter2-not-in-logs";
  const env = {
    PUSHGATEWAY_URL: pgw.address,
    PUSHGATEWAY_USER: "ops",
    PUSHGATEWAY_PASS: secret,
  };
  const server = startProgram("server", [
    "--registry=none",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--push-interval=1s",
  ], env);
  const client = startProgram("client", [
    "--host=127.0.0.1",
    `--url=tri://127.0.0.1:${port}`,
    `--metrics-port=${await freePort()}`,
    "--interval=10ms",
    "--count=200",
    "--push-interval=1s",
  ], env);
  try {
    const groups = async () => {
      const body = await (await fetch(`${pgw.url}/api/v1/metrics`)).json();
      return body.data as { labels: Record<string, string> }[];
    };
    const instance = `127.0.0.1:${metricsPort}`;
    await waitFor(
      "server group pushed",
      async () =>
        (await groups()).some((g) =>
          g.labels.job === "dubbo_server" && g.labels.instance === instance
        ),
    );
    const text = await (await fetch(`${pgw.url}/metrics`)).text();
    assert.match(text, /job_pushed_at_seconds\{[^}]*job="dubbo_server"/);
    assert.match(text, /dubbo_provider_requests_total\{/);
    // The client stops after --count calls, shuts down gracefully and deletes its group.
    assert.equal(await client.exited, 0, client.output());
    assert.ok(
      !(await groups()).some((g) => g.labels.job === "dubbo_client"),
      "client group deleted",
    );
    server.kill("SIGTERM");
    assert.equal(await server.exited, 0, server.output());
    assert.ok(
      !(await groups()).some((g) => g.labels.job === "dubbo_server"),
      "server group deleted",
    );
    assert.ok(!server.output().includes(secret) && !client.output().includes(secret));
    assert.ok(!text.includes(secret));
  } finally {
    await Promise.all([server.stop(), client.stop()]);
  }
});

Deno.test("e2e: with ZooKeeper down, SIGTERM still exits 0 within 5 s", async () => {
  await using zk = await startZooKeeper();
  const s = await startServer(zk.address);
  try {
    await zk.stop();
    const started = Date.now();
    s.server.kill("SIGTERM");
    assert.equal(await s.server.exited, 0, s.server.output());
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  } finally {
    await s.server.stop();
  }
});

function errorLines(program: Program): number {
  return program.output().split("\n").filter((line) => /Greet (error|failed)/i.test(line)).length;
}

Deno.test("e2e: pull mode (--push=false) never contacts the Pushgateway, even with network to it denied", async () => {
  await using pgw = await startPushgateway();
  const port = await freePort();
  const metricsPort = await freePort();
  const args = taskArgs("server");
  const script = args.pop()!;
  const server = startProgramWith([...args, `--deny-net=${pgw.address}`, script], [
    "--registry=none",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--push=false",
    "--push-interval=1s",
  ], { PUSHGATEWAY_URL: pgw.address });
  try {
    await server.waitForLine(/push off/);
    // Pull works: a scrape answers with our metrics.
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/prometheus`)).text();
    assert.match(text, /dubbo_provider_requests_total\{/);
    // Absence needs time to show: let more than two push intervals pass (not a sync point).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const groups = (await (await fetch(`${pgw.url}/api/v1/metrics`)).json()).data;
    assert.deepEqual(groups, []);
    assert.doesNotMatch(server.output(), /NotCapable|push.*failed/i);
  } finally {
    assert.equal(await server.stop(), 0, server.output());
  }
});
