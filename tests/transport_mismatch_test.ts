/**
 * Our consumer at its default transport (`--protocol=grpc --http=2`, gRPC over h2c) pointed at
 * a provider that does not speak h2c says so once, in one line naming the flag to change, and
 * keeps counting each failed call as `unavailable`: a dubbo-js server on Node's `http`
 * (HTTP/1.1 only: it answers the HTTP/2 preface with `HTTP/1.1 400`), the same with
 * `--protocol=triple --http=2`, and a server that resets the connection on the preface. The
 * same consumer against dubbo-js's h2c server calls fine and says nothing of the kind.
 */
import assert from "node:assert/strict";
import { startDubboJsServer } from "./support/dubbojs_peer.ts";
import { startProgram } from "./support/programs.ts";
import { spawnProcess } from "./support/process.ts";
import { freePort } from "../tools/ports.ts";
import { parseExposition } from "./support/exposition.ts";

const CALLS = 3;

/** Runs our consumer against `port` until it logged `CALLS` results; returns its output. */
async function consumerAgainst(port: number, flags: string[] = []) {
  const metricsPort = await freePort();
  await using consumer = startProgram("client", [
    "--registry=none",
    `--url=tri://127.0.0.1:${port}`,
    "--push=false",
    "--host=127.0.0.1",
    `--metrics-port=${metricsPort}`,
    "--interval=100ms",
    "--retries=0",
    ...flags,
  ]);
  await consumer.waitForLine(new RegExp(`(Greet (failed|response).*\\n[^]*){${CALLS}}`), 20_000);
  const scraped = await fetch(`http://127.0.0.1:${metricsPort}/prometheus`);
  const families = parseExposition(await scraped.text());
  const count = (name: string) => families.get(name)?.samples[0]?.value ?? 0;
  assert.equal(await consumer.stop(), 0);
  return {
    lines: consumer.output().split("\n").map((line) => line.replace(/^\S+Z /, "")),
    requests: count("dubbo_consumer_requests_total"),
    unavailable: count("dubbo_consumer_requests_failed_service_unavailable_total"),
  };
}

/** Asserts one hint line naming `change`, and that every call failed as `unavailable` with a reason. */
function assertHintOnce(run: Awaited<ReturnType<typeof consumerAgainst>>, hint: RegExp) {
  const hints = run.lines.filter((line) => line.includes("does not speak h2c:"));
  assert.equal(hints.length, 1, run.lines.join("\n"));
  assert.match(hints[0], hint);
  const failed = run.lines.filter((line) => line.startsWith("Greet failed: "));
  assert.ok(failed.length >= CALLS, run.lines.join("\n"));
  for (const line of failed) {
    assert.match(line, /^Greet failed: unavailable: 127\.0\.0\.1:\d+ does not speak h2c \(it /);
  }
  assert.ok(run.requests >= CALLS, `requests ${run.requests}`);
  assert.equal(run.unavailable, run.requests, "each failed call counted as unavailable");
}

Deno.test("transport: our consumer at its defaults against an HTTP/1.1-only dubbo-js server says once to use --protocol=triple --http=1.1", async () => {
  const server = await startDubboJsServer();
  try {
    const defaults = await consumerAgainst(server.http1);
    assertHintOnce(
      defaults,
      /^provider 127\.0\.0\.1:\d+ does not speak h2c: it answered the HTTP\/2 preface in HTTP\/1\.1; this consumer calls with --protocol=grpc --http=2: call it with --protocol=triple --http=1\.1$/,
    );

    const tripleOverH2c = await consumerAgainst(server.http1, ["--protocol=triple", "--http=2"]);
    assertHintOnce(
      tripleOverH2c,
      /calls with --protocol=triple --http=2: call it with --http=1\.1$/,
    );

    const h2c = await consumerAgainst(server.http2);
    assert.ok(h2c.lines.some((line) => line.startsWith("Greet response: ")), h2c.lines.join("\n"));
    assert.equal(h2c.lines.filter((line) => line.includes("does not speak")).length, 0);
    assert.equal(h2c.unavailable, 0);
  } finally {
    await server.close();
  }
});

Deno.test("transport: a provider that resets the connection on the HTTP/2 preface gets the hint too", async () => {
  const script = new URL("./support/reset_on_preface.mjs", import.meta.url).pathname;
  await using server = spawnProcess("node", [script], { name: "reset-on-preface server" });
  const [, port] = await server.waitForLine(/\{"port":(\d+)\}/);
  const run = await consumerAgainst(Number(port));
  assertHintOnce(run, /does not speak h2c: it reset the connection on the HTTP\/2 preface; /);
});
