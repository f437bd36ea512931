/**
 * Users' own metrics (README "Your own metrics"): the README's example provider
 * (`examples/business_metrics_server.ts`, `deno task example`) registers a real prom-client
 * counter with a label and a histogram next to Dubbo's families. Scraped as text, then
 * OpenMetrics, then text again, each body is validated by real parsers: the text bodies by
 * `promtool check metrics` (which reads only the text format), the OpenMetrics body by the
 * suite's OpenMetrics parser (the reference one, tests/support/openmetrics.ts), and all
 * three by a real Prometheus that scrapes each body as it was served (its text parser for the
 * text bodies, its OpenMetrics parser for the other). The metrics are found in a real
 * Pushgateway after a push. A prom-client metric named like one of ours stops the program at
 * start with one line and exit code 2.
 */
import assert from "node:assert/strict";
import { startProgramWith, taskArgs } from "./support/programs.ts";
import { freePort } from "../tools/ports.ts";
import type { Service } from "../tools/services.ts";
import { startPrometheus, startPushgateway, waitFor } from "./support/services.ts";
import { instantQuery } from "./support/promql.ts";
import { parseExposition } from "./support/exposition.ts";
import { parseOpenMetrics } from "./support/openmetrics.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CALLS = 5;

interface Scrape {
  body: string;
  contentType: string;
}

async function scrape(url: string, openMetrics: boolean): Promise<Scrape> {
  const accept = openMetrics ? "application/openmetrics-text; version=1.0.0" : "text/plain";
  const response = await fetch(url, { headers: { accept } });
  assert.equal(response.status, 200);
  return { body: await response.text(), contentType: response.headers.get("content-type")! };
}

/** The business families' lines of an exposition. */
function businessLines(body: string): string[] {
  return body.split("\n").filter((line) => /^(# (HELP|TYPE) )?greet_/.test(line));
}

/** `promtool check metrics`: parses the text format and lints it; returns its findings. */
async function promtool(body: string): Promise<{ code: number; findings: string[] }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(body));
  await writer.close();
  const output = await child.output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, findings: text.split("\n").filter(Boolean) };
}

/** Asserts promtool parsed `body` and found nothing to say about the business families. */
async function assertPromtoolAccepts(body: string, what: string): Promise<void> {
  const { code, findings } = await promtool(body);
  // Exit 3 is lint advice only; our dubbo-go names (e.g. `_milliseconds`) draw some.
  assert.ok(code === 0 || code === 3, `promtool on ${what}: exit ${code}\n${findings.join("\n")}`);
  assert.deepEqual(findings.filter((line) => /error|pars/i.test(line)), [], what);
  assert.deepEqual(findings.filter((line) => line.includes("greet_")), [], what);
}

/**
 * Serves each scraped body, as it was served, to a real Prometheus (one job per body) and
 * waits until every target is up: Prometheus chooses its parser by the content type.
 */
async function prometheusScrapes(bodies: Record<string, Scrape>): Promise<Service> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const body = bodies[new URL(request.url).pathname.slice(1)];
    if (!body) return new Response("not found", { status: 404 });
    return new Response(body.body, { headers: { "content-type": body.contentType } });
  });
  const jobs = Object.keys(bodies).map((job) =>
    [
      `  - job_name: ${job}`,
      `    metrics_path: /${job}`,
      "    static_configs:",
      `      - targets: ["127.0.0.1:${server.addr.port}"]`,
    ].join("\n")
  );
  const prometheus = await startPrometheus({
    config: `global:\n  scrape_interval: 1s\nscrape_configs:\n${jobs.join("\n")}\n`,
  });
  const targets = async () => {
    const response = await fetch(`${prometheus.url}/api/v1/targets`);
    return (await response.json()).data.activeTargets as {
      labels: { job: string };
      health: string;
      lastError: string;
    }[];
  };
  try {
    await waitFor(
      "Prometheus to scrape every body",
      async () => {
        const active = await targets();
        const failed = active.find((target) => target.lastError !== "");
        if (failed) throw new Error(`${failed.labels.job}: ${failed.lastError}`);
        return active.length === Object.keys(bodies).length &&
          active.every((target) => target.health === "up");
      },
      30_000,
      200,
    ).catch(async (error) => {
      const failed = (await targets()).filter((target) => target.lastError !== "");
      throw failed.length > 0 ? new Error(`Prometheus rejected: ${JSON.stringify(failed)}`) : error;
    });
  } finally {
    await server.shutdown();
  }
  return prometheus;
}

Deno.test("your own metrics: a prom-client counter and histogram beside Dubbo's, text → OpenMetrics → text, and pushed", async () => {
  await using pushgateway = await startPushgateway();
  const [port, metricsPort] = [await freePort(), await freePort()];
  await using program = startProgramWith(
    taskArgs("example"),
    [
      "--registry=none",
      "--host=127.0.0.1",
      `--port=${port}`,
      `--metrics-port=${metricsPort}`,
      "--push-interval=1s",
      "--failure-rate=0",
    ],
    { PUSHGATEWAY_URL: pushgateway.url },
    true,
  );
  await program.waitForLine(/provider greet\.GreetService on /);
  for (let i = 0; i < CALLS; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/greet.GreetService/Greet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: `caller-${i}` }),
    });
    assert.deepEqual(await response.json(), { greeting: `caller-${i}` });
  }

  const url = `http://127.0.0.1:${metricsPort}/prometheus`;
  const text = await scrape(url, false);
  const open = await scrape(url, true);
  const textAgain = await scrape(url, false);
  assert.match(text.contentType, /^text\/plain; version=0\.0\.4/);
  assert.match(open.contentType, /^application\/openmetrics-text; version=1\.0\.0/);

  const families = parseExposition(text.body);
  assert.equal(families.get("dubbo_provider_requests_total")?.samples[0].value, CALLS);
  const greetings = families.get("greet_greetings_total")!;
  assert.equal(greetings.type, "counter");
  assert.deepEqual(greetings.samples.map((s) => [s.labels, s.value]), [[{ outcome: "ok" }, CALLS]]);
  const answer = families.get("greet_answer_seconds")!;
  assert.equal(answer.type, "histogram");
  const count = answer.samples.find((s) => s.name === "greet_answer_seconds_count");
  assert.equal(count?.value, CALLS);
  assert.equal(answer.samples.filter((s) => s.name.endsWith("_bucket")).length, 7);
  assert.deepEqual(
    businessLines(textAgain.body),
    businessLines(text.body),
    "text after OpenMetrics",
  );
  assert.ok(businessLines(open.body).includes("# TYPE greet_greetings counter"));
  assert.ok(businessLines(open.body).includes(`greet_greetings_total{outcome="ok"} ${CALLS}`));

  await assertPromtoolAccepts(text.body, "the first text scrape");
  await assertPromtoolAccepts(textAgain.body, "the text scrape after OpenMetrics");
  const verdict = await parseOpenMetrics(open.body);
  assert.ok(verdict.valid, `the OpenMetrics scrape: ${verdict.message}`);
  await using prometheus = await prometheusScrapes({ text, open, text_again: textAgain });
  for (const job of ["text", "open", "text_again"]) {
    for (const series of ["greet_greetings_total", "greet_answer_seconds_count"]) {
      const samples = await instantQuery(prometheus.url, `${series}{job="${job}"}`);
      assert.equal(samples.length, 1, `${series} from the ${job} body`);
      assert.equal(samples[0].value, CALLS, `${series} from the ${job} body`);
    }
  }

  await waitFor(
    "the business metrics in the Pushgateway",
    async () => {
      const pushed = parseExposition(await (await fetch(`${pushgateway.url}/metrics`)).text());
      const sample = pushed.get("greet_greetings_total")?.samples[0];
      const buckets = pushed.get("greet_answer_seconds")?.samples.length ?? 0;
      return sample?.labels.job === "dubbo_server" && sample.labels.outcome === "ok" &&
        sample.value === CALLS && buckets === 9 &&
        pushed.get("dubbo_provider_requests_total")?.samples[0].value === CALLS;
    },
    15_000,
    200,
  );

  assert.equal(await program.stop(), 0);
});

Deno.test("your own metrics: a name of ours in a prom-client registry stops the start: one line, exit 2", async () => {
  const args = taskArgs("server");
  const fixture = `${ROOT}tests/fixtures/app_metrics/clashing_registry.ts`;
  const command = [args[0], "--config", `${ROOT}tests/deno.json`, ...args.slice(1, -1), fixture];
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      ...command,
      "--registry=none",
      "--push=false",
      "--host=127.0.0.1",
      `--metrics-port=${await freePort()}`,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr).trim();
  assert.equal(output.code, 2, stderr);
  assert.equal(stdout, "", "nothing started");
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(
    stderr,
    /^server: metric "dubbo_provider_requests_total" of prom-client registry 1 collides with Dubbo's family dubbo_provider_requests_total: rename it$/,
  );
});
