/**
 * Metrics side by side with dubbo-go v3.3.2. Names: the same traffic through a dubbo-go
 * provider and ours (and a dubbo-go consumer and ours), both scraped; every `dubbo_*`
 * family dubbo-go exports must exist on ours with the same type and label names, apart
 * from the differences listed below with their reasons. Values: known calls (successes,
 * business failures, timeouts) through each side, whose request, success and
 * failure-by-type counters must be equal, and the label values too apart from the
 * application's name and version, ip and hostname.
 */
import assert from "node:assert/strict";
import { freePort } from "../tools/ports.ts";
import { startProgram } from "./support/programs.ts";
import { startGoConsumer, startGoProvider } from "./support/peer_build.ts";
import { startZooKeeper, waitFor } from "./support/services.ts";
import { CALL_COUNTERS } from "./support/metric_names.ts";
import {
  assertWarmedUp,
  ourResults,
  startOurConsumer,
  startOurProvider,
} from "./support/interop.ts";

/** A metric family: its type and the label names its samples carry. */
interface Family {
  type: string;
  labels: string[];
}

/**
 * dubbo-go families ours deliberately does not export, with the reason. (Ours adds families
 * dubbo-go lacks, e.g. the `dubbo_<side>_rt_seconds` histogram for `histogram_quantile`
 * across instances; extras are allowed and checked in {@linkcode OURS_ONLY}.)
 */
const RT = ["avg", "last", "max", "min", "sum"];
const NO_METADATA_REPORT =
  "metadata report: ours serves metadata from the provider (MetadataService) and never pushes it to a remote report";
const DELIBERATE: Record<string, string> = Object.fromEntries([
  ...["push_num", "store_provider"].flatMap((m) =>
    ["total", "succeed_total", "failed_total"].map((s) => `dubbo_metadata_${m}_${s}`)
  ),
  ...["push", "store_provider_interface"].flatMap((m) =>
    RT.map((s) => `dubbo_${m}_rt_milliseconds_${s}`)
  ),
].map((name) => [name, NO_METADATA_REPORT]));

/** Families only ours has, on purpose (asserted present so the list stays true). */
const OURS_ONLY: Record<string, string> = {
  dubbo_provider_rt_seconds:
    "histogram, so percentiles aggregate across instances (histogram_quantile)",
  dubbo_consumer_rt_seconds: "the same, consumer side",
};

const SUFFIXES = ["_bucket", "_sum", "_count", "_created"];

/** The `dubbo_*` families of a Prometheus text exposition. */
export function families(text: string): Map<string, Family> {
  const found = new Map<string, Family>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = line.match(/^# TYPE (dubbo_\w+) (\w+)$/);
    if (type) {
      found.set(type[1], { type: type[2], labels: [] });
      labels.set(type[1], new Set());
      continue;
    }
    const sample = line.match(/^(dubbo_\w+)(?:\{(.*)\})? /);
    if (!sample) continue;
    let name = sample[1];
    if (!labels.has(name)) {
      const suffix = SUFFIXES.find((s) => name.endsWith(s) && labels.has(name.slice(0, -s.length)));
      if (!suffix) continue;
      name = name.slice(0, -suffix.length);
    }
    for (const pair of (sample[2] ?? "").matchAll(/(\w+)="(?:[^"\\]|\\.)*"/g)) {
      if (pair[1] !== "le" && pair[1] !== "quantile") labels.get(name)!.add(pair[1]);
    }
  }
  for (const [name, family] of found) family.labels = [...labels.get(name)!].sort();
  return found;
}

/**
 * A dubbo-go consumer counts some of its own calls under `dubbo_provider_*`: its metrics take
 * the side from the invoker URL's `registry.role` (dubbo-go metrics/rpc/util.go `getRole`),
 * and an invoker built from a dubbo-go provider's interface-level URL carries that
 * provider's `registry.role=3` (server/action.go writes it into the URL it registers), while
 * one built from application-level metadata is a consumer's. Registered both ways, the
 * consumer holds both kinds of invoker for the one provider and its calls split between
 * the sides; the test below asserts that the two sides together count exactly its calls.
 * Ours counts a consumer's calls as consumer only (as Java does, and dubbo-go for direct
 * and application-level calls), so these families are not compared (README
 * "Interoperability").
 */
const OTHER_SIDE = { provider: "dubbo_consumer_", consumer: "dubbo_provider_" } as const;

/** Differences of `theirs` against `ours` that no list excuses. */
function unexcused(
  side: "provider" | "consumer",
  theirs: Map<string, Family>,
  ours: Map<string, Family>,
): string[] {
  const problems: string[] = [];
  for (const [name, family] of theirs) {
    if (name in DELIBERATE) continue;
    if (name.startsWith(OTHER_SIDE[side])) continue;
    const mine = ours.get(name);
    if (!mine) problems.push(`${name}: missing on ours (${family.type})`);
    else if (mine.type !== family.type) {
      problems.push(`${name}: type ${mine.type} on ours, ${family.type} on dubbo-go`);
    } else if (mine.labels.join(",") !== family.labels.join(",")) {
      problems.push(`${name}: labels [${mine.labels}] on ours, [${family.labels}] on dubbo-go`);
    }
  }
  return problems;
}

async function scrape(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/prometheus`)).text();
}

Deno.test("dubbo-go: metrics families - parser reads types and label names", () => {
  const parsed = families([
    "# TYPE dubbo_x_total counter",
    'dubbo_x_total{a="1",b="q\\"x"} 1',
    "# TYPE dubbo_h histogram",
    'dubbo_h_bucket{a="1",le="0.1"} 1',
    'dubbo_h_sum{a="1"} 1',
    "# TYPE go_gc gauge",
    "go_gc 1",
  ].join("\n"));
  assert.deepEqual(Object.fromEntries(parsed), {
    dubbo_x_total: { type: "counter", labels: ["a", "b"] },
    dubbo_h: { type: "histogram", labels: ["a"] },
  });
});

Deno.test("dubbo-go: metrics compare - every dubbo_* family a dubbo-go provider and consumer export exists on ours with the same type and labels", async () => {
  await using zk = await startZooKeeper();
  // Providers: dubbo-go registers both layouts (so its registry families appear), ours its
  // default; the same 30 calls from a direct dubbo-go consumer to each, ~30 % failing.
  await using goProvider = await startGoProvider({
    zk: zk.address,
    register: "all",
    failRate: 0.3,
  });
  const port = await freePort();
  const metricsPort = await freePort();
  await using ours = startProgram("server", [
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--push=false",
    "--failure-rate=0.3",
    "--delay=1ms",
  ], { ZK_ADDRESS: zk.address });
  await ours.waitForLine(/registered in ZooKeeper/);
  for (const target of [goProvider.port, port]) {
    await using consumer = await startGoConsumer({
      register: "none",
      url: `tri://127.0.0.1:${target}`,
      n: 30,
    });
    await consumer.waitForLine(/^SUMMARY /m, 60_000);
  }

  // Consumers: both through ZooKeeper against the dubbo-go provider, 30 calls each.
  await using goConsumer = await startGoConsumer({
    zk: zk.address,
    register: "all",
    n: 30,
    warmup: "20s",
    retries: 0, // one attempt per call: the counters below count calls
    linger: true,
  });
  await goConsumer.waitForLine(/^SUMMARY /m, 60_000);
  // The dubbo_provider_* families of the consumer (see OTHER_SIDE) are its own calls: with
  // its consumer-side ones they count each of them once, the warm-up's included.
  const goCalls = 30 + (assertWarmedUp(goConsumer).reached ? 1 : 0);
  const goConsumerText = await scrape(goConsumer.metricsPort);
  const bySide = {
    consumer: sum(samples(goConsumerText, "dubbo_consumer_requests_total", GREET_LABELS)),
    provider: sum(samples(goConsumerText, "dubbo_provider_requests_total", GREET_LABELS)),
  };
  assert.equal(bySide.consumer + bySide.provider, goCalls, JSON.stringify(bySide));
  const ourConsumerMetrics = await freePort();
  await using ourConsumer = startProgram("client", [
    "--host=127.0.0.1",
    `--metrics-port=${ourConsumerMetrics}`,
    "--push=false",
    "--interval=10ms",
  ], { ZK_ADDRESS: zk.address });
  await waitFor(
    "30 calls from our consumer",
    () => (ourConsumer.output().match(/Greet (response|failed)/g)?.length ?? 0) >= 30,
    30_000,
  );

  const pairs = [
    ["provider", await scrape(goProvider.metricsPort), await scrape(metricsPort)],
    ["consumer", goConsumerText, await scrape(ourConsumerMetrics)],
  ] as const;
  const problems: string[] = [];
  for (const [side, theirsText, oursText] of pairs) {
    const theirs = families(theirsText);
    const mine = families(oursText);
    assert.ok(theirs.size >= 20, `dubbo-go ${side} exported only ${[...theirs.keys()]}`);
    problems.push(...unexcused(side, theirs, mine).map((p) => `${side}: ${p}`));
    for (const [name, reason] of Object.entries(OURS_ONLY)) {
      if (!name.startsWith(`dubbo_${side}_`)) continue;
      assert.equal(mine.get(name)?.type, "histogram", `${name} (${reason}) missing on ours`);
      assert.ok(!theirs.has(name), `${name} is no longer ours only`);
    }
  }
  assert.deepEqual(problems, []);
});

/** One sample: its labels and value. */
interface Sample {
  labels: Record<string, string>;
  value: number;
}

const GREET_LABELS = { interface: "greet.GreetService", method: "Greet" };

/** The samples of `name` in a text exposition whose labels include `match`. */
export function samples(text: string, name: string, match: Record<string, string> = {}): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^(\w+)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    if (Object.entries(match).some(([k, v]) => labels[k] !== v)) continue;
    found.push({ labels, value: Number(m[3]) });
  }
  return found;
}

function sum(found: Sample[]): number {
  return found.reduce((total, s) => total + s.value, 0);
}

Deno.test("dubbo-go: metrics values - samples() reads labels and values", () => {
  const text = [
    "# TYPE dubbo_x_total counter",
    'dubbo_x_total{method="Greet",a="q\\"x"} 3',
    'dubbo_x_total{method="Other"} 1',
    "dubbo_y 2",
  ].join("\n");
  assert.deepEqual(samples(text, "dubbo_x_total", { method: "Greet" }), [
    { labels: { method: "Greet", a: 'q\\"x' }, value: 3 },
  ]);
  assert.deepEqual(samples(text, "dubbo_y"), [{ labels: {}, value: 2 }]);
});

/** The call counters compared, with their `_aggregate` (sliding window) gauges. */
const COUNTERS = CALL_COUNTERS.flatMap((c) => [c, `${c}_aggregate`]);

/** Labels that name the process, not the call: allowed to differ. */
const PROCESS_LABELS = ["application_name", "application_version", "ip", "hostname"];

/**
 * Greet's counters of `side` on a scrape: `{ "<family>": "<value>" }` (a series dubbo-go
 * has not made yet reads 0), and `{ "<family> labels": "<labels>" }` for each series that
 * exists, without the labels that name the process.
 */
function callCounters(text: string, side: "provider" | "consumer"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const counter of COUNTERS) {
    const name = `dubbo_${side}_${counter}`;
    const found = samples(text, name, GREET_LABELS);
    assert.ok(found.length <= 1, `${name}: ${found.length} Greet series`);
    out[name] = String(found[0]?.value ?? 0);
    if (found[0]) {
      out[`${name} labels`] = Object.entries(found[0].labels)
        .filter(([k]) => !PROCESS_LABELS.includes(k))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`).join(",");
    }
  }
  return out;
}

/** `family=dubbo-go/ours` for the counters either side has above 0 (for the log). */
function nonZero([theirs, ours]: readonly [Record<string, string>, Record<string, string>]) {
  return Object.keys(theirs)
    .filter((k) => !k.endsWith(" labels") && !k.endsWith("_aggregate"))
    .filter((k) => theirs[k] !== "0" || ours[k] !== "0")
    .map((k) => `${k.replace(/^dubbo_\w+?_requests_/, "")}=${theirs[k]}/${ours[k]}`).join(" ");
}

/** Known calls: each kind of provider, the calls made to it, the callers' deadline. */
const KINDS = {
  ok: { calls: 6, timeout: "3s", go: {}, ours: [] as string[] },
  business: { calls: 4, timeout: "3s", go: { failRate: 1 }, ours: ["--failure-rate=1"] },
  // dubbo-go's handler stops at the caller's deadline (the seed's sleeps through it).
  timeout: {
    calls: 3,
    timeout: "150ms",
    go: { delay: "800ms", honorDeadline: true },
    ours: ["--delay=800ms"],
  },
} as const;

Deno.test("dubbo-go: metrics values - the same known calls (successes, business failures, timeouts) give equal counters and label values on its side and ours", async () => {
  const providers = await Promise.all(
    Object.values(KINDS).map(async (kind) => ({
      go: await startGoProvider({ register: "none", ...kind.go }),
      ours: await startOurProvider(undefined, [...kind.ours]),
    })),
  );
  try {
    const problems: string[] = [];
    const compare = (
      what: string,
      theirs: Record<string, string>,
      ours: Record<string, string>,
    ) => {
      for (const [name, value] of Object.entries(theirs)) {
        if (ours[name] !== value) {
          problems.push(`${what} ${name}: dubbo-go ${value}, ours ${ours[name]}`);
        }
      }
    };
    const kinds = Object.entries(KINDS);
    for (const [i, [kind, spec]] of kinds.entries()) {
      const { go, ours } = providers[i];
      // Providers: a dubbo-go consumer (no retries) makes the calls to each.
      const goConsumers = [];
      for (const port of [go.port, ours.port]) {
        const consumer = await startGoConsumer({
          register: "none",
          url: `tri://127.0.0.1:${port}`,
          n: spec.calls,
          timeout: spec.timeout,
          retries: 0,
          linger: true,
        });
        goConsumers.push(consumer);
        await consumer.waitForLine(/^SUMMARY /m, 60_000);
      }
      await waitFor(
        `${kind}: both providers done`,
        async () =>
          sum(samples(
              await scrape(ours.metricsPort),
              "dubbo_provider_requests_total",
              GREET_LABELS,
            )) === spec.calls &&
          sum(
              samples(await scrape(go.metricsPort), "dubbo_provider_requests_total", GREET_LABELS),
            ) === spec.calls,
        10_000,
      );
      const providerSides = [
        callCounters(await scrape(go.metricsPort), "provider"),
        callCounters(await scrape(ours.metricsPort), "provider"),
      ] as const;
      compare(`${kind} provider`, ...providerSides);
      console.log(`${kind} provider, dubbo-go / ours: ${nonZero(providerSides)}`);
      // Consumers: ours makes the same calls to the dubbo-go provider; compared with the
      // dubbo-go consumer's calls to it.
      const ourConsumer = await startOurConsumer(undefined, [
        `--url=tri://127.0.0.1:${go.port}`,
        "--count=0",
        `--concurrency=${spec.calls}`,
        "--interval=10m",
        "--retries=0",
        `--timeout=${spec.timeout}`,
      ]);
      try {
        await waitFor(
          `${kind}: our consumer's calls`,
          () => ourResults(ourConsumer.program.output()).length >= spec.calls,
          30_000,
        );
        await waitFor(
          `${kind}: our consumer's counters`,
          async () =>
            sum(
              samples(
                await scrape(ourConsumer.metricsPort),
                "dubbo_consumer_requests_total",
                GREET_LABELS,
              ),
            ) === spec.calls,
        );
        const consumerSides = [
          callCounters(await scrape(goConsumers[0].metricsPort), "consumer"),
          callCounters(await scrape(ourConsumer.metricsPort), "consumer"),
        ] as const;
        compare(`${kind} consumer`, ...consumerSides);
        console.log(`${kind} consumer, dubbo-go / ours: ${nonZero(consumerSides)}`);
      } finally {
        await ourConsumer.program.stop();
        for (const consumer of goConsumers) await consumer.stop();
      }
    }
    assert.deepEqual(problems, []);
  } finally {
    for (const { go, ours } of providers) {
      await go.stop();
      await ours.program.stop();
    }
  }
});
