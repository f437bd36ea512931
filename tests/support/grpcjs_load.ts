/**
 * grpc-js as a load generator in its own process: `deno run -A --config tests/deno.json
 * tests/support/grpcjs_load.ts PORT CALLS CONCURRENCY` makes CALLS Greet calls on one channel
 * (one connection) at CONCURRENCY in flight, and prints `{"ok":N,"failed":N,"errors":{…}}`.
 * A process of its own: grpc-js runs on Deno 2.9's node:http2, which can abort the whole
 * process (denoland/deno#36788); a test runner must not be that process.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const [port, calls, concurrency] = Deno.args.map(Number);
const proto = new URL("../../proto/greet/greet.proto", import.meta.url).pathname;
const definition = grpc.loadPackageDefinition(protoLoader.loadSync(proto));
// deno-lint-ignore no-explicit-any
const Service = (definition.greet as any).GreetService;
const client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const greet = (name: string) =>
  new Promise<string>((resolve, reject) =>
    client.Greet(
      { name },
      (error: Error | null, reply: { greeting: string }) =>
        error ? reject(error) : resolve(reply.greeting),
    )
  );
let sent = 0;
let ok = 0;
const errors: Record<string, number> = {};
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (sent < calls) {
    const name = `js${sent++}`;
    try {
      if (await greet(name) === name) ok++;
      else errors["wrong greeting"] = (errors["wrong greeting"] ?? 0) + 1;
    } catch (error) {
      const text = String((error as Error).message).slice(0, 120);
      errors[text] = (errors[text] ?? 0) + 1;
    }
  }
}));
console.log(JSON.stringify({ ok, failed: calls - ok, errors }));
Deno.exit(0); // the channel is not closed: the process exit drops the connection
