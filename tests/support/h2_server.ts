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
import { runCommand, runGoTool } from "./go_tools.ts";

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

/** Runs h2spec (all cases) against `port`: [tests, passed, skipped, failed] and the failures. */
export async function h2spec(port: number): Promise<{ counts: number[]; failures: string }> {
  const result = await runGoTool(
    "h2spec",
    ["-h", "127.0.0.1", "-p", String(port), "-o", "2"],
    300_000,
  );
  const summary = result.stdout.match(/(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed/);
  if (!summary) {
    throw new Error(`h2spec: no summary\n${result.stdout.slice(-2000)}${result.stderr}`);
  }
  const at = result.stdout.indexOf("Failures:");
  return { counts: summary.slice(1).map(Number), failures: at < 0 ? "" : result.stdout.slice(at) };
}

const GREET_PROTO = new URL("../../proto/greet/greet.proto", import.meta.url).pathname;

/** The parts of ghz's JSON report that tests and benches read. */
export interface GhzReport {
  /** Calls made. */
  count: number;
  /** Wall time of the run, in nanoseconds. */
  total: number;
  statusCodeDistribution: Record<string, number>;
  errorDistribution?: Record<string, number>;
}

/**
 * Runs ghz (grpc-go): `calls` Greet calls carrying `name`, over `connections` connections
 * with 32 streams each (default one connection); its JSON report.
 */
export async function ghz(
  port: number,
  calls: number,
  options: { connections?: number; name?: string; timeoutMs?: number } = {},
): Promise<GhzReport> {
  const { connections = 1, name = "ghz", timeoutMs = 600_000 } = options;
  const result = await runGoTool("ghz", [
    "--insecure",
    "--proto",
    GREET_PROTO,
    "--call",
    "greet.GreetService/Greet",
    "-d",
    JSON.stringify({ name }),
    "-c",
    String(32 * connections),
    "--connections",
    String(connections),
    "-n",
    String(calls),
    "--format",
    "json",
    `127.0.0.1:${port}`,
  ], timeoutMs);
  return JSON.parse(result.stdout);
}

/**
 * Makes `calls` Greet calls with grpc-js on one channel, `concurrency` at a time, in a
 * process of its own (tests/support/grpcjs_load.ts: Deno's node:http2 under grpc-js can
 * abort its process, which must not be the test runner).
 */
export async function grpcjsLoad(
  port: number,
  calls: number,
  concurrency: number,
): Promise<{ ok: number; failed: number; errors: Record<string, number> }> {
  const load = new URL("./grpcjs_load.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  const args = [
    "run",
    "-A",
    "--config",
    config,
    load,
    String(port),
    String(calls),
    String(concurrency),
  ];
  const result = await runCommand(Deno.execPath(), args, 600_000);
  if (result.code !== 0) {
    throw new Error(`grpc-js load exited ${result.code}: ${result.stderr.slice(-2000)}`);
  }
  return JSON.parse(result.stdout);
}

if (import.meta.main) {
  const { port } = startH2Server(console.error);
  console.log(port);
}
