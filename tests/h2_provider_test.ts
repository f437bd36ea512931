// The provider program's h2c, served by lib/h2, against the real peers at load: h2spec (all
// 145 cases), ghz (grpc-go) and grpc-js (in a process of its own) with 200,000 calls each on one connection × 32
// streams (zero errors, RSS flat after warm-up), and h2load with a gRPC body (all 2xx, then
// its GOAWAY; the same process answers after).
import assert from "node:assert/strict";
import { rssBytes as rss, startProviderProcess } from "./support/raw_http.ts";
import { runCommand } from "./support/go_tools.ts";
import { ghz, grpcjsLoad, h2spec } from "./support/h2_server.ts";

Deno.test("provider h2c: h2spec passes all 145 cases", async () => {
  await using server = await startProviderProcess();
  const summary = await h2spec(server.port);
  assert.deepEqual(summary.counts, [145, 145, 0, 0], summary.failures);
});

Deno.test("provider h2c: ghz, one connection × 32 streams, 200,000 calls, zero errors, RSS flat", async () => {
  await using server = await startProviderProcess();
  const port = server.port;
  const warm = await ghz(port, 20_000);
  assert.deepEqual(warm.statusCodeDistribution, { OK: 20_000 });
  const warmRss = rss(server.pid);
  const report = await ghz(port, 200_000);
  assert.deepEqual(
    report.statusCodeDistribution,
    { OK: 200_000 },
    JSON.stringify(report.errorDistribution),
  );
  const after = rss(server.pid);
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log(`provider RSS: ${mb(warmRss)} after warm-up, ${mb(after)} after 200,000 calls`);
  assert.ok(after - warmRss < 32 * 1024 * 1024, `RSS grew from ${mb(warmRss)} to ${mb(after)}`);
});

Deno.test("provider h2c: grpc-js, one channel × 32 concurrent, 200,000 calls, zero errors", async () => {
  await using server = await startProviderProcess();
  assert.deepEqual(await grpcjsLoad(server.port, 200_000, 32), {
    ok: 200_000,
    failed: 0,
    errors: {},
  });
});

Deno.test("provider h2c: h2load 100,000 gRPC calls on one connection all 2xx, then its GOAWAY; the process serves on", async () => {
  await using server = await startProviderProcess();
  const port = server.port;
  const body = await Deno.makeTempFile({ prefix: "h2load-greet-" });
  try {
    // A gRPC frame of GreetRequest{name: "h2load"}.
    const name = new TextEncoder().encode("h2load");
    await Deno.writeFile(
      body,
      Uint8Array.from([0, 0, 0, 0, name.length + 2, 0x0a, name.length, ...name]),
    );
    const url = `http://127.0.0.1:${port}/greet.GreetService/Greet`;
    const args = [
      "-c1",
      "-m32",
      "-n100000",
      "-d",
      body,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
    ];
    const result = await runCommand("h2load", [...args, url], 300_000);
    assert.match(result.stdout, /status codes: 100000 2xx, 0 3xx, 0 4xx, 0 5xx/, result.stdout);
    assert.match(result.stdout, /100000 succeeded, 0 failed, 0 errored, 0 timeout/);
    const after = await ghz(port, 100);
    assert.deepEqual(after.statusCodeDistribution, { OK: 100 });
  } finally {
    await Deno.remove(body);
  }
});
