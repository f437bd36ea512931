/**
 * Interop with Apache Dubbo Java 3.3.6 (tests/peers/java): its consumer against our provider
 * and our consumer against its provider, through a real ZooKeeper and direct; the random
 * failure and a short deadline each way, counted on both sides' metrics.
 *
 * Tests named `dubbo-java: at Dubbo's defaults …` run the Java peer with nothing set beyond
 * what an application sets to find the service (its consumer: no protocol, timeout 1000 ms,
 * retries 2, check true, migration APPLICATION_FIRST; its provider: register mode `all`) and
 * assert the ZooKeeper layout its calls went through. The other tests are named for the
 * setting they are about (a migration step, a register mode, a 300 ms timeout, retries 0).
 *
 * Our consumer calls Java with `--protocol=grpc --http=2`: Dubbo Java 3.3.6 serves no
 * Triple over HTTP (see the test that pins it).
 */
import assert from "node:assert/strict";
import { freePort } from "../tools/ports.ts";
import { type Program, startProgram } from "./support/programs.ts";
import { startZooKeeper, waitFor } from "./support/services.ts";
import { WaitAborted } from "../tools/services.ts";
import { connectRaw } from "./support/zk.ts";
import { settle } from "./support/interop.ts";
import { curl } from "./support/curl.ts";
import {
  buildJavaPeer,
  type JavaCallResult,
  type JavaConsumer,
  startJavaConsumer,
  startJavaProvider,
} from "./support/java_peer.ts";

// Build (or find) the peer before any test's timer starts; a missing toolchain fails here
// with one line saying what to install.
await buildJavaPeer((line) => console.log(line));

const GREET = 'interface="greet.GreetService"';

/** Our provider on free loopback ports; with `zk` it registers there (our default layouts). */
async function startOurProvider(zk: string | undefined, extra: string[] = []) {
  const port = await freePort();
  const metricsPort = await freePort();
  const server = startProgram("server", [
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--push=false",
    "--delay=0ms",
    ...(zk ? [] : ["--registry=none"]),
    ...extra,
  ], zk ? { ZK_ADDRESS: zk } : {});
  await server.waitForLine(zk ? /registered in ZooKeeper/ : /provider greet\.GreetService on/);
  return { server, port, metricsUrl: `http://127.0.0.1:${metricsPort}/prometheus` };
}

/**
 * Our consumer speaking gRPC over h2c (what Java serves): `calls` workers make one call each
 * right away, then pause for minutes, so it stays up to be scraped with exactly `calls` done.
 */
async function startOurConsumer(zk: string | undefined, calls: number, extra: string[]) {
  const metricsPort = await freePort();
  const client = startProgram("client", [
    "--host=127.0.0.1",
    `--metrics-port=${metricsPort}`,
    "--push=false",
    "--count=0",
    `--concurrency=${calls}`,
    "--interval=10m",
    "--retries=0",
    "--protocol=grpc",
    "--http=2",
    ...extra,
  ], zk ? { ZK_ADDRESS: zk } : {});
  const results = async () => {
    await waitFor(`${calls} results`, () => ourResults(client).length >= calls, 30_000, 100)
      .catch((error) => {
        if (error instanceof WaitAborted) throw error; // a peer died: fail at once
      });
    return ourResults(client); // after a timeout, what there is: the count assertion says more
  };
  return { client, results, metricsUrl: `http://127.0.0.1:${metricsPort}/prometheus` };
}

/** Our client's result lines, in the shape of the Java consumer's. */
function ourResults(client: Program): JavaCallResult[] {
  const results: JavaCallResult[] = [];
  for (const line of client.output().split("\n")) {
    const ok = /Greet response: (.*)$/.exec(line);
    if (ok) results.push({ ok: true, greeting: ok[1] });
    const failed = /Greet failed: ([a-z_]+): (.*)$/.exec(line);
    if (failed) results.push({ ok: false, code: failed[1], message: failed[2] });
  }
  return results;
}

/** Sum of `name` over the greet.GreetService series of a Prometheus text page. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) && line.includes(GREET)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

function assertAll(results: JavaCallResult[], count: number, check: (r: JavaCallResult) => void) {
  assert.equal(results.length, count, `expected ${count} results, got ${JSON.stringify(results)}`);
  for (const result of results) check(result);
}

const succeeded = (greeting: string) => (r: JavaCallResult) =>
  assert.deepEqual(r, { ok: true, greeting });
const failedWith = (code: string, message?: RegExp) => (r: JavaCallResult) => {
  assert.equal(r.ok, false, JSON.stringify(r));
  if (r.ok) return;
  assert.equal(r.code, code, JSON.stringify(r));
  if (message) assert.match(r.message, message);
};

/**
 * What ended a Java call past its deadline. Java has two timers of its own: the Triple
 * call's deadline future, which throws an RpcException whose isTimeout() is true, and
 * DefaultFuture's scan timer, which completes the call with a result that carries a
 * TimeoutException. Or our provider's DEADLINE_EXCEEDED answer (we enforce the deadline
 * Java sends) arrives first, also a result carrying an error.
 */
const ENDED_BY = {
  deadlineFuture: /^Timeout after \d+ms waiting for result\./,
  scanTimer: /^Waiting server-side response timeout by scan timer\./,
  ourAnswer: /^deadline of \d+ms exceeded$/,
};

/**
 * A Java consumer's `calls` calls (timeout 300 ms) to our provider that answers after 3 s all
 * ended as `deadline_exceeded`, and each side counted them exactly:
 *
 * - Java (Dubbo's MetricsSupport.getMetricsKey and MetricsFilter) files a call a thrown
 *   RpcException ended with isTimeout() under `_timeout_total`, and a call that ended with
 *   a result carrying an error under `_business_failed_total`: so its deadline future's
 *   calls are timeouts, its scan timer's and our answer's are business failures. Which of
 *   the three ends a call is a race at the deadline; each call's message says which won,
 *   and the counters must match call by call. With `retries` (Dubbo's default 2) only a
 *   thrown RpcException is sent again.
 * - Our provider counts every attempt it received as a timeout.
 */
async function assertJavaCallerDeadlines(
  late: JavaConsumer,
  ourMetricsUrl: string,
  calls: number,
  retries: number,
) {
  const results = await late.results();
  assertAll(results, calls, failedWith("deadline_exceeded"));
  const endedBy = (pattern: RegExp) =>
    results.filter((r) => !r.ok && pattern.test(r.message)).length;
  const thrown = endedBy(ENDED_BY.deadlineFuture);
  const answered = endedBy(ENDED_BY.scanTimer) + endedBy(ENDED_BY.ourAnswer);
  assert.equal(thrown + answered, calls, JSON.stringify(results));
  const java = (suffix: string) => metric(late.metricsUrl, `dubbo_consumer_requests_${suffix}`);
  assert.deepEqual(
    {
      requests: await java("total"),
      failed: await java("failed_total"),
      timeout: await java("timeout_total"),
      business: await java("business_failed_total"),
      succeed: await java("succeed_total"),
    },
    { requests: calls, failed: calls, timeout: thrown, business: answered, succeed: 0 },
    JSON.stringify(results),
  );
  // Attempts our provider saw: every try of a call a thrown timeout ended, at least one of
  // the others (an earlier try may have thrown first); each one a timeout.
  const fewest = thrown * (retries + 1) + answered;
  const most = calls * (retries + 1);
  const ours = await settle(
    "our provider's timeouts",
    async () => ({
      requests: await metric(ourMetricsUrl, "dubbo_provider_requests_total"),
      timeout: await metric(ourMetricsUrl, "dubbo_provider_requests_timeout_total"),
    }),
    (m) => m.timeout === m.requests && m.timeout >= fewest,
  );
  assert.ok(ours.timeout <= most, `our provider counted ${ours.timeout}, at most ${most}`);
  if (answered === 0) assert.equal(ours.timeout, most, "every attempt reached our provider");
  console.log(
    `Java deadlines: ${thrown} ended by its deadline future (timeout), ${answered} by a ` +
      `result (business: ${endedBy(ENDED_BY.scanTimer)} scan timer, ` +
      `${endedBy(ENDED_BY.ourAnswer)} our answer); our provider: ${ours.timeout} attempts`,
  );
}

/** Polls until the counter reaches `atLeast` (a provider may count after the client gave up). */
async function waitForMetric(url: string, name: string, atLeast: number): Promise<number> {
  return await settle(`${name} >= ${atLeast}`, () => metric(url, name), (n) => n >= atLeast);
}

Deno.test("dubbo-java: at Dubbo's defaults its provider registers both layouts at 127.0.0.1", async () => {
  await using zk = await startZooKeeper();
  await using java = await startJavaProvider({ zkAddress: zk.address, app: "java-defaults" });
  await using raw = await connectRaw(zk.address);
  const providers = await raw.children("/dubbo/greet.GreetService/providers");
  assert.equal(providers.length, 1, JSON.stringify(providers));
  assert.ok(providers[0].startsWith(`tri://127.0.0.1:${java.port}/greet.GreetService?`));
  assert.deepEqual(await raw.children("/services/java-defaults"), [`127.0.0.1:${java.port}`]);
  assert.deepEqual(await raw.children("/dubbo/mapping"), ["greet.GreetService"]);
});

Deno.test("dubbo-java: --register-mode=interface|instance writes only that layout", async () => {
  await using zk = await startZooKeeper();
  await using iface = await startJavaProvider({
    zkAddress: zk.address,
    registerMode: "interface",
    app: "java-iface",
  });
  await using inst = await startJavaProvider({
    zkAddress: zk.address,
    registerMode: "instance",
    app: "java-inst",
  });
  await using raw = await connectRaw(zk.address);
  const providers = await raw.children("/dubbo/greet.GreetService/providers");
  assert.equal(providers.length, 1, JSON.stringify(providers));
  assert.ok(providers[0].startsWith(`tri://127.0.0.1:${iface.port}/`), providers[0]);
  assert.deepEqual(await raw.children("/services"), ["java-inst"]);
  assert.deepEqual(await raw.children("/services/java-inst"), [`127.0.0.1:${inst.port}`]);
});

Deno.test("dubbo-java: at Dubbo's defaults its consumer calls our provider via ZooKeeper, application-level, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  const ours = await startOurProvider(zk.address, ["--failure-rate=0"]);
  await using _server = ours.server;
  await using java = await startJavaConsumer({ zkAddress: zk.address, count: 10, hold: true });
  assertAll(await java.results(), 10, succeeded("hello world"));
  // APPLICATION_FIRST with our provider in both layouts: the application-level one.
  assert.equal(java.layout(), "application-level", java.output().slice(-3000));
  assert.equal(await metric(ours.metricsUrl, "dubbo_provider_requests_succeed_total"), 10);
  assert.equal(await metric(ours.metricsUrl, "dubbo_provider_requests_total"), 10);
  assert.equal(await metric(java.metricsUrl, "dubbo_consumer_requests_total"), 10);
  assert.equal(await metric(java.metricsUrl, "dubbo_consumer_requests_succeed_total"), 10);
});

for (
  const [migration, layout, how] of [
    ["FORCE_INTERFACE", "interface-level", "our /dubbo/greet.GreetService/providers node"],
    ["FORCE_APPLICATION", "application-level", "our instance and MetadataServiceV2"],
  ] as const
) {
  Deno.test(`dubbo-java: migration ${migration}: its consumer calls our provider through ${how}`, async () => {
    await using zk = await startZooKeeper();
    const ours = await startOurProvider(zk.address, ["--failure-rate=0"]);
    await using _server = ours.server;
    await using java = await startJavaConsumer({ zkAddress: zk.address, count: 3, migration });
    assertAll(await java.results(), 3, succeeded("hello world"));
    assert.equal(java.layout(), layout, java.output().slice(-3000));
    assert.equal(await metric(ours.metricsUrl, "dubbo_provider_requests_succeed_total"), 3);
  });
}

Deno.test("dubbo-java: at Dubbo's defaults its provider answers our consumer (gRPC over h2c) via ZooKeeper, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  await using java = await startJavaProvider({ zkAddress: zk.address });
  const ours = await startOurConsumer(zk.address, 10, []);
  await using _client = ours.client;
  assertAll(await ours.results(), 10, succeeded("hello world"));
  assert.equal(await metric(ours.metricsUrl, "dubbo_consumer_requests_succeed_total"), 10);
  await waitForMetric(java.metricsUrl, "dubbo_provider_requests_succeed_total", 10);
  assert.equal(await metric(java.metricsUrl, "dubbo_provider_requests_succeed_total"), 10);
});

Deno.test("dubbo-java: a direct URL (--url): its consumer calls our provider", async () => {
  const ours = await startOurProvider(undefined, ["--failure-rate=0"]);
  await using _server = ours.server;
  await using java = await startJavaConsumer({ url: `tri://127.0.0.1:${ours.port}`, count: 5 });
  assertAll(await java.results(), 5, succeeded("hello world"));
  assert.equal(java.layout(), "direct");
  assert.equal(await java.exited, 0);
});

Deno.test("dubbo-java: a direct URL (--url): our consumer calls its provider, gRPC over h2c", async () => {
  await using java = await startJavaProvider({});
  const ours = await startOurConsumer(undefined, 5, [`--url=tri://127.0.0.1:${java.port}`]);
  await using _client = ours.client;
  assertAll(await ours.results(), 5, succeeded("hello world"));
});

/**
 * Pinned: Dubbo Java 3.3.6 serves greet.GreetService (protobuf stubs from dubbo-compiler)
 * over gRPC only. Our consumer with `--protocol=triple --http=1.1` sends
 *
 *     POST /greet.GreetService/Greet HTTP/1.1
 *     content-type: application/proto
 *     tri-protocol-version: 1.0.0
 *     tri-service-timeout: 3000
 *     (body: the GreetRequest message)
 *
 * and Java answers, as it does to curl with `application/json` on either HTTP version
 * (checked below, so it is not our request):
 *
 *     HTTP/1.1 404 Not Found
 *     content-type: application/json
 *     alt-svc: h2=":<port>"
 *     content-length: 46
 *
 *     {"message":"Invoker not found","status":"404"}
 *
 * Cause, in Java's own log at INFO: "Registered 0 rest mappings for service [GreetImpl] at
 * url [tri://127.0.0.1:<port>/greet.GreetService]". Its HTTP router (RestRequestHandlerMapping,
 * the only one besides gRPC's) maps a service's methods by their Java names through the
 * service descriptor; the stub's descriptor names the method `Greet` (proto) while the Java
 * method is `greet`, so nothing is mapped and every non-gRPC request is "Invoker not found".
 * Our consumer reads the 404 as `unimplemented` and keeps Java's message.
 */
Deno.test("dubbo-java: Triple over HTTP/1.1 (not gRPC) from our consumer: its provider answers 404 Invoker not found, read as unimplemented", async () => {
  await using java = await startJavaProvider({});
  const url = `http://127.0.0.1:${java.port}/greet.GreetService/Greet`;
  const ours = await startOurConsumer(undefined, 2, [
    `--url=tri://127.0.0.1:${java.port}`,
    "--protocol=triple",
    "--http=1.1",
  ]);
  await using _client = ours.client;
  assertAll(await ours.results(), 2, failedWith("unimplemented", /^Invoker not found$/));
  assert.equal(await metric(java.metricsUrl, "dubbo_provider_requests_total"), 0);
  for (const http of [[], ["--http2-prior-knowledge"]]) {
    const answer = await curl(url, {
      headers: { "content-type": "application/json" },
      body: '{"name":"x"}',
      args: http,
    });
    assert.equal(answer.status, 404, answer.text);
    assert.deepEqual(JSON.parse(answer.text), { message: "Invoker not found", status: "404" });
  }
});

Deno.test("dubbo-java: at Dubbo's defaults its consumer gets our provider's random error as unknown, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  const failing = await startOurProvider(zk.address, ["--failure-rate=1"]);
  await using _failing = failing.server;
  await using errors = await startJavaConsumer({ zkAddress: zk.address, count: 4, hold: true });
  assertAll(await errors.results(), 4, failedWith("unknown", /^random error$/));
  assert.equal(errors.layout(), "application-level");
  // Our answer is a result to Dubbo, not a thrown RpcException: failover does not retry it.
  assert.equal(await metric(failing.metricsUrl, "dubbo_provider_requests_total"), 4);
  assert.equal(await metric(failing.metricsUrl, "dubbo_provider_requests_failed_total"), 4);
  // The handler failed: a business failure to our provider, as to Java's and dubbo-go's.
  assert.equal(
    await metric(failing.metricsUrl, "dubbo_provider_requests_business_failed_total"),
    4,
  );
  assert.equal(await metric(errors.metricsUrl, "dubbo_consumer_requests_failed_total"), 4);
  // Java files a gRPC UNKNOWN from the provider under business failures, not unknown ones.
  assert.equal(await metric(errors.metricsUrl, "dubbo_consumer_requests_business_failed_total"), 4);
});

Deno.test("dubbo-java: a 300 ms timeout with retries 0, direct: each late call is counted by what ended it, on both sides", async () => {
  const slow = await startOurProvider(undefined, ["--failure-rate=0", "--delay=3s"]);
  await using _slow = slow.server;
  await using late = await startJavaConsumer({
    url: `tri://127.0.0.1:${slow.port}`,
    count: 3,
    timeoutMs: 300,
    retries: 0,
    hold: true,
  });
  await assertJavaCallerDeadlines(late, slow.metricsUrl, 3, 0);
});

Deno.test("dubbo-java: at Dubbo's defaults but a 300 ms timeout, via ZooKeeper: each late call, retried twice, is counted by what ended it, on both sides", async () => {
  await using zk = await startZooKeeper();
  const slow = await startOurProvider(zk.address, ["--failure-rate=0", "--delay=3s"]);
  await using _slow = slow.server;
  await using late = await startJavaConsumer({
    zkAddress: zk.address,
    count: 2,
    timeoutMs: 300,
    hold: true,
  });
  await assertJavaCallerDeadlines(late, slow.metricsUrl, 2, 2);
  assert.equal(late.layout(), "application-level");
});

Deno.test("dubbo-java: at Dubbo's defaults its provider's random error reaches our consumer via ZooKeeper as unknown, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  await using failing = await startJavaProvider({ zkAddress: zk.address, failureRate: 1 });
  const errors = await startOurConsumer(zk.address, 4, []);
  await using _errors = errors.client;
  assertAll(await errors.results(), 4, failedWith("unknown", /^random error$/));
  assert.equal(await metric(errors.metricsUrl, "dubbo_consumer_requests_failed_total"), 4);
  assert.equal(await metric(errors.metricsUrl, "dubbo_consumer_requests_unknown_failed_total"), 4);
  // Java's provider counts a call once its answer is on the way, after our consumer read it.
  await waitForMetric(failing.metricsUrl, "dubbo_provider_requests_failed_total", 4);
  assert.equal(await metric(failing.metricsUrl, "dubbo_provider_requests_failed_total"), 4);
  // Java files an exception thrown by the service as a business failure.
  assert.equal(
    await metric(failing.metricsUrl, "dubbo_provider_requests_business_failed_total"),
    4,
  );
});

Deno.test("dubbo-java: at Dubbo's defaults its provider, slower than our consumer's 300 ms deadline, via ZooKeeper: deadline_exceeded, counted on both sides", async () => {
  await using zk = await startZooKeeper();
  await using slow = await startJavaProvider({ zkAddress: zk.address, delayMs: 3000 });
  const late = await startOurConsumer(zk.address, 2, ["--timeout=300ms"]);
  await using _late = late.client;
  assertAll(await late.results(), 2, failedWith("deadline_exceeded"));
  assert.equal(await metric(late.metricsUrl, "dubbo_consumer_requests_timeout_total"), 2);
  assert.equal(await metric(late.metricsUrl, "dubbo_consumer_requests_failed_total"), 2);
  // Java's provider runs the 3 s handler to its end and counts the late answer as a
  // success, no timeout (as dubbo-go's does; recorded so a change in Java shows).
  await waitForMetric(slow.metricsUrl, "dubbo_provider_requests_succeed_total", 2);
  assert.equal(await metric(slow.metricsUrl, "dubbo_provider_requests_failed_total"), 0);
  assert.equal(await metric(slow.metricsUrl, "dubbo_provider_requests_timeout_total"), 0);
});
