/**
 * Acceptance of issue 12: real Dubbo peers at THEIR defaults meet ours at OURS through
 * ZooKeeper, both ways. dubbo-go 3.3 registers and subscribes application-level only
 * (its provider serves MetadataService V1 over Dubbo+hessian2); Dubbo Java 3.3 registers
 * both layouts and its consumer is APPLICATION_FIRST (MetadataServiceV2 over Triple).
 *
 * A dubbo-go consumer's warm-up must reach a provider; a Java consumer's ZooKeeper layout is
 * asserted from what it reports. The mixed fleet puts all three kinds behind one ZooKeeper.
 */
import assert from "node:assert/strict";
import { startZooKeeper, waitFor } from "./support/services.ts";
import type { Service } from "../tools/services.ts";
import { freePort } from "../tools/ports.ts";
import { type Program, startProgram } from "./support/programs.ts";
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
import { parseGoResults, startGoConsumer, startGoProvider } from "./support/peer_build.ts";
import {
  parseResults as parseJavaResults,
  startJavaConsumer,
  startJavaProvider,
} from "./support/java_peer.ts";
import { connectRaw } from "./support/zk.ts";

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
  await withZooKeeper(async (zk) => {
    const { server } = await ourServer(zk.address);
    try {
      await using consumer = await startGoConsumer({ zk: zk.address, n: 5, warmup: "30s" });
      assert.equal(await consumer.exited, 0, consumer.output());
      assert.equal(assertWarmedUp(consumer).ok, true);
      const results = parseGoResults(consumer.output());
      assert.equal(results.length, 5, consumer.output());
      assert.ok(results.every((r) => r.ok), consumer.output());
    } finally {
      await server.stop();
    }
  });
});

Deno.test("dubbo-go: our consumer at defaults calls its provider at defaults (metadata over Dubbo+hessian2)", async () => {
  await withZooKeeper(async (zk) => {
    await using provider = await startGoProvider({ zk: zk.address });
    const client = await ourClient(zk.address, 5);
    try {
      await assertClientCalled(client, provider.port, 5);
    } finally {
      await client.stop();
    }
  });
});

Deno.test("dubbo-java: at Dubbo's defaults its consumer calls our provider at our defaults via ZooKeeper, application-level", async () => {
  await withZooKeeper(async (zk) => {
    const { server } = await ourServer(zk.address);
    try {
      await using consumer = await startJavaConsumer({ zkAddress: zk.address, count: 5 });
      const results = await consumer.results();
      assert.equal(results.length, 5, consumer.output());
      assert.ok(results.every((r) => r.ok), consumer.output());
      // APPLICATION_FIRST took our application-level instance (we register both layouts).
      assert.equal(consumer.layout(), "application-level", consumer.output().slice(-3000));
    } finally {
      await server.stop();
    }
  });
});

Deno.test("dubbo-java: at Dubbo's defaults its provider is called by our consumer at our defaults (application-level, metadata over Triple V2)", async () => {
  await withZooKeeper(async (zk) => {
    await using provider = await startJavaProvider({ zkAddress: zk.address });
    const client = await ourClient(zk.address, 5);
    try {
      await assertClientCalled(client, provider.port, 5);
    } finally {
      await client.stop();
    }
  });
});

/** Waits until `/services/<app>` lists `127.0.0.1:<port>` (an application-level instance), or no longer does. */
async function waitForInstance(zk: string, app: string, port: number, present = true) {
  await using raw = await connectRaw(zk);
  await waitFor(
    `instance ${app} 127.0.0.1:${port} ${present ? "registered" : "gone"}`,
    async () =>
      (await raw.children(`/services/${app}`).catch((): string[] => [])).includes(
        `127.0.0.1:${port}`,
      ) === present,
    20_000,
    100,
  );
}

Deno.test("dubbo-go: mixed fleet at defaults via ZooKeeper (a dubbo-go provider and ours, a consumer of each kind): traffic reaches both providers; after SIGKILL of ours, both consumers go on at >= 99 % success", async () => {
  await using zk = await startZooKeeper();
  await using goProvider = await startGoProvider({ zk: zk.address });
  const ours = await startOurProvider(zk.address);
  await using _ours = ours.program;
  await waitForInstance(zk.address, "dubbo.io", goProvider.port);
  await waitForInstance(zk.address, "dubbo-metrics-server", ours.port);
  const served = async () => ({
    go: await scrapeSum(goProvider.metricsPort, "dubbo_provider_requests_total", GREET),
    ours: await scrapeSum(ours.metricsPort, "dubbo_provider_requests_total", GREET),
  });

  // Our consumer alone: round robin over both applications' instances.
  const ourFirst = await startOurConsumer(zk.address, ["--count=40", "--interval=5ms"]);
  await using _ourFirst = ourFirst.program;
  assert.equal(await ourFirst.program.exited, 0);
  assert.deepEqual(ourResults(ourFirst.program.output()), Array(40).fill("ok"));
  const afterOurs = await served();
  assert.ok(afterOurs.go >= 10 && afterOurs.ours >= 10, JSON.stringify(afterOurs));

  // The dubbo-go consumer alone. Its interface-level URL says weight=0 (so there its random
  // balancer never picks its own provider beside ours, see interop_go_test.ts); the
  // application-level instance it reads at its defaults carries no such weight, and it
  // spreads its calls over both providers.
  await using goFirst = await startGoConsumer({ zk: zk.address, n: 40, warmup: "20s" });
  const goResults = await waitForGoSummary(goFirst);
  assert.equal(goResults.length, 40);
  assert.ok(goResults.every((r) => r.ok), goFirst.output().slice(-2000));
  const afterGo = await served();
  const byGo = { go: afterGo.go - afterOurs.go, ours: afterGo.ours - afterOurs.ours };
  assert.ok(byGo.go >= 5 && byGo.ours >= 5, JSON.stringify({ afterOurs, afterGo }));

  // Both consumers at once; SIGKILL our provider partway: both fail over to dubbo-go's.
  await sigkillOursUnderLoad({
    zk: zk.address,
    ours,
    goProviderMetricsPort: goProvider.metricsPort,
    served,
  });
});

/** The sum of `name` on a Java peer's /metrics for greet.GreetService's Greet. */
async function javaMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) || !line.includes('interface="greet.GreetService"')) continue;
    if (line.includes('method="Greet"')) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

Deno.test("mixed fleet: dubbo-go, Java and ours at their defaults behind one ZooKeeper, a consumer of each kind: traffic reaches every provider; after SIGKILL of the Java provider mid-run every consumer goes on at >= 99 % success and every side's counters agree", async () => {
  const CALLS = 300;
  await using zk = await startZooKeeper();
  await using goProvider = await startGoProvider({ zk: zk.address });
  await using javaProvider = await startJavaProvider({ zkAddress: zk.address });
  const ours = await startOurProvider(zk.address);
  await using _ours = ours.program;
  await waitForInstance(zk.address, "dubbo.io", goProvider.port);
  await waitForInstance(zk.address, "dubbo-java-provider", javaProvider.port);
  await waitForInstance(zk.address, "dubbo-metrics-server", ours.port);

  // Our consumer runs until stopped (so that it can be scraped once the others are done).
  const ourLoad = await startOurConsumer(zk.address, ["--count=0", "--interval=10ms"]);
  await using _ourLoad = ourLoad.program;
  await using goLoad = await startGoConsumer({
    zk: zk.address,
    n: CALLS,
    interval: "10ms",
    warmup: "20s",
    linger: true,
  });
  await using javaLoad = await startJavaConsumer({
    zkAddress: zk.address,
    count: CALLS,
    intervalMs: 10,
    hold: true,
  });
  const results = () => ({
    ours: ourResults(ourLoad.program.output()).map((r) => r === "ok"),
    go: parseGoResults(goLoad.output()).map((r) => r.ok),
    java: parseJavaResults(javaLoad.output()).map((r) => r.ok),
  });
  const oks = () => Object.values(results()).reduce((n, r) => n + r.filter(Boolean).length, 0);
  const served = async () => ({
    go: await scrapeSum(goProvider.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
    java: await javaMetric(javaProvider.metricsUrl, "dubbo_provider_requests_succeed_total"),
    ours: await scrapeSum(ours.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
  });
  await waitFor(
    "50 calls from each consumer",
    () => Object.values(results()).every((r) => r.length >= 50),
    60_000,
  );
  // Every provider has taken calls.
  const beforeKill = await served();
  assert.ok(Object.values(beforeKill).every((n) => n > 0), JSON.stringify(beforeKill));

  // SIGKILL the Java provider; what it served up to the kill is read just before it. Calls
  // it answered between that read and the kill are among the consumers' successes then.
  const oksBeforeRead = oks();
  const javaServed = await javaMetric(
    javaProvider.metricsUrl,
    "dubbo_provider_requests_succeed_total",
  );
  javaProvider.kill("SIGKILL");
  const killWindow = oks() - oksBeforeRead;

  await waitForGoSummary(goLoad);
  await javaLoad.results();
  await waitFor("our consumer's calls", () => results().ours.length >= CALLS, 60_000);
  // Our consumer is still calling: read its counters between two reads of its output
  // (a call's counter and its line change in one turn of its event loop).
  const ourOksBefore = results().ours.filter(Boolean).length;
  const ourSucceed = await scrapeSum(
    ourLoad.metricsPort,
    "dubbo_consumer_requests_succeed_total",
    GREET,
  );
  await waitFor("our consumer's lines", () => results().ours.filter(Boolean).length >= ourSucceed);
  await ourLoad.program.stop();
  const final = results();
  const ourOksAfter = final.ours.filter(Boolean).length;

  // >= 99 % success on every consumer's first CALLS calls.
  for (const [kind, calls] of Object.entries(final)) {
    const ok = calls.slice(0, CALLS).filter(Boolean).length;
    assert.ok(ok >= CALLS * 0.99, `${kind} consumer: ${ok}/${CALLS} ok`);
  }
  // Each consumer's counters agree with the calls it made.
  assert.ok(
    ourOksBefore <= ourSucceed && ourSucceed <= ourOksAfter,
    JSON.stringify({
      ourOksBefore,
      ourSucceed,
      ourOksAfter,
    }),
  );
  // dubbo-go's successes include its warm-up call's.
  const goOks = final.go.filter(Boolean).length + (assertWarmedUp(goLoad).ok ? 1 : 0);
  const goSide = {
    succeed: await scrapeSum(goLoad.metricsPort, "dubbo_consumer_requests_succeed_total", GREET),
    failed: await scrapeSum(goLoad.metricsPort, "dubbo_consumer_requests_failed_total", GREET),
    requests: await scrapeSum(goLoad.metricsPort, "dubbo_consumer_requests_total", GREET),
  };
  assert.equal(goSide.succeed, goOks, JSON.stringify(goSide));
  assert.equal(goSide.succeed + goSide.failed, goSide.requests, JSON.stringify(goSide));
  const javaOks = final.java.filter(Boolean).length;
  assert.deepEqual({
    requests: await javaMetric(javaLoad.metricsUrl, "dubbo_consumer_requests_total"),
    succeed: await javaMetric(javaLoad.metricsUrl, "dubbo_consumer_requests_succeed_total"),
  }, { requests: CALLS, succeed: javaOks });
  // And the providers served what the consumers got: every success was counted by the
  // provider that answered it (the Java provider's up to the read before the kill).
  const afterKill = {
    go: await scrapeSum(goProvider.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
    ours: await scrapeSum(ours.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
  };
  const providersServed = afterKill.go + afterKill.ours + javaServed;
  const consumersGot = ourOksAfter + goOks + javaOks;
  console.log(
    `mixed fleet: providers served ${JSON.stringify({ ...afterKill, java: javaServed })}, ` +
      `consumers got ${consumersGot} (ours ${ourOksAfter}, dubbo-go ${goOks}, Java ${javaOks}); ` +
      `${killWindow} successes between the last read of the Java provider and its SIGKILL`,
  );
  assert.ok(
    consumersGot >= providersServed && consumersGot - providersServed <= killWindow,
    JSON.stringify({ providersServed, consumersGot, killWindow }),
  );
});

Deno.test("dubbo-go: its provider at defaults: random error and a short deadline reach our consumer at defaults via ZooKeeper as unknown and deadline_exceeded, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  await using failing = await startGoProvider({ zk: zk.address, failRate: 1, app: "go-failing" });
  const errors = await startOurConsumer(zk.address, ["--interval=20ms"]);
  await using _errors = errors.program;
  // Calls made before discovery finds the provider fail as `unavailable` (no provider yet);
  // count from the first answer of the provider on.
  const fromProvider = () => {
    const all = ourResults(errors.program.output());
    const first = all.indexOf("unknown: random error");
    return first < 0 ? [] : all.slice(first);
  };
  await waitFor("5 answers", () => fromProvider().length >= 5, 30_000).catch((error) => {
    throw new Error(
      `${error.message}\n--- our consumer ---\n${errors.program.output().slice(-6000)}`,
    );
  });
  const before = await failures(errors.metricsPort, "consumer");
  await settle(
    "our consumer's failure counters",
    () => failures(errors.metricsPort, "consumer"),
    (m) =>
      m.failed - before.failed >= 5 &&
      m.business - before.business === m.failed - before.failed && // code_17, as dubbo-go counts it
      m.timeout === before.timeout,
  ).catch((error) => {
    throw new Error(
      `${error.message}\n--- our consumer ---\n${errors.program.output().slice(0, 6000)}`,
    );
  });
  await errors.program.stop();
  const seen = fromProvider();
  assert.deepEqual(new Set(seen), new Set(["unknown: random error"]), seen.join("\n"));
  // dubbo-go's provider counts a handler's error as a business failure (its CodeBizError).
  await settle(
    "dubbo-go provider's failure counters",
    () => failures(failing.metricsPort, "provider"),
    (m) => m.failed >= 5 && m.business === m.failed && m.unknown === 0 && m.timeout === 0,
  );
  // Its SIGTERM removes its instance; wait for that so the next consumer sees only `slow`.
  await failing.stop();
  await waitForInstance(zk.address, "go-failing", failing.port, false);

  await using slow = await startGoProvider({ zk: zk.address, delay: "800ms", app: "go-slow" });
  const late = await startOurConsumer(zk.address, ["--interval=10ms", "--timeout=150ms"]);
  await using _late = late.program;
  await waitFor("3 results", () => ourResults(late.program.output()).length >= 3, 30_000);
  await settle(
    "our consumer's timeout counter",
    () => failures(late.metricsPort, "consumer"),
    (m) => m.failed >= 3 && m.timeout === m.failed && m.unknown === 0,
  );
  await late.program.stop();
  const lateSeen = ourResults(late.program.output());
  assert.ok(lateSeen.length >= 3);
  for (const line of lateSeen) assert.match(line, /^deadline_exceeded: /);
  // dubbo-go's provider runs the deaf handler to its end and counts the late answer a success.
  await settle(
    "dubbo-go provider's late answers",
    () => scrapeSum(slow.metricsPort, "dubbo_provider_requests_succeed_total", GREET),
    (n) => n >= 3,
  );
  assert.equal((await failures(slow.metricsPort, "provider")).failed, 0);
});

Deno.test("dubbo-go: its consumer at defaults: our provider's random error and a short deadline reach it via ZooKeeper as unknown and deadline_exceeded, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  const failing = await startOurProvider(zk.address, ["--failure-rate=1"]);
  await using _failing = failing.program;
  await using consumer = await startGoConsumer({
    zk: zk.address,
    n: 5,
    warmup: "30s",
    linger: true,
  });
  const results = await waitForGoSummary(consumer);
  // The warm-up reached our provider (whose answer was the random error).
  assert.equal(assertWarmedUp(consumer).ok, false);
  assert.deepEqual(results, Array(5).fill({ ok: false, code: "unknown", message: "random error" }));
  // dubbo-go's failover (2 retries by default) sends each failed call 3 times, the
  // warmup's one included; every attempt is counted on both sides: `unknown` (the wire
  // code) by the dubbo-go consumer, a business failure (the handler failed) by our provider.
  const consumerSide = await failures(consumer.metricsPort, "consumer");
  assert.ok(consumerSide.failed >= 18, JSON.stringify(consumerSide));
  assert.deepEqual(consumerSide, { ...consumerSide, unknown: consumerSide.failed, timeout: 0 });
  await settle(
    "our provider's failure counters",
    () => failures(failing.metricsPort, "provider"),
    (m) =>
      m.failed === consumerSide.failed && m.business === m.failed && m.unknown === 0 &&
      m.timeout === 0,
  );
  await consumer.stop();
  await failing.program.stop();

  const slow = await startOurProvider(zk.address, ["--delay=800ms"]);
  await using _slow = slow.program;
  await using late = await startGoConsumer({
    zk: zk.address,
    n: 3,
    timeout: "150ms",
    warmup: "30s",
    linger: true,
  });
  const lateResults = await waitForGoSummary(late);
  assert.equal(lateResults.length, 3);
  for (const result of lateResults) {
    assert.equal(result.ok ? "ok" : result.code, "deadline_exceeded", JSON.stringify(result));
  }
  // Timeouts are retried too: every attempt is a timeout on both sides.
  const lateSide = await failures(late.metricsPort, "consumer");
  assert.ok(lateSide.timeout >= 12, JSON.stringify(lateSide));
  assert.deepEqual(lateSide, { ...lateSide, failed: lateSide.timeout, unknown: 0 });
  await settle(
    "our provider's timeout counter",
    () => failures(slow.metricsPort, "provider"),
    (m) => m.failed === lateSide.timeout && m.timeout === m.failed && m.unknown === 0,
  );
});
