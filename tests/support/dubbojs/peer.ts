/**
 * A real Apache dubbo-js 3.0.0-alpha peer for the interop tests, run as a separate
 * program with this directory's own config and lock (dubbo-js needs protobuf-es v1):
 *
 * - `serve [--require-header]`: a dubbo-js server (dubbo-node adapter) for
 *   greet.GreetService on two loopback ports, HTTP/1.1 and h2c; prints
 *   `{"http1":<port>,"http2":<port>}` and serves until stdin closes. The name picks
 *   the behaviour: `fail` → unknown "random error", `exhaust` → resource_exhausted,
 *   `slow` → answers after 3 s, otherwise echo. `GET /stats` counts gzipped requests.
 * - `call <json>`: a dubbo-js client; the JSON has `url`, `http` ("1.1"|"2"), `binary`,
 *   `gzip` (send compressed), `grpc` (gRPC transport) and `calls` (`[{name, repeat?, timeoutMs?}]`); prints one
 *   JSON array of `{greeting (first 100 chars), length}` or `{code, message}`.
 *
 * @module
 */
import http from "node:http";
import http2 from "node:http2";
import { Code, createPromiseClient, DubboError } from "@apachedubbo/dubbo";
import {
  compressionGzip,
  createDubboTransport,
  createGrpcTransport,
  dubboNodeAdapter,
} from "@apachedubbo/dubbo-node";
import { GreetService } from "./greet_v1.ts";

let gzipped = 0;

async function greet(request: { name: string }) {
  if (request.name === "fail") throw new DubboError("random error", Code.Unknown);
  if (request.name === "exhaust") throw new DubboError("too many", Code.ResourceExhausted);
  if (request.name === "slow") await new Promise((resolve) => setTimeout(resolve, 3000));
  return { greeting: request.name };
}

async function serve(requireHeader: boolean) {
  const handler = dubboNodeAdapter({
    // `as never`: dubbo-js's declarations see protobuf-es v1's CommonJS types, ours the
    // ESM ones; the objects are the same at run time.
    routes: (router) => router.service(GreetService as never, { greet } as never),
    requireConnectProtocolHeader: requireHeader,
    acceptCompression: [compressionGzip],
  });
  const wrapped = (req: http.IncomingMessage | http2.Http2ServerRequest, res: never) => {
    if (req.method === "GET" && req.url === "/stats") {
      (res as http.ServerResponse).end(JSON.stringify({ gzipped }));
      return;
    }
    const encoding = req.headers["content-encoding"] ?? req.headers["grpc-encoding"];
    if (encoding === "gzip") gzipped++;
    handler(req as never, res);
  };
  const h1 = http.createServer(wrapped as never);
  const h2 = http2.createServer(wrapped as never);
  await new Promise<void>((resolve) => h1.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", resolve));
  const port = (server: { address(): unknown }) => (server.address() as { port: number }).port;
  console.log(JSON.stringify({ http1: port(h1), http2: port(h2) }));
  // Serve until the test closes our stdin.
  for await (const _ of Deno.stdin.readable) { /* drain */ }
  h1.close();
  h2.close();
  Deno.exit(0);
}

interface CallSpec {
  url: string;
  http: "1.1" | "2";
  binary: boolean;
  gzip: boolean;
  /** `grpc` uses dubbo-node's gRPC transport (HTTP/2) instead of Triple unary. */
  grpc?: boolean;
  /** `repeat` sends `name` repeated that many times (large messages without huge argv). */
  calls: { name: string; repeat?: number; timeoutMs?: number }[];
}

async function call(spec: CallSpec) {
  const common = {
    baseUrl: spec.url,
    sendCompression: spec.gzip ? compressionGzip : undefined,
    acceptCompression: [compressionGzip],
    compressMinBytes: 1024,
  };
  const transport = spec.grpc
    ? createGrpcTransport({ ...common, httpVersion: "2" })
    : createDubboTransport({ ...common, httpVersion: spec.http, useBinaryFormat: spec.binary });
  const client = createPromiseClient(GreetService as never, transport) as unknown as {
    greet(
      request: { name: string },
      options: { timeoutMs?: number },
    ): Promise<{ greeting: string }>;
  };
  const results = [];
  for (const { name, repeat, timeoutMs } of spec.calls) {
    try {
      const response = await client.greet({ name: name.repeat(repeat ?? 1) }, { timeoutMs });
      results.push({ greeting: response.greeting.slice(0, 100), length: response.greeting.length });
    } catch (error) {
      const e = DubboError.from(error);
      results.push({ code: Code[e.code], message: e.rawMessage });
    }
  }
  console.log(JSON.stringify(results));
  Deno.exit(0);
}

const [command, argument] = Deno.args;
if (command === "serve") await serve(argument === "--require-header");
else if (command === "call") await call(JSON.parse(argument));
else {
  console.error("usage: peer.ts serve [--require-header] | call <json>");
  Deno.exit(2);
}
