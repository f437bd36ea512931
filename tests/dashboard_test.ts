/**
 * Every Grafana panel shows data: our server and client (started as their deno.json tasks
 * start them) run against real ZooKeeper, Pushgateway and Prometheus (the host config from
 * prometheus/ with its rule files, scraping every second); then every variable query and
 * every panel query of the dashboard, with Grafana's variable substitution, must return
 * data through the Prometheus HTTP API, for both sources (push and pull) and both with
 * "All" and with concrete values selected.
 */
import assert from "node:assert/strict";
import { freePort } from "../tools/ports.ts";
import { startProgram } from "./support/programs.ts";
import {
  formatValue,
  type GrafanaVariable,
  instantQuery,
  interpolate,
  labelValues,
  metricNamesIn,
  panelQueries,
  parseLabelValues,
  recordedNames,
  type Selection,
  variableQuery,
} from "./support/promql.ts";
import { startPrometheus, startPushgateway, startZooKeeper } from "./support/services.ts";
import { hostPrometheusConfig, ruleFiles } from "../tools/stack.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const dashboard = JSON.parse(
  Deno.readTextFileSync(`${ROOT}grafana/dashboards/dubbo-observability.json`),
);
const VARIABLES: GrafanaVariable[] = dashboard.templating.list;
const POLL_DEADLINE_MS = 90_000;

/** The variable values of one selection, the name of the selection, and its problems. */
interface Filled {
  where: string;
  values: Record<string, string>;
  problems: string[];
}

/**
 * Fills the query variables in order, like Grafana: each `label_values(...)` is evaluated
 * with the variables before it substituted; `pick` chooses All or concrete values.
 */
async function fillVariables(
  prometheusUrl: string,
  modeValue: string,
  where: string,
  pick: (variable: GrafanaVariable, options: string[]) => Selection,
): Promise<Filled> {
  const values: Record<string, string> = { datasource: "prometheus" };
  const problems: string[] = [];
  for (const variable of VARIABLES) {
    if (variable.type !== "query") continue;
    if (variable.name === "mode") {
      values.mode = formatValue(variable, { all: false, values: [modeValue] });
      continue;
    }
    const query = parseLabelValues(interpolate(variableQuery(variable), values))!;
    const options = await labelValues(prometheusUrl, query);
    if (options.length === 0) {
      problems.push(`[${where}] variable $${variable.name}: no values for ${query.selector}`);
      values[variable.name] = "^$"; // keep going to report everything
      continue;
    }
    values[variable.name] = formatValue(variable, pick(variable, options));
  }
  return { where, values, problems };
}

/** Runs every panel target with `values`; returns the labels of targets without data. */
async function emptyTargets(prometheusUrl: string, filled: Filled): Promise<Set<string>> {
  const empty = new Set<string>();
  for (const target of panelQueries(dashboard)) {
    const expr = interpolate(target.expr, filled.values);
    const label = `panel "${target.panelTitle}" ${target.refId}`;
    try {
      const samples = await instantQuery(prometheusUrl, expr);
      if (!samples.some((s) => Number.isFinite(s.value))) empty.add(label);
    } catch (error) {
      filled.problems.push(`[${filled.where}] ${label}: ${(error as Error).message}`);
    }
  }
  return empty;
}

/**
 * Evaluates every variable and panel query; returns what had no data. With "All"
 * selected every target must have data; with one concrete application (and its first
 * instance and interface) selected, every target must have data for at least one
 * application (a provider panel is empty for the consumer app, as it should be).
 */
async function findEmpty(prometheusUrl: string): Promise<string[]> {
  const problems: string[] = [];
  const mode = VARIABLES.find((v) => v.name === "mode")!;
  const modes = await labelValues(prometheusUrl, parseLabelValues(variableQuery(mode))!);
  for (const expected of ["pull", "push"]) {
    if (!modes.includes(expected)) problems.push(`$mode has no "${expected}" value (${modes})`);
  }
  for (const modeValue of modes) {
    const all = await fillVariables(prometheusUrl, modeValue, `mode=${modeValue}, All`, () => ({
      all: true,
    }));
    for (const label of await emptyTargets(prometheusUrl, all)) {
      problems.push(`[${all.where}] ${label}: no data`);
    }
    problems.push(...all.problems);

    const application = VARIABLES.find((v) => v.name === "application")!;
    const apps = await labelValues(
      prometheusUrl,
      parseLabelValues(interpolate(variableQuery(application), all.values))!,
    );
    let emptyForEveryApp: Set<string> | undefined;
    for (const app of apps) {
      const one = await fillVariables(
        prometheusUrl,
        modeValue,
        `mode=${modeValue}, application=${app}`,
        (variable, options) => ({
          all: false,
          values: [variable.name === "application" ? app : options[0]],
        }),
      );
      const empty = await emptyTargets(prometheusUrl, one);
      emptyForEveryApp = emptyForEveryApp === undefined
        ? empty
        : new Set([...emptyForEveryApp].filter((label) => empty.has(label)));
      problems.push(...one.problems);
    }
    for (const label of emptyForEveryApp ?? []) {
      problems.push(`[mode=${modeValue}, each application] ${label}: no data for any (${apps})`);
    }
  }
  return problems;
}

/** Metric names in an exposition text. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (match) names.add(match[1]);
  }
  return names;
}

Deno.test({
  name: "dashboard: every panel and variable query returns data from a real server and client, " +
    "push and pull",
  fn: async () => {
    await using zk = await startZooKeeper();
    await using pgw = await startPushgateway();
    const [serverPort, serverMetrics, clientMetrics, prometheusPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const config = hostPrometheusConfig(
      await Deno.readTextFile(`${ROOT}prometheus/prometheus.host.yml`),
      {
        pushgateway: pgw.address,
        prometheus: `127.0.0.1:${prometheusPort}`,
        provider: `127.0.0.1:${serverMetrics}`,
        consumer: `127.0.0.1:${clientMetrics}`,
        scrapeInterval: "1s",
      },
    );
    await using prometheus = await startPrometheus({
      port: prometheusPort,
      config,
      files: await ruleFiles(),
    });
    const env = { PUSHGATEWAY_URL: pgw.url, ZK_ADDRESS: zk.address };
    await using server = startProgram("server", [
      "--registry=zookeeper",
      "--host=127.0.0.1",
      `--port=${serverPort}`,
      `--metrics-port=${serverMetrics}`,
      "--push=true",
      "--push-interval=1s",
      "--failure-rate=0.05",
      "--delay=5ms",
    ], env);
    await server.waitForLine(/registered in ZooKeeper/);
    await using client = startProgram("client", [
      "--registry=zookeeper",
      "--host=127.0.0.1",
      `--metrics-port=${clientMetrics}`,
      "--interval=50ms",
      "--concurrency=2",
      "--push-interval=1s",
    ], env);

    // Poll until every query has data (rates and recording rules need a few scrapes).
    let problems: string[] = ["not evaluated yet"];
    const deadline = Date.now() + POLL_DEADLINE_MS;
    while (problems.length > 0 && Date.now() < deadline) {
      problems = await findEmpty(prometheus.url);
      if (problems.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    assert.deepEqual(
      problems,
      [],
      `queries without data:\n${problems.join("\n")}\n--- server ---\n${
        server.output().slice(-1500)
      }\n--- client ---\n${client.output().slice(-1500)}`,
    );

    // Every metric the dashboard reads is one the programs really expose (or we record).
    const exposed = new Set<string>();
    for (const port of [serverMetrics, clientMetrics]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/prometheus`)).text();
      for (const name of exposedNames(text)) exposed.add(name);
    }
    const recorded = new Set(
      Object.values(await ruleFiles()).flatMap((text) => recordedNames(text)),
    );
    for (const { panelTitle, expr } of panelQueries(dashboard)) {
      for (const name of metricNamesIn(expr)) {
        assert.ok(exposed.has(name) || recorded.has(name), `${panelTitle}: ${name} not exposed`);
      }
    }
  },
});
