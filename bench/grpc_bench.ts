/**
 * gRPC over h2c the way Dubbo's own clients load a provider (issue 21), three servers in one
 * run:
 * - ours: `server.ts` started exactly as `deno task server` starts it (same permissions), at
 *   `--registry=none --push=false --failure-rate=0 --delay=0ms`;
 * - dubbo-go: the v3.3.2 provider from tests/peers/go (Go's net/http2 under Triple);
 * - bare `Deno.serve`: hyper's h2c answering the same gRPC body (no trailers: `Deno.serve`
 *   cannot send them), the floor of what a Deno HTTP/2 server costs.
 *
 * Loads, each with many calls on long connections as real clients do:
 * - `ghz` (grpc-go): 1 connection × 32 concurrent calls, and 8 connections × 32 (256 calls in
 *   flight); counts every non-OK status as an error. Ours and dubbo-go (bare cannot answer
 *   gRPC: ghz requires the grpc-status trailer).
 * - `h2load -m32` with the gRPC request body (content-type application/grpc, te: trailers):
 *   `-c1` and `-c8`, all three servers; every non-2xx or failed request is an error.
 *
 * Per target and load: calls/s, server CPU µs per call (/proc schedstat, all threads), the
 * server's peak RSS while loaded (sampled every 250 ms) and errors; medians over rounds run
 * in rotating order. Ratios are ours / dubbo-go and ours / bare from this run.
 *
 * Knobs: `GRPC_BENCH_CALLS` (calls per measurement, 40,000), `GRPC_BENCH_ROUNDS` (3).
 * Run: `deno bench -P bench/grpc_bench.ts` (about 3 minutes; Linux only, for /proc).
 *
 * @module
 */
import { median, processCpuNanos } from "./_proc.ts";
import { startProgram } from "../tests/support/programs.ts";
import { startGoProvider } from "../tests/support/peer_build.ts";
import { runCommand } from "../tests/support/go_tools.ts";
import { rssBytes } from "../tests/support/raw_http.ts";
import { spawnProcess } from "../tests/support/process.ts";
import { ghz } from "../tests/support/h2_server.ts";
import { freePort } from "../tools/ports.ts";

const CALLS = Number(Deno.env.get("GRPC_BENCH_CALLS") ?? 40_000);
const ROUNDS = Number(Deno.env.get("GRPC_BENCH_ROUNDS") ?? 3);
const PATH = "/greet.GreetService/Greet";
/** `greet.GreetRequest{name: "hello world"}` in a gRPC frame. */
const NAME = new TextEncoder().encode("hello world");
const MESSAGE = Uint8Array.from([0x0a, NAME.length, ...NAME]);
const FRAME = Uint8Array.from([0, 0, 0, 0, MESSAGE.length, ...MESSAGE]);

/** A server under load: where it listens and its process. */
interface Target {
  name: "ours" | "dubbo-go" | "bare Deno.serve";
  port: number;
  pid: number;
  stop(): Promise<unknown>;
}

/** One load's outcome. */
interface Outcome {
  calls: number;
  seconds: number;
  errors: number;
  /** A few words on what failed, when something did. */
  errorText: string;
}

/** A load generator: drives `port` and reports. */
interface Load {
  name: string;
  /** Which targets this load can drive. */
  fits(target: Target): boolean;
  run(port: number): Promise<Outcome>;
}

function ghzLoad(connections: number): Load {
  return {
    name: `ghz ${connections}×32`,
    fits: (target) => target.name !== "bare Deno.serve",
    async run(port) {
      const report = await ghz(port, CALLS, {
        connections,
        name: "hello world",
        timeoutMs: 300_000,
      });
      const statuses = report.statusCodeDistribution ?? {};
      const errors = Object.entries(statuses)
        .filter(([code]) => code !== "OK")
        .reduce((sum, [, n]) => sum + n, 0);
      return {
        calls: report.count,
        seconds: report.total / 1e9,
        errors,
        errorText: errors ? JSON.stringify(report.errorDistribution ?? statuses) : "",
      };
    },
  };
}

function h2load(connections: number, bodyFile: string): Load {
  return {
    name: `h2load ${connections}×32`,
    fits: () => true,
    async run(port) {
      const result = await runCommand("h2load", [
        `-c${connections}`,
        "-m32",
        `-n${CALLS}`,
        `--data=${bodyFile}`,
        "-H",
        "content-type: application/grpc",
        "-H",
        "te: trailers",
        `http://127.0.0.1:${port}${PATH}`,
      ], 300_000);
      const requests = result.stdout.match(
        /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/,
      );
      const time = result.stdout.match(/finished in ([\d.]+)(m?s)/);
      const codes = result.stdout.match(/status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/);
      if (!requests || !time || !codes) {
        throw new Error(`h2load output not understood:\n${result.stdout}${result.stderr}`);
      }
      const done = Number(requests[3]);
      const errors = CALLS - Number(codes[1]);
      return {
        calls: done,
        seconds: Number(time[1]) / (time[2] === "ms" ? 1000 : 1),
        errors,
        errorText: errors ? `${requests[0]}; ${codes[0]}` : "",
      };
    },
  };
}

/** One measurement: the load's outcome plus the server's CPU per call and peak RSS. */
interface Sample extends Outcome {
  cpuMicrosPerCall: number;
  peakRss: number;
}

async function measure(target: Target, load: Load): Promise<Sample> {
  let peakRss = rssBytes(target.pid);
  const sampler = setInterval(() => peakRss = Math.max(peakRss, rssBytes(target.pid)), 250);
  const cpuBefore = processCpuNanos(target.pid);
  try {
    const outcome = await load.run(target.port);
    const cpuNanos = processCpuNanos(target.pid) - cpuBefore;
    peakRss = Math.max(peakRss, rssBytes(target.pid));
    return { ...outcome, cpuMicrosPerCall: cpuNanos / 1000 / outcome.calls, peakRss };
  } finally {
    clearInterval(sampler);
  }
}

async function startOurs(): Promise<Target> {
  const port = await freePort();
  const server = startProgram("server", [
    "--registry=none",
    "--push=false",
    "--failure-rate=0",
    "--delay=0ms",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${await freePort()}`,
  ]);
  await server.waitForLine(/provider .* on tri:\/\//, 30_000);
  return { name: "ours", port, pid: server.pid, stop: () => server.stop(5000) };
}

async function startDubboGo(): Promise<Target> {
  const provider = await startGoProvider({ register: "none" });
  return {
    name: "dubbo-go",
    port: provider.port,
    pid: provider.pid,
    stop: () => provider.stop(5000),
  };
}

/** A bare `Deno.serve` in its own process, answering each request with its own gRPC body. */
async function startBare(): Promise<Target> {
  const port = await freePort();
  const source = `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {
    console.log("listening"); } }, async (request) => new Response(await request.bytes(),
    { headers: { "content-type": "application/grpc", "grpc-status": "0" } }));`;
  const server = spawnProcess(Deno.execPath(), ["eval", source], { name: "bare Deno.serve" });
  await server.waitForLine(/^listening$/m);
  return { name: "bare Deno.serve", port, pid: server.pid, stop: () => server.stop() };
}

const MIB = 1024 * 1024;

/** Median calls per second of a target's samples. */
const rateOf = (samples: Sample[]) => median(samples.map((s) => s.calls / s.seconds));
/** Median server CPU per call of a target's samples, in µs. */
const cpuOf = (samples: Sample[]) => median(samples.map((s) => s.cpuMicrosPerCall));

function row(load: Load, target: Target, samples: Sample[]): string {
  const rate = rateOf(samples);
  const cpu = cpuOf(samples);
  const rss = Math.max(...samples.map((s) => s.peakRss)) / MIB;
  const errors = samples.reduce((sum, s) => sum + s.errors, 0);
  const why = samples.map((s) => s.errorText).filter(Boolean)[0] ?? "";
  return `${load.name.padEnd(13)} ${target.name.padEnd(16)} ${
    rate.toFixed(0).padStart(6)
  } calls/s  ` +
    `CPU ${cpu.toFixed(1).padStart(6)} µs/call  peak RSS ${rss.toFixed(0).padStart(4)} MiB  ` +
    `errors ${errors}/${samples.length * CALLS}${why ? ` (${why.slice(0, 200)})` : ""}`;
}

function ratios(load: Load, results: Map<Target, Sample[]>): string[] {
  const by = (name: Target["name"]) => [...results].find(([t]) => t.name === name)?.[1];
  const ours = by("ours")!;
  const lines: string[] = [];
  for (const other of ["dubbo-go", "bare Deno.serve"] as const) {
    const theirs = by(other);
    if (!theirs) continue;
    lines.push(
      `${load.name.padEnd(13)} ours / ${other}: ${
        (rateOf(ours) / rateOf(theirs)).toFixed(2)
      }× calls/s, ` +
        `${(cpuOf(ours) / cpuOf(theirs)).toFixed(2)}× CPU per call`,
    );
  }
  return lines;
}

const bodyFile = await Deno.makeTempFile({ suffix: ".grpc" });
await Deno.writeFile(bodyFile, FRAME);
const targets: Target[] = [];
const lines: string[] = [];
try {
  targets.push(await startOurs(), await startDubboGo(), await startBare());
  const loads = [ghzLoad(1), ghzLoad(8), h2load(1, bodyFile), h2load(8, bodyFile)];
  for (const load of loads) {
    const fitting = targets.filter((t) => load.fits(t));
    for (const target of fitting) await load.run(target.port); // warm-up (JIT, pools)
    const results = new Map<Target, Sample[]>(fitting.map((t) => [t, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round, so drift and position hit every target alike.
      for (let i = 0; i < fitting.length; i++) {
        const target = fitting[(round + i) % fitting.length];
        results.get(target)!.push(await measure(target, load));
      }
    }
    for (const target of fitting) lines.push(row(load, target, results.get(target)!));
    lines.push(...ratios(load, results));
  }
} finally {
  await Promise.all(targets.map((t) => t.stop()));
  await Deno.remove(bodyFile);
}
console.log(
  `\ngRPC over h2c, ${CALLS} calls per measurement, median of ${ROUNDS} rounds in rotating ` +
    `order after a warm-up; peak RSS is the largest seen over all rounds\n${lines.join("\n")}\n`,
);

// `deno bench` lists a file only with an entry; the measurements above are the point.
Deno.bench("grpc: gRPC frame of the bench's request", () => {
  FRAME.slice();
});
