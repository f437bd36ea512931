/**
 * Provider throughput vs a bare `Deno.serve` JSON echo, measured in one run.
 *
 * A load generator (fetch, keep-alive, `RPC_BENCH_CONCURRENCY` requests in flight,
 * default 32) drives each server for `RPC_BENCH_SECONDS` (default 6, split into `RPC_BENCH_ROUNDS` = 3 interleaved
 * rounds) after a warm-up;
 * the servers run in a separate process (bench/_rpc_servers.ts). Prints requests/s and
 * the ratio to bare Deno.serve for HTTP/1.1 JSON and h2c JSON. Goal: ≥ 0.8× on HTTP/1.1.
 * Run: `deno bench -A bench/` (or just this file).
 */
import { GREET_PATH } from "../lib/rpc/mod.ts";

const SECONDS = Number(Deno.env.get("RPC_BENCH_SECONDS") ?? 6);
const CONCURRENCY = Number(Deno.env.get("RPC_BENCH_CONCURRENCY") ?? 32);
const BODY = JSON.stringify({ name: "hello world" });

interface Ports {
  bare: number;
  provider: number;
  providerWithMetrics: number;
}

async function startServers(): Promise<{ ports: Ports; stop(): Promise<void>; kill(): void }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_rpc_servers.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bench servers exited before reporting their ports");
    text += value;
  }
  const ports = JSON.parse(text.split("\n")[0]) as Ports;
  return {
    ports,
    async stop() {
      await child.stdin.close();
      await reader.cancel();
      await child.status;
    },
    kill() {
      child.kill();
    },
  };
}

/** Fixed concurrency of keep-alive requests for a fixed time; returns requests/s. */
async function load(port: number, client: Deno.HttpClient, seconds: number): Promise<number> {
  const url = `http://127.0.0.1:${port}${GREET_PATH}`;
  let completed = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: BODY,
          client,
        });
        await response.arrayBuffer();
        if (response.status === 200) completed++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (failed > 0) throw new Error(`${failed} requests failed against port ${port}`);
  return completed / ((performance.now() - start) / 1000);
}

/** Rounds per target; rounds interleave the targets so machine noise hits all alike. */
const ROUNDS = Number(Deno.env.get("RPC_BENCH_ROUNDS") ?? 3);

async function measure(): Promise<string[]> {
  const servers = await startServers();
  const h1 = Deno.createHttpClient({ http1: true, http2: false });
  const h2c = Deno.createHttpClient({ http1: false, http2: true });
  const lines: string[] = [];
  try {
    const { bare, provider, providerWithMetrics } = servers.ports;
    for (const [label, client] of [["HTTP/1.1 JSON", h1], ["h2c JSON", h2c]] as const) {
      const targets = [
        ["bare Deno.serve", bare],
        ["provider (no-op observer)", provider],
        ["provider (lib/metrics)", providerWithMetrics],
      ] as const;
      for (const [, port] of targets) await load(port, client, 0.5); // warm up
      const totals = new Map<string, number>(targets.map(([name]) => [name, 0]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, port] of targets) {
          totals.set(
            name,
            (totals.get(name) as number) + await load(port, client, SECONDS / ROUNDS),
          );
        }
      }
      const baseline = totals.get("bare Deno.serve") as number;
      for (const [name, total] of totals) {
        lines.push(
          `${label.padEnd(14)} ${name.padEnd(26)} ${
            (total / ROUNDS).toFixed(0).padStart(7)
          } req/s  ` +
            `${(total / baseline).toFixed(2)}×`,
        );
      }
    }
  } finally {
    h1.close();
    h2c.close();
    await servers.stop();
  }
  return lines;
}

const lines = await measure();
console.log(
  `\nrpc throughput (${CONCURRENCY} concurrent keep-alive requests, ${SECONDS}s per target ` +
    `in ${ROUNDS} interleaved rounds, ratio vs bare Deno.serve in the same run)\n` +
    `${lines.join("\n")}\n`,
);

// A per-call latency entry so `deno bench` also reports this file in its table.
const single = await startServers();
const client = Deno.createHttpClient({ http1: true, http2: false });
const url = `http://127.0.0.1:${single.ports.provider}${GREET_PATH}`;
const bareUrl = `http://127.0.0.1:${single.ports.bare}${GREET_PATH}`;
const post = async (target: string) => {
  const response = await fetch(target, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: BODY,
    client,
  });
  await response.arrayBuffer();
};
Deno.bench(
  "rpc: one HTTP/1.1 JSON call, bare Deno.serve",
  { group: "rpc", baseline: true },
  () => post(bareUrl),
);
Deno.bench("rpc: one HTTP/1.1 JSON call, our provider", { group: "rpc" }, () => post(url));
globalThis.addEventListener("unload", () => {
  client.close();
  single.kill();
});
