/**
 * One server for bench/hardening_bench.ts, in its own process: `before` (the provider's
 * serving code before issue 13, bench/_pre_hardening/), `after` (lib/rpc today) or
 * `bare` (a bare `Deno.serve` JSON echo). Metrics off in both providers.
 * Usage: `deno run -A bench/_hardening_servers.ts <kind>`; prints `{"port":…}`, stops at
 * the end of stdin.
 *
 * @module
 */
import { serveProvider } from "../lib/rpc/mod.ts";
import { serveProvider as servePreHardening } from "./_pre_hardening/provider.ts";

const kind = Deno.args[0];
const options = { hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 };
let port: number;
let stop: () => Promise<void>;
if (kind === "bare") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const { name } = await request.json();
    return Response.json({ greeting: name });
  });
  port = server.addr.port;
  stop = () => server.shutdown();
} else if (kind === "before" || kind === "after") {
  const provider = await (kind === "before" ? servePreHardening : serveProvider)(options);
  port = provider.port;
  stop = () => provider.close(100);
} else {
  console.error("usage: _hardening_servers.ts before|after|bare");
  Deno.exit(2);
}
console.log(JSON.stringify({ port }));
for await (const _ of Deno.stdin.readable) { /* until stdin ends */ }
await stop();
