/**
 * Interop with real dubbo-go v3.3.2 peers (tests/peers/go, built and cached by
 * tests/support/peer_build.ts): both directions through a real ZooKeeper (dubbo-go at
 * `-register=interface`) and direct, a mixed fleet, and error/deadline semantics counted on
 * both sides' metrics.
 */
import assert from "node:assert/strict";
import {
  assertWarmedUp,
  failures,
  GREET,
  ourResults,
  scrapeSum,
  settle,
  sigkillOursUnderLoad,
  startOurConsumer,
  startOurProvider,
  waitForGoSummary,
} from "./support/interop.ts";
import { startGoConsumer, startGoProvider } from "./support/peer_build.ts";
import { startZooKeeper, waitFor } from "./support/services.ts";
import { connectRaw } from "./support/zk.ts";

const PROVIDERS = "/dubbo/greet.GreetService/providers";

/** Waits for the interface-level provider node of `port`; returns its (decoded) URL. */
async function waitForProviderNode(zk: string, port: number): Promise<string> {
  await using raw = await connectRaw(zk);
  let found = "";
  await waitFor(
    `provider node for port ${port}`,
    async () => {
      const nodes = await raw.children(PROVIDERS);
      found = nodes.find((node) => node.includes(`:${port}/`)) ?? "";
      return found !== "";
    },
    20_000,
    100,
  );
  return found;
}

Deno.test("dubbo-go: consumer finds our provider in ZooKeeper (interface-level) and calls it", async () => {
  await using zk = await startZooKeeper();
  const ours = await startOurProvider(zk.address);
  await using _provider = ours.program;
  await using consumer = await startGoConsumer({
    zk: zk.address,
    register: "interface",
    n: 20,
    warmup: "20s",
  });
  const results = await waitForGoSummary(consumer);
  assert.equal(assertWarmedUp(consumer).ok, true);
  assert.equal(results.length, 20);
  assert.deepEqual(results.filter((r) => !r.ok), []);
  assert.ok(results.every((r) => r.ok && r.greeting === "hello world"));
  assert.ok(
    await scrapeSum(ours.metricsPort, "dubbo_provider_requests_succeed_total", GREET) >= 20,
  );
});

Deno.test("dubbo-go: our consumer finds a dubbo-go provider in ZooKeeper (interface-level, weight 0 in its URL)", async () => {
  await using zk = await startZooKeeper();
  await using provider = await startGoProvider({ zk: zk.address, register: "interface" });
  const node = await waitForProviderNode(zk.address, provider.port);
  assert.match(node, /^tri:\/\/127\.0\.0\.1:\d+\/greet\.GreetService\?/);
  assert.match(node, /[?&]weight=0(&|$)/, node);
  const ours = await startOurConsumer(zk.address, ["--count=20", "--interval=10ms"]);
  await using client = ours.program;
  assert.equal(await client.exited, 0, client.output());
  const results = ourResults(client.output());
  assert.deepEqual(results, Array(20).fill("ok"), client.output().slice(-2000));
  assert.equal(
    await scrapeSum(provider.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
    20,
  );
});

/**
 * A loopback TCP forwarder to `target` that keeps the first bytes each connection sent, to
 * see which transport a caller speaks.
 */
function tap(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const firstBytes: string[] = [];
  const conns: Deno.Conn[] = [];
  const serve = async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
      conns.push(upstream);
      let first = true;
      const record = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (first) firstBytes.push(new TextDecoder().decode(chunk.subarray(0, 64)));
          first = false;
          controller.enqueue(chunk);
        },
      });
      conn.readable.pipeThrough(record).pipeTo(upstream.writable).catch(() => {});
      upstream.readable.pipeTo(conn.writable).catch(() => {});
    }
  };
  const served = serve().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    firstBytes,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await served;
    },
  };
}

Deno.test("dubbo-go: direct both ways (our --url to a dubbo-go provider over h2c by default and over HTTP/1.1 with --protocol=triple --http=1.1; dubbo-go's direct URL to ours over h2c)", async () => {
  await using provider = await startGoProvider({ register: "none" });
  // Our default (gRPC over h2c), then Triple over HTTP/1.1.
  for (
    const [flags, firstLine] of [
      [[], /^PRI \* HTTP\/2\.0\r\n\r\nSM\r\n\r\n/],
      [["--protocol=triple", "--http=1.1"], /^POST \/greet\.GreetService\/Greet HTTP\/1\.1\r\n/],
    ] as const
  ) {
    await using toGo = tap(provider.port);
    const client = await startOurConsumer(undefined, [
      `--url=tri://127.0.0.1:${toGo.port}`,
      "--count=10",
      "--interval=0ms",
      ...flags,
    ]);
    await using _client = client.program;
    assert.equal(await client.program.exited, 0, client.program.output());
    assert.deepEqual(ourResults(client.program.output()), Array(10).fill("ok"));
    assert.ok(toGo.firstBytes.length >= 1);
    for (const first of toGo.firstBytes) assert.match(first, firstLine);
  }

  const ours = await startOurProvider(undefined);
  await using _ours = ours.program;
  await using toOurs = tap(ours.port);
  await using consumer = await startGoConsumer({
    register: "none",
    url: `tri://127.0.0.1:${toOurs.port}`,
    n: 10,
  });
  const results = await waitForGoSummary(consumer);
  assert.equal(results.length, 10);
  assert.ok(results.every((r) => r.ok && r.greeting === "hello world"), consumer.output());
  assert.ok(toOurs.firstBytes.length >= 1);
  for (const first of toOurs.firstBytes) {
    assert.ok(first.startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), JSON.stringify(first));
  }
});

Deno.test("dubbo-go: a dubbo-go provider's random error and a short deadline reach our consumer as unknown and deadline_exceeded, counted on both sides", async () => {
  await using failing = await startGoProvider({ register: "none", failRate: 1 });
  const errors = await startOurConsumer(undefined, [
    `--url=tri://127.0.0.1:${failing.port}`,
    "--interval=20ms",
    "--retries=0",
  ]);
  await using _errors = errors.program;
  await waitFor("5 results", () => ourResults(errors.program.output()).length >= 5, 20_000);
  // Our consumer reads dubbo-go's code_17 as unknown and counts it, as dubbo-go's own
  // consumer does, as a business failure; none a timeout.
  await settle(
    "our consumer's failure counters",
    () => failures(errors.metricsPort, "consumer"),
    (m) => m.failed >= 5 && m.business === m.failed && m.unknown === 0 && m.timeout === 0,
  );
  await errors.program.stop();
  const seen = ourResults(errors.program.output());
  assert.deepEqual(new Set(seen), new Set(["unknown: random error"]), seen.join("\n"));
  // dubbo-go's provider counts a handler's error as a business failure (its CodeBizError).
  await settle(
    "dubbo-go provider's failure counters",
    () => failures(failing.metricsPort, "provider"),
    (m) => m.failed >= 5 && m.business === m.failed && m.unknown === 0 && m.timeout === 0,
  );

  await using slow = await startGoProvider({ register: "none", delay: "800ms" });
  const late = await startOurConsumer(undefined, [
    `--url=tri://127.0.0.1:${slow.port}`,
    "--interval=10ms",
    "--timeout=150ms",
    "--retries=0",
  ]);
  await using _late = late.program;
  await waitFor("3 results", () => ourResults(late.program.output()).length >= 3, 20_000);
  await settle(
    "our consumer's timeout counter",
    () => failures(late.metricsPort, "consumer"),
    (m) => m.failed >= 3 && m.timeout === m.failed && m.unknown === 0,
  );
  await late.program.stop();
  const lateSeen = ourResults(late.program.output());
  assert.ok(lateSeen.length >= 3);
  for (const line of lateSeen) assert.match(line, /^deadline_exceeded: /);
  // dubbo-go's provider runs the seed's deaf handler to its end and counts the late answer
  // as a success: no timeout on its side (recorded here so a change in dubbo-go shows).
  const succeeded = await settle(
    "dubbo-go provider's late answers",
    () => scrapeSum(slow.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
    (n) => n >= 3,
  );
  assert.ok(succeeded >= 3);
  assert.deepEqual(await failures(slow.metricsPort, "provider"), {
    failed: 0,
    unknown: 0,
    business: 0,
    timeout: 0,
  });
});

Deno.test("dubbo-go: our provider's random error and a short deadline reach a dubbo-go consumer as unknown and deadline_exceeded, counted on both sides", async () => {
  const failing = await startOurProvider(undefined, ["--failure-rate=1"]);
  await using _failing = failing.program;
  await using consumer = await startGoConsumer({
    register: "none",
    url: `tri://127.0.0.1:${failing.port}`,
    n: 5,
    retries: 0,
    linger: true,
  });
  const results = await waitForGoSummary(consumer);
  assert.deepEqual(results, Array(5).fill({ ok: false, code: "unknown", message: "random error" }));
  assert.deepEqual(await failures(consumer.metricsPort, "consumer"), {
    failed: 5,
    unknown: 5,
    business: 0,
    timeout: 0,
  });
  // Our provider counts its handler's failure as a business failure, as dubbo-go's does;
  // on the wire it is `unknown`, which the dubbo-go consumer counts as such.
  await settle(
    "our provider's failure counters",
    () => failures(failing.metricsPort, "provider"),
    (m) => m.failed === 5 && m.business === 5 && m.unknown === 0 && m.timeout === 0,
  );

  const slow = await startOurProvider(undefined, ["--delay=800ms"]);
  await using _slow = slow.program;
  await using late = await startGoConsumer({
    register: "none",
    url: `tri://127.0.0.1:${slow.port}`,
    n: 3,
    timeout: "150ms",
    retries: 0,
    linger: true,
  });
  const lateResults = await waitForGoSummary(late);
  assert.equal(lateResults.length, 3);
  for (const result of lateResults) {
    assert.equal(result.ok ? "ok" : result.code, "deadline_exceeded", JSON.stringify(result));
  }
  assert.deepEqual(await failures(late.metricsPort, "consumer"), {
    failed: 3,
    unknown: 0,
    business: 0,
    timeout: 3,
  });
  // Ours counts the expired call as a timeout, whether its own deadline timer or the
  // caller's cancel at its deadline came first.
  await settle(
    "our provider's timeout counter",
    () => failures(slow.metricsPort, "provider"),
    (m) => m.failed === 3 && m.timeout === 3 && m.unknown === 0,
  );
});

Deno.test("dubbo-go: mixed fleet (a dubbo-go provider and ours, a consumer of each kind): traffic reaches both providers; after SIGKILL of ours, both consumers go on at >= 99 % success", async () => {
  await using zk = await startZooKeeper();
  await using goProvider = await startGoProvider({ zk: zk.address, register: "interface" });
  // Every member in the interface-level layout: our consumer's `auto` discovery prefers
  // application-level providers whenever there are any (Dubbo's APPLICATION_FIRST).
  const ours = await startOurProvider(zk.address, ["--register-mode=interface"]);
  await using _ours = ours.program;
  await waitForProviderNode(zk.address, goProvider.port);
  await waitForProviderNode(zk.address, ours.port);
  const served = async () => ({
    go: await scrapeSum(goProvider.metricsPort, "dubbo_provider_requests_total", GREET),
    ours: await scrapeSum(ours.metricsPort, "dubbo_provider_requests_total", GREET),
  });

  // Our consumer alone: round robin over both providers.
  const ourFirst = await startOurConsumer(zk.address, ["--count=40", "--interval=5ms"]);
  await using _ourFirst = ourFirst.program;
  assert.equal(await ourFirst.program.exited, 0);
  assert.deepEqual(ourResults(ourFirst.program.output()), Array(40).fill("ok"));
  const afterOurs = await served();
  assert.ok(afterOurs.go >= 10 && afterOurs.ours >= 10, JSON.stringify(afterOurs));

  // The dubbo-go consumer alone: dubbo-go 3.3.2 registers its provider with weight=0, and
  // its own random load balancer then never picks it while a provider without a weight
  // (ours, or Java's: default 100) is there. All its calls go to ours.
  await using goFirst = await startGoConsumer({
    zk: zk.address,
    register: "interface",
    n: 40,
    warmup: "20s",
  });
  const goResults = await waitForGoSummary(goFirst);
  assert.ok(goResults.every((r) => r.ok), goFirst.output().slice(-2000));
  const afterGo = await served();
  assert.equal(afterGo.go, afterOurs.go, JSON.stringify({ afterOurs, afterGo }));
  assert.ok(afterGo.ours >= afterOurs.ours + 40, JSON.stringify({ afterOurs, afterGo }));

  // Both consumers at once; SIGKILL our provider partway: both fail over to dubbo-go's.
  await sigkillOursUnderLoad({
    zk: zk.address,
    ours,
    goProviderMetricsPort: goProvider.metricsPort,
    served,
    register: "interface",
  });
});
