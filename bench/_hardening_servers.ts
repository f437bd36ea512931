/**
 * One server for bench/hardening_bench.ts, in its own process: `after` (the provider
 * today, serving Greet, metrics off) or `bare` (a bare `Deno.serve` JSON echo). The
 * `before` provider runs from its own checkout (bench/_baseline.ts).
 * Usage: `deno run -A bench/_hardening_servers.ts <kind>`; prints `{"port":…}`, stops at
 * the end of stdin.
 *
 * @module
 */
import { serveProvider } from "../lib/triple/mod.ts";
import { greetService } from "../lib/greet/mod.ts";

const kind = Deno.args[0];
let port: number;
let stop: () => Promise<void>;
if (kind === "bare") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const { name } = await request.json();
    return Response.json({ greeting: name });
  });
  port = server.addr.port;
  stop = () => server.shutdown();
} else if (kind === "after") {
  const provider = await serveProvider({
    hostname: "127.0.0.1",
    port: 0,
    services: [greetService({ failureRate: 0, delayMs: 0 })],
  });
  port = provider.port;
  stop = () => provider.close(100);
} else {
  console.error("usage: _hardening_servers.ts after|bare");
  Deno.exit(2);
}
console.log(JSON.stringify({ port }));
for await (const _ of Deno.stdin.readable) { /* until stdin ends */ }
await stop();
