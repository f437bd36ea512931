/**
 * Servers for bench/rpc_bench.ts, run in their own process so the load generator does
 * not share an event loop with them: a bare `Deno.serve` JSON echo (the baseline),
 * our provider with a no-op observer, and our provider with lib/metrics recording.
 * Prints one JSON line with the ports, then serves until stdin closes.
 *
 * @module
 */
import { NO_CALLS } from "../lib/observe.ts";
import { GREET_METHOD, GREET_SERVICE, serveProvider } from "../lib/rpc/mod.ts";
import { createMetrics } from "../lib/metrics/mod.ts";

const bare = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  async (request) => {
    const { name } = await request.json();
    return Response.json({ greeting: name });
  },
);

const base = { hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0 };
const plain = await serveProvider({ ...base, observer: NO_CALLS });
const metrics = createMetrics({
  side: "provider",
  app: "bench",
  appVersion: "1.0.0",
  hostname: "bench-host",
  ip: "127.0.0.1",
  services: [{ interface: GREET_SERVICE, method: GREET_METHOD, group: "", version: "" }],
});
const measured = await serveProvider({ ...base, observer: metrics.calls });

console.log(JSON.stringify({
  bare: bare.addr.port,
  provider: plain.port,
  providerWithMetrics: measured.port,
}));

// Serve until the parent closes our stdin.
for await (const _ of Deno.stdin.readable) { /* drain */ }
await Promise.all([bare.shutdown(), plain.close(100), measured.close(100)]);
