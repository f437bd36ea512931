/**
 * Shared pieces of the dubbo-go interop tests (tests/interop_go_test.ts and
 * tests/interop_defaults_test.ts): our provider and consumer on free loopback ports, their
 * result lines, and the metric scrapes both sides are counted with.
 */
import { freePort } from "../../tools/ports.ts";
import { type Program, startProgram } from "./programs.ts";
import assert from "node:assert/strict";
import {
  type GoConsumer,
  type GoRegister,
  type GoWarmup,
  parseGoResults,
  parseGoWarmup,
  startGoConsumer,
} from "./peer_build.ts";
import { waitFor } from "./services.ts";

/** One of our processes and the ports it serves. */
export interface Ours {
  program: Program;
  port: number;
  metricsPort: number;
}

/**
 * Our provider (`deno task server`) on free loopback ports; registered in `zk` with our
 * default layouts unless `extra` says otherwise, or without a registry when `zk` is undefined.
 */
export async function startOurProvider(
  zk: string | undefined,
  extra: string[] = [],
): Promise<Ours> {
  const port = await freePort();
  const metricsPort = await freePort();
  const program = startProgram("server", [
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--push=false",
    "--failure-rate=0",
    "--delay=1ms",
    ...(zk ? [] : ["--registry=none"]),
    ...extra,
  ], zk ? { ZK_ADDRESS: zk } : {});
  try {
    await program.waitForLine(zk ? /registered in ZooKeeper/ : /provider/);
    await waitFor("our provider port", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return true;
    });
  } catch (error) {
    await program.stop(1000);
    throw error;
  }
  return { program, port, metricsPort };
}

/** Our consumer (`deno task client`) with `extra` flags; it exits after `--count` calls. */
export async function startOurConsumer(
  zk: string | undefined,
  extra: string[],
): Promise<{ program: Program; metricsPort: number }> {
  const metricsPort = await freePort();
  const program = startProgram("client", [
    "--host=127.0.0.1",
    `--metrics-port=${metricsPort}`,
    "--push=false",
    ...(zk ? [] : ["--registry=none"]),
    ...extra,
  ], zk ? { ZK_ADDRESS: zk } : {});
  return { program, metricsPort };
}

/** Calls our consumer printed, in order: `ok` or `<code>: <message>`. */
export function ourResults(output: string): string[] {
  const results: string[] = [];
  for (const line of output.split("\n")) {
    if (/Greet response: /.test(line)) results.push("ok");
    const failed = line.match(/Greet failed: (.*)$/);
    if (failed) results.push(failed[1]);
  }
  return results;
}

/** Sum of a metric's samples on a `/prometheus` endpoint, optionally filtered by labels. */
export async function scrapeSum(port: number, name: string, labels: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${port}/prometheus`, {
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).some(([k, v]) => !line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** The labels of greet.GreetService/Greet's series. */
export const GREET = { interface: "greet.GreetService", method: "Greet" };

/**
 * Asserts that a dubbo-go consumer started with a warm-up reached a provider during it (its
 * calls would otherwise have been made before discovery found one); returns how it ended.
 */
export function assertWarmedUp(consumer: GoConsumer): GoWarmup {
  const warmup = parseGoWarmup(consumer.output());
  assert.ok(
    warmup?.reached,
    `dubbo-go consumer's warm-up (${consumer.warmup}) reached no provider:\n` +
      consumer.output().slice(-3000),
  );
  return warmup;
}

/**
 * Waits for a dubbo-go consumer's SUMMARY line; returns its results. With a warm-up, it
 * must have reached a provider ({@linkcode assertWarmedUp}).
 */
export async function waitForGoSummary(consumer: GoConsumer, timeoutMs = 60_000) {
  await consumer.waitForLine(/^SUMMARY .*$/m, timeoutMs);
  if (consumer.warmup) assertWarmedUp(consumer);
  return parseGoResults(consumer.output());
}

/** The failure families of one side on a scrape, for the Greet method. */
export async function failures(port: number, side: "provider" | "consumer") {
  const get = (suffix: string) => scrapeSum(port, `dubbo_${side}_requests_${suffix}_total`, GREET);
  return {
    failed: await get("failed"),
    unknown: await get("unknown_failed"),
    business: await get("business_failed"),
    timeout: await get("timeout"),
  };
}

/** Waits until `read()` satisfies `ok`, then returns the last reading. */
export async function settle<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean) {
  let last: T | undefined;
  await waitFor(what, async () => ok(last = await read()), 15_000, 100).catch((error) => {
    throw new Error(`${error.message}; last: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** What each provider of a mixed fleet has served so far (`dubbo_provider_requests_total`). */
export interface Served {
  go: number;
  ours: number;
}

/**
 * The mixed fleet's last act: our consumer and a dubbo-go consumer (registry type
 * `register`) make 300 calls each; once each has made 50, our provider is SIGKILLed. Both
 * must fail over to the dubbo-go provider with at least 297 of 300 calls ok, and that
 * provider must take at least 100 more calls.
 */
export async function sigkillOursUnderLoad(options: {
  zk: string;
  ours: Ours;
  goProviderMetricsPort: number;
  served: () => Promise<Served>;
  register?: GoRegister;
}): Promise<void> {
  const { zk, ours } = options;
  const ourLoad = await startOurConsumer(zk, ["--count=300", "--interval=10ms"]);
  await using _ourLoad = ourLoad.program;
  await using goLoad = await startGoConsumer({
    zk,
    register: options.register,
    n: 300,
    interval: "10ms",
    warmup: "20s",
  });
  await waitFor(
    "50 calls from each consumer",
    () =>
      ourResults(ourLoad.program.output()).length >= 50 &&
      parseGoResults(goLoad.output()).length >= 50,
    30_000,
  );
  const beforeKill = await options.served();
  ours.program.kill("SIGKILL");
  assert.equal(await ourLoad.program.exited, 0);
  const ourCalls = ourResults(ourLoad.program.output());
  const goCalls = await waitForGoSummary(goLoad);
  assert.equal(ourCalls.length, 300);
  assert.equal(goCalls.length, 300);
  const ourOk = ourCalls.filter((r) => r === "ok").length;
  const goOk = goCalls.filter((r) => r.ok).length;
  assert.ok(ourOk >= 297, `our consumer: ${ourOk}/300 ok\n${ourCalls.filter((r) => r !== "ok")}`);
  assert.ok(goOk >= 297, `dubbo-go consumer: ${goOk}/300 ok\n${goLoad.output().slice(-2000)}`);
  // The dubbo-go provider took the rest of both consumers' calls.
  const goServed = await scrapeSum(
    options.goProviderMetricsPort,
    "dubbo_provider_requests_total",
    GREET,
  );
  assert.ok(goServed - beforeKill.go >= 100, JSON.stringify({ beforeKill, goServed }));
}
