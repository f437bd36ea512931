/**
 * Benchmark fixtures for the cleaner: a Pushgateway of its own (in memory only: the
 * Debian build persists to a shared file by default, and 10,000 groups must not end up
 * there) seeded with many groups by parallel PUTs.
 *
 * The consistency check is off for seeding speed: with it, each PUT re-gathers every
 * group, so seeding 10,000 groups is quadratic (minutes). It does not apply to the
 * cleaner's reads and DELETEs, so the measured cycle is the same.
 *
 * @module
 */
import { freePort } from "../tools/ports.ts";
import { waitFor } from "../tools/services.ts";

/** A running in-memory Pushgateway. */
export interface BenchGateway extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts `prometheus-pushgateway` on a free loopback port with persistence off. */
export async function startBenchGateway(): Promise<BenchGateway> {
  const port = await freePort();
  const child = new Deno.Command("prometheus-pushgateway", {
    args: [
      `--web.listen-address=127.0.0.1:${port}`,
      "--persistence.file=",
      "--push.disable-consistency-check",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
  };
  try {
    await waitFor("the bench Pushgateway", async () => {
      const response = await fetch(`${url}/-/ready`);
      await response.body?.cancel();
      return response.ok;
    }, 30_000);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, close, [Symbol.asyncDispose]: close };
}

/**
 * Pushes `count` groups `{job=<prefix>N, instance=host-N:9099}` with `concurrency` PUTs
 * in flight; every other group carries a day-old `job_pushed_at_seconds`, the rest a
 * current one. Returns how many are stale.
 */
export async function seedGroups(
  url: string,
  prefix: string,
  count: number,
  concurrency = 32,
): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  let next = 0;
  let stale = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const old = index % 2 === 0;
      if (old) stale++;
      const body = [
        "# TYPE job_pushed_at_seconds gauge",
        `job_pushed_at_seconds ${old ? now - 86_400 : now}`,
        "# TYPE dubbo_consumer_requests_total counter",
        `dubbo_consumer_requests_total{method="Greet"} ${index}`,
        "",
      ].join("\n");
      const response = await fetch(
        `${url}/metrics/job/${prefix}${index}/instance/host-${index}%3A9099`,
        { method: "PUT", body },
      );
      const text = await response.text();
      if (!response.ok) throw new Error(`seed push ${index}: ${response.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return stale;
}
