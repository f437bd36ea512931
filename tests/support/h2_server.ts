/**
 * A small HTTP/2 server on lib/h2 for conformance and interop runs: every request gets
 * 200 with a short text body (its method and path) after its body is read; POST bodies
 * are counted. A gRPC request (`application/grpc…`) gets its own message back with
 * `grpc-status: 0` — an echo that is exactly `greet.GreetService/Greet` (request and
 * response are both `string field 1`), so gRPC load tools can drive it.
 * `deno run --allow-net=127.0.0.1 tests/support/h2_server.ts` prints the port.
 *
 * @module
 */
import { H2Server, type ServerStream } from "../../lib/h2/mod.ts";

const encoder = new TextEncoder();

/** Answers each request once its body has been read. */
export function echoHandler(stream: ServerStream): void {
  if (stream.header("content-type")?.startsWith("application/grpc")) return grpcEcho(stream);
  let bytes = 0;
  stream.ondata = (chunk) => bytes += chunk.length;
  stream.onend = () => {
    stream.respond(200, { "content-type": "text/plain" });
    stream.write(encoder.encode(`${stream.method} ${stream.path} ${bytes}\n`));
    stream.end();
  };
}

function grpcEcho(stream: ServerStream): void {
  const chunks: Uint8Array[] = [];
  stream.ondata = (chunk) => chunks.push(chunk);
  stream.onend = () => {
    stream.respond(200, { "content-type": "application/grpc" });
    for (const chunk of chunks) stream.write(chunk);
    stream.end({ "grpc-status": "0" });
  };
}

/** Serves `echoHandler` on a free loopback port until `close`. */
export function startH2Server(
  log: (line: string) => void = () => {},
): { port: number; server: H2Server; idle(): Promise<void>; close(): Promise<void> } {
  const server = new H2Server({ handler: echoHandler, log, label: "h2 test server" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = server.serveListener(listener);
  return {
    port: listener.addr.port,
    server,
    /** Resolves once no session is open (clients went away on their own). */
    async idle() {
      for (let waited = 0; server.stats.sessionsOpen > 0 && waited < 10_000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      listener.close();
      await accepting;
      await server.close(1000);
    },
  };
}

if (import.meta.main) {
  const { port } = startH2Server(console.error);
  console.log(port);
}
