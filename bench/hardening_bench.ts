/**
 * What issue 13's hardening costs: the provider's HTTP/1.1 and h2c throughput today
 * against the provider before the hardening (the commit bench/_baseline.ts names, checked
 * out with `git worktree add` into a temp dir and run from there), with a
 * bare `Deno.serve` echo and Node's own `http`/`http2` servers as references, all in one
 * run (goal: after ≥ 0.90× before on both transports).
 *
 * Every server runs in its own process; the load generator (bench/_load.ts) runs here.
 * After a warm-up, each target is measured once per round, in an order that rotates every
 * round; reported per target: median requests/s and median server CPU µs per request (from
 * /proc, summed over threads). Knobs: `HARDEN_BENCH_ROUNDS` (12), `HARDEN_BENCH_SECONDS`
 * (0.5), `HARDEN_BENCH_CONCURRENCY` (32), `HARDEN_BENCH_BASELINE` (another commit to compare
 * with, e.g. `main`). Run: `deno task bench bench/hardening_bench.ts`
 * (about 60 s; Linux only).
 */
import { median, processCpuNanos } from "./_proc.ts";
import { pathOf } from "../lib/triple/mod.ts";
import { GREET } from "../lib/greet/mod.ts";
import { type Baseline, checkOutBaseline } from "./_baseline.ts";
import { type Drive, loadH2c, loadHttp1 } from "./_load.ts";

const ROUNDS = Number(Deno.env.get("HARDEN_BENCH_ROUNDS") ?? 12);
const SECONDS = Number(Deno.env.get("HARDEN_BENCH_SECONDS") ?? 0.5);
const CONCURRENCY = Number(Deno.env.get("HARDEN_BENCH_CONCURRENCY") ?? 32);
const BODY = JSON.stringify({ name: "hello world" });
const GREET_PATH = pathOf(GREET);

interface Server {
  ports: { http1: number; h2c: number };
  pid: number;
  stop(): Promise<void>;
}

async function spawn(command: string, args: string[], cwd?: string): Promise<Server> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${args.join(" ")} exited`);
    text += value;
  }
  const line = JSON.parse(text.slice(0, text.indexOf("\n")));
  const writer = child.stdin.getWriter();
  return {
    ports: line.port ? { http1: line.port, h2c: line.port } : line,
    pid: child.pid,
    stop: async () => {
      await writer.close().catch(() => {});
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}

type Transport = "http1" | "h2c";
interface Target {
  label: string;
  server: Server;
}

async function measure(targets: Target[], transport: Transport, drive: Drive) {
  const rps = new Map<Target, number[]>(targets.map((t) => [t, []]));
  const cpu = new Map<Target, number[]>(targets.map((t) => [t, []]));
  const once = async (target: Target, seconds: number) => {
    const before = processCpuNanos(target.server.pid);
    const result = await drive(target.server.ports[transport], {
      concurrency: CONCURRENCY,
      seconds,
    });
    return { result, cpu: processCpuNanos(target.server.pid) - before };
  };
  for (const target of targets) await once(target, 1);
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    if (round % 2 === 1) order.reverse();
    for (const target of order) {
      const { result, cpu: nanos } = await once(target, SECONDS);
      rps.get(target)!.push(result.requests / result.seconds);
      cpu.get(target)!.push(nanos / 1000 / result.requests);
    }
  }
  return {
    rps: (t: Target) => median(rps.get(t)!),
    cpu: (t: Target) => median(cpu.get(t)!),
  };
}

const servers: Server[] = [];
let baseline: Baseline | undefined;
try {
  const script = new URL("./_hardening_servers.ts", import.meta.url).pathname;
  const deno = (kind: string) => spawn(Deno.execPath(), ["run", "-A", script, kind]);
  baseline = await checkOutBaseline(Deno.env.get("HARDEN_BENCH_BASELINE"));
  console.log(`provider before hardening: commit ${baseline.commit.slice(0, 7)} (git worktree)`);
  const before = await spawn(Deno.execPath(), baseline.command.args, baseline.command.cwd);
  const after = await deno("after");
  const bare = await deno("bare");
  const node = await spawn("node", [
    new URL("./_node_greet_server.mjs", import.meta.url).pathname,
  ]);
  servers.push(before, after, bare, node);
  const targets: Target[] = [
    { label: "provider before hardening", server: before },
    { label: "provider after hardening", server: after },
    { label: "bare Deno.serve", server: bare },
    { label: "Node http / http2", server: node },
  ];
  const drives: [Transport, string, Drive][] = [
    ["http1", "HTTP/1.1", (port, shape) => loadHttp1(port, GREET_PATH, BODY, shape)],
    ["h2c", "h2c", (port, shape) => loadH2c(port, GREET_PATH, BODY, shape)],
  ];
  for (const [transport, name, drive] of drives) {
    const { rps, cpu } = await measure(targets, transport, drive);
    for (const target of targets) {
      console.log(
        `${name.padEnd(9)} ${target.label.padEnd(26)} ${rps(target).toFixed(0).padStart(6)} req/s` +
          `  server CPU ${cpu(target).toFixed(1)} µs/req`,
      );
    }
    const [b, a, d, n] = targets;
    console.log(
      `${name.padEnd(9)} after / before: ${(rps(a) / rps(b)).toFixed(2)}× req/s, ` +
        `${(cpu(b) / cpu(a)).toFixed(2)}× by CPU per request (goal ≥ 0.90×); ` +
        `after / bare Deno.serve ${(rps(a) / rps(d)).toFixed(2)}×, after / Node ${
          (rps(a) / rps(n)).toFixed(2)
        }×`,
    );
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await baseline?.remove();
}
