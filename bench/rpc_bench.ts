/**
 * Provider throughput, metrics on vs off, and vs a bare `Deno.serve` JSON echo, measured
 * in one run (issue #5: metrics on ≥ 0.95× of metrics off).
 *
 * The servers run in their own processes (bench/_rpc_servers.ts): a bare `Deno.serve`
 * echo, and one provider whose observer is switched between no-op (metrics off) and
 * lib/metrics (metrics on) before each measurement, so on and off run the same process.
 * The load generator (bench/_load.ts: raw HTTP/1.1 keep-alive sockets, and a minimal h2c
 * client with all streams on one connection) runs here and is much cheaper than the servers.
 * After a warm-up, every target is measured once per round; the order of targets changes
 * every round (all six orders of three targets, cycled) so drift and position effects hit
 * all alike. Reported per target: median requests/s and median server CPU time per request
 * (summed over the server process's threads from /proc, less sensitive than req/s
 * to other load on the machine); ratios are ratios of those medians from this run.
 *
 * Knobs: `RPC_BENCH_ROUNDS` (24), `RPC_BENCH_SECONDS` (per target per round, 0.5),
 * `RPC_BENCH_WARMUP` (seconds per target, 1), `RPC_BENCH_CONCURRENCY` (32).
 * Run: `deno task bench bench/rpc_bench.ts` (about 85 s; Linux only, for /proc).
 */
import { pathOf } from "../lib/triple/mod.ts";
import { GREET } from "../lib/greet/mod.ts";

const GREET_PATH = pathOf(GREET);
import { median, processCpuNanos } from "./_proc.ts";
import { type Drive, loadH2c, loadHttp1 } from "./_load.ts";
import type { ObserverName, ServerKind } from "./_rpc_servers.ts";

const ROUNDS = Number(Deno.env.get("RPC_BENCH_ROUNDS") ?? 24);
const SECONDS = Number(Deno.env.get("RPC_BENCH_SECONDS") ?? 0.5);
const WARMUP = Number(Deno.env.get("RPC_BENCH_WARMUP") ?? 1);
const CONCURRENCY = Number(Deno.env.get("RPC_BENCH_CONCURRENCY") ?? 32);
const BODY = JSON.stringify({ name: "hello world" });

/** A server process under test. */
interface ServerProcess {
  port: number;
  /** CPU nanoseconds the process has used so far (all threads). */
  cpuNanos(): number;
  /** Switches the provider's observer; resolves once the server confirmed. */
  use(observer: ObserverName): Promise<void>;
  stop(): Promise<void>;
}

async function startServer(kind: ServerKind): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_rpc_servers.ts", import.meta.url).pathname, kind],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let text = "";
  const readLine = async (): Promise<string> => {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`bench server ${kind} exited`);
      text += value;
    }
    const newline = text.indexOf("\n");
    const line = text.slice(0, newline);
    text = text.slice(newline + 1);
    return line;
  };
  const { port } = JSON.parse(await readLine()) as { port: number };
  let stopped: Promise<void> | undefined;
  return {
    port,
    cpuNanos: () => processCpuNanos(child.pid),
    async use(observer) {
      await writer.write(new TextEncoder().encode(`${observer}\n`));
      const answer = await readLine();
      if (answer !== "ok") throw new Error(`bench server ${kind} answered ${answer}`);
    },
    stop() {
      stopped ??= (async () => {
        await writer.close();
        await reader.cancel();
        await child.status;
      })();
      return stopped;
    },
  };
}

/** What is measured: a server process, and for the provider which observer is on. */
interface Target {
  label: string;
  server: ServerProcess;
  observer?: ObserverName;
}

/** All orders of `items` (six for three targets). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

/** One target's samples: requests/s and server CPU µs per request, one of each per round. */
interface Samples {
  perSecond: number[];
  cpuMicrosPerRequest: number[];
}

async function measureOnce(target: Target, drive: Drive, seconds: number) {
  if (target.observer) await target.server.use(target.observer);
  const cpuBefore = target.server.cpuNanos();
  const result = await drive(target.server.port, { concurrency: CONCURRENCY, seconds });
  return { result, cpuNanos: target.server.cpuNanos() - cpuBefore };
}

/** Warm-up, then `ROUNDS` rounds in changing order; samples per target. */
async function measureTransport(targets: Target[], drive: Drive): Promise<Map<Target, Samples>> {
  for (const target of targets) await measureOnce(target, drive, WARMUP);
  const orders = permutations(targets);
  const samples = new Map<Target, Samples>(
    targets.map((t) => [t, { perSecond: [], cpuMicrosPerRequest: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of orders[round % orders.length]) {
      const { result, cpuNanos } = await measureOnce(target, drive, SECONDS);
      const own = samples.get(target)!;
      own.perSecond.push(result.requests / result.seconds);
      own.cpuMicrosPerRequest.push(cpuNanos / 1000 / result.requests);
    }
  }
  return samples;
}

function report(
  transport: string,
  [bare, off, on]: Target[],
  samples: Map<Target, Samples>,
): string[] {
  const rps = (t: Target) => median(samples.get(t)!.perSecond);
  const cpu = (t: Target) => median(samples.get(t)!.cpuMicrosPerRequest);
  const lines = [bare, off, on].map((t) => {
    const { perSecond } = samples.get(t)!;
    return `${transport.padEnd(9)} ${t.label.padEnd(22)} ${rps(t).toFixed(0).padStart(6)} req/s ` +
      `(rounds ${Math.min(...perSecond).toFixed(0)}…${Math.max(...perSecond).toFixed(0)})  ` +
      `server CPU ${cpu(t).toFixed(1)} µs/req`;
  });
  // CPU per request is less sensitive to other load on the machine than req/s; off/on
  // is the throughput ratio the CPU cost alone predicts for a CPU-bound server. The
  // per-round pairs compare on and off measured in the same round, a second or two apart.
  const paired = median(
    samples.get(on)!.perSecond.map((value, round) => value / samples.get(off)!.perSecond[round]),
  );
  lines.push(
    `${transport.padEnd(9)} metrics off / bare Deno.serve: ${(rps(off) / rps(bare)).toFixed(2)}× ` +
      `req/s, ${(cpu(bare) / cpu(off)).toFixed(2)}× by server CPU per request`,
    `${transport.padEnd(9)} metrics on / metrics off:      ${(rps(on) / rps(off)).toFixed(2)}× ` +
      `req/s (median of per-round pairs ${paired.toFixed(2)}×), ` +
      `${(cpu(off) / cpu(on)).toFixed(2)}× by server CPU per request (goal ≥ 0.95×)`,
  );
  return lines;
}

const servers: ServerProcess[] = [];
const lines: string[] = [];
try {
  const bare = await startServer("bare");
  servers.push(bare);
  const provider = await startServer("provider");
  servers.push(provider);
  const targets: Target[] = [
    { label: "bare Deno.serve", server: bare },
    { label: "provider, metrics off", server: provider, observer: "noop" },
    { label: "provider, metrics on", server: provider, observer: "metrics" },
  ];
  const http1: Drive = (port, shape) => loadHttp1(port, GREET_PATH, BODY, shape);
  const http2: Drive = (port, shape) => loadH2c(port, GREET_PATH, BODY, shape);
  lines.push(...report("HTTP/1.1", targets, await measureTransport(targets, http1)));
  lines.push(...report("h2c", targets, await measureTransport(targets, http2)));
} catch (error) {
  await Promise.all(servers.map((s) => s.stop()));
  throw error;
}
console.log(
  `\nrpc provider throughput, JSON greet, ${CONCURRENCY} requests in flight, ` +
    `${ROUNDS} rounds × ${SECONDS}s per target in rotating order after ${WARMUP}s warm-up; ` +
    `ratios of medians from this run\n${lines.join("\n")}\n`,
);

// Per-call latency entries (one HTTP/1.1 fetch at a time) so `deno bench` lists this file;
// the provider keeps metrics on from the last round.
const [bareServer, providerServer] = servers;
await providerServer.use("metrics");
const h1 = Deno.createHttpClient({ http1: true, http2: false });
const post = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}${GREET_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
    client: h1,
  });
  await response.arrayBuffer();
};
Deno.bench(
  "rpc: one HTTP/1.1 JSON call, bare Deno.serve",
  { group: "rpc", baseline: true },
  () => post(bareServer.port),
);
Deno.bench(
  "rpc: one HTTP/1.1 JSON call, provider with metrics on",
  { group: "rpc" },
  () => post(providerServer.port),
);
globalThis.addEventListener("unload", () => {
  h1.close();
  // Closing stdin is enough: each server process stops on its own.
  for (const server of servers) void server.stop();
});
