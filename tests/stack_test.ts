/**
 * The stack's files: compose.yaml (docker-compose validation and structure), the
 * Prometheus configs and rules (promtool check and unit tests), Grafana provisioning and
 * the dashboard (structure, metric names), and `deno task stack` (tools/stack.ts) with real
 * services on free ports.
 */
import assert from "node:assert/strict";
import YAML from "yaml";
import { ENV_VARS, parseConfig } from "../lib/config.ts";
import { freePort } from "../tools/ports.ts";
import { EXPORTED_METRICS } from "./support/metric_names.ts";
import {
  type GrafanaVariable,
  interpolate,
  metricNamesIn,
  nameMatchersIn,
  namesMatching,
  panelQueries,
  parseLabelValues,
  PROMETHEUS_SERIES,
  recordedNames,
  variableQuery,
} from "./support/promql.ts";
import { waitFor } from "./support/services.ts";
import { hostPrometheusConfig, parseStackArgs, StackError, startStack } from "../tools/stack.ts";
import { requirePackage } from "../tools/requirements.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFileSync(`${ROOT}${path}`);
// deno-lint-ignore no-explicit-any
type Json = any;
const yaml = (path: string): Json => YAML.parse(read(path), { merge: true });

const DASHBOARD_PATH = "grafana/dashboards/dubbo-observability.json";
const dashboard: Json = JSON.parse(read(DASHBOARD_PATH));
const RULE_FILES = ["prometheus/recording.rules.yml", "prometheus/alerts.rules.yml"];
const RECORDED = new Set(RULE_FILES.flatMap((f) => recordedNames(read(f))));
const serverDefaults = parseConfig("server", [], {});
const clientDefaults = parseConfig("client", ["--url=tri://127.0.0.1:20000"], {});
if (serverDefaults.help || clientDefaults.help) throw new Error("unexpected help");
const SERVER = serverDefaults.config;
const CLIENT = clientDefaults.config;

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, out: decode(output.stdout) + decode(output.stderr) };
}

Deno.test({
  // docker-compose is one of the suite's packages (tools/test_deps.ts installs it): when it
  // is missing this fails at once with the install command, it is never skipped.
  name: "compose: docker-compose validates compose.yaml, PUSH=false switches both apps to pull",
  fn: async () => {
    requirePackage("docker-compose");
    const push = await run("docker-compose", ["-f", "compose.yaml", "config"]);
    assert.equal(push.code, 0, push.out);
    const pull = await run("docker-compose", ["-f", "compose.yaml", "config"], { PUSH: "false" });
    assert.equal(pull.code, 0, pull.out);
    const pushed: Json = YAML.parse(push.out);
    const pulled: Json = YAML.parse(pull.out);
    for (const app of ["server", "client"]) {
      assert.ok(pushed.services[app].command.includes("--push=true"), app);
      assert.ok(pulled.services[app].command.includes("--push=false"), app);
    }
    const broken = await Deno.makeTempFile({ suffix: ".yaml" });
    try {
      await Deno.writeTextFile(broken, read("compose.yaml").replace("healthcheck:", "healthchek:"));
      assert.notEqual((await run("docker-compose", ["-f", broken, "config", "-q"])).code, 0);
    } finally {
      await Deno.remove(broken);
    }
  },
});

Deno.test("compose: services, ports, env names, healthchecks and start order", () => {
  const compose = yaml("compose.yaml");
  const services = compose.services;
  for (const name of ["zookeeper", "pushgateway", "prometheus", "grafana", "server", "client"]) {
    assert.ok(services[name], `service ${name}`);
    assert.ok(services[name].healthcheck?.test, `${name} has a healthcheck`);
    assert.equal(services[name].profiles, undefined, `${name} starts by default`);
  }
  assert.deepEqual(services.pushgateway.ports, ["9091:9091"]);
  assert.deepEqual(services.prometheus.ports, ["9090:9090"]);
  assert.deepEqual(services.grafana.ports, ["3000:3000"]);
  assert.deepEqual(services.zookeeper.ports, ["2181:2181"]);
  assert.deepEqual(services.server.ports, [`${SERVER.port}:${SERVER.port}`, "9099:9099"]);
  assert.equal(SERVER.metricsPort, 9099);
  assert.deepEqual(services.client.ports, [`${CLIENT.metricsPort}:${CLIENT.metricsPort}`]);
  for (const app of ["server", "client"] as const) {
    const service = services[app];
    assert.deepEqual(service.command, ["task", app, "--push=${PUSH:-true}"]);
    for (const name of Object.keys(service.environment)) {
      assert.ok(ENV_VARS[app].includes(name), `${app} reads ${name}`);
    }
    assert.equal(service.environment.ZK_ADDRESS, "zookeeper:2181");
    assert.equal(service.environment.PUSHGATEWAY_URL, "http://pushgateway:9091");
    const healthUrl = service.healthcheck.test.join(" ");
    const port = app === "server" ? SERVER.metricsPort : CLIENT.metricsPort;
    assert.match(healthUrl, new RegExp(`127\\.0\\.0\\.1:${port}${SERVER.metricsPath}`));
    for (const dependency of ["zookeeper", "pushgateway"]) {
      assert.equal(service.depends_on[dependency].condition, "service_healthy");
    }
  }
  assert.equal(services.client.depends_on.server.condition, "service_healthy");
  assert.equal(services.prometheus.depends_on.pushgateway.condition, "service_healthy");
  assert.equal(services.grafana.depends_on.prometheus.condition, "service_healthy");
  for (const name of Object.keys(services.cleaner.environment)) {
    assert.ok(ENV_VARS.cleaner.includes(name), `cleaner reads ${name}`);
  }
  assert.equal(services.cleaner.command[1], "cleaner");
  assert.ok(services.prometheus.volumes.includes("./prometheus:/etc/prometheus:ro"));
  assert.ok(
    services.prometheus.command.includes("--config.file=/etc/prometheus/prometheus.yml"),
  );
  const dockerfile = read("Dockerfile");
  assert.match(dockerfile, /^FROM denoland\/deno:2\.9\.6$/m);
  for (const file of ["server.ts", "client.ts", "cleaner.ts", "deno.lock", "lib/"]) {
    assert.ok(dockerfile.includes(file), `Dockerfile copies ${file}`);
  }
});

Deno.test("prometheus: promtool check config accepts the compose and host configs", async () => {
  for (const config of ["prometheus/prometheus.yml", "prometheus/prometheus.host.yml"]) {
    const result = await run("promtool", ["check", "config", config]);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /2 rule files found/);
  }
});

Deno.test("prometheus: promtool check rules accepts every rule file", async () => {
  const result = await run("promtool", ["check", "rules", ...RULE_FILES]);
  assert.equal(result.code, 0, result.out);
});

Deno.test("prometheus: promtool unit tests pass and cover every alert", async () => {
  const tests = [...Deno.readDirSync(`${ROOT}prometheus/tests`)]
    .filter((e) => e.name.endsWith(".yml"))
    .map((e) => `prometheus/tests/${e.name}`)
    .sort();
  assert.ok(tests.length >= 2);
  const result = await run("promtool", ["test", "rules", ...tests]);
  assert.equal(result.code, 0, result.out);
  const alerts = [...read("prometheus/alerts.rules.yml").matchAll(/^\s*- alert:\s*(\S+)/gm)]
    .map((m) => m[1]);
  assert.ok(alerts.length >= 7);
  const testText = tests.map(read).join("\n");
  for (const alert of alerts) {
    const firing = new RegExp(
      `alertname: ${alert}\\n\\s+eval_time: \\S+\\n\\s+exp_alerts:\\n\\s+- exp_labels:`,
    );
    assert.match(testText, firing, `a promtool test expects ${alert} to fire`);
  }
});

Deno.test("prometheus: push job honours labels, pull jobs scrape our ports and path", () => {
  const expected = {
    "dubbo-provider": SERVER.metricsPort,
    "dubbo-consumer": CLIENT.metricsPort,
  };
  for (const file of ["prometheus/prometheus.yml", "prometheus/prometheus.host.yml"]) {
    const config = yaml(file);
    const jobs = new Map<string, Json>(config.scrape_configs.map((j: Json) => [j.job_name, j]));
    const pushgateway = jobs.get("pushgateway");
    assert.equal(pushgateway.honor_labels, true, file);
    assert.equal(pushgateway.static_configs[0].labels.mode, "push");
    assert.match(pushgateway.static_configs[0].targets[0], /:9091$/);
    for (const [job, port] of Object.entries(expected)) {
      const scrape = jobs.get(job);
      assert.ok(scrape, `${file}: job ${job}`);
      assert.equal(scrape.metrics_path, SERVER.metricsPath);
      assert.equal(scrape.honor_labels, undefined, `${file}: ${job} keeps its own labels`);
      const ports = [
        ...(scrape.static_configs ?? []).flatMap((s: Json) =>
          s.targets.map((t: string) => Number(t.split(":").pop()))
        ),
        ...(scrape.dns_sd_configs ?? []).map((d: Json) => d.port),
      ];
      assert.deepEqual(ports, [port], `${file}: ${job} port`);
      const mode = scrape.static_configs?.[0]?.labels?.mode ??
        scrape.relabel_configs?.find((r: Json) => r.target_label === "mode")?.replacement;
      assert.equal(mode, "pull", `${file}: ${job} mode label`);
    }
    assert.deepEqual(config.rule_files, ["recording.rules.yml", "alerts.rules.yml"]);
  }
});

Deno.test("prometheus: rules read only metrics we export (or record)", () => {
  for (const file of RULE_FILES) {
    const rules = YAML.parse(read(file)).groups.flatMap((g: Json) => g.rules);
    for (const rule of rules) {
      for (const name of metricNamesIn(rule.expr)) {
        const known = EXPORTED_METRICS.has(name) || RECORDED.has(name) ||
          (rule.alert !== undefined && PROMETHEUS_SERIES.has(name));
        assert.ok(known, `${file}: ${rule.record ?? rule.alert} reads unknown metric ${name}`);
      }
    }
  }
});

Deno.test("grafana: provisioning points at the compose Prometheus with a fixed uid", () => {
  const compose = yaml("compose.yaml");
  const datasources = yaml("grafana/provisioning/datasources/prometheus.yml");
  assert.equal(datasources.apiVersion, 1);
  const [prometheus] = datasources.datasources;
  assert.equal(prometheus.type, "prometheus");
  assert.equal(prometheus.uid, "prometheus");
  assert.equal(prometheus.url, "http://prometheus:9090");
  assert.ok(compose.services.prometheus.ports.includes("9090:9090"));
  assert.equal(prometheus.isDefault, true);

  const providers = yaml("grafana/provisioning/dashboards/dubbo.yml");
  const [provider] = providers.providers;
  assert.equal(provider.type, "file");
  const mounts = new Map<string, string>(
    compose.services.grafana.volumes.map((v: string) => {
      const [from, to] = v.split(":");
      return [to, from];
    }),
  );
  assert.equal(mounts.get("/etc/grafana/provisioning"), "./grafana/provisioning");
  const dashboardsDir = mounts.get(provider.options.path);
  assert.equal(dashboardsDir, "./grafana/dashboards", "the provider path is mounted");
  Deno.statSync(`${ROOT}${dashboardsDir}/dubbo-observability.json`);

  const datasourceVariable = dashboard.templating.list.find((v: Json) => v.type === "datasource");
  assert.equal(datasourceVariable.name, "datasource");
  assert.equal(datasourceVariable.query, "prometheus");
  assert.equal(datasourceVariable.current.value, prometheus.uid);
});

Deno.test("grafana: every panel has queries on the datasource variable; the original's panels are all there", () => {
  const panels: Json[] = [];
  const visit = (list: Json[]) => {
    for (const panel of list) {
      if (panel.type === "row") visit(panel.panels ?? []);
      else panels.push(panel);
    }
  };
  visit(dashboard.panels);
  const ids = dashboard.panels.map((p: Json) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  for (const panel of panels) {
    assert.deepEqual(panel.datasource, { type: "prometheus", uid: "${datasource}" }, panel.title);
    assert.ok(panel.targets?.length > 0, `${panel.title} has queries`);
    for (const target of panel.targets) {
      assert.ok(target.expr?.trim(), `${panel.title}/${target.refId} has an expression`);
      assert.deepEqual(target.datasource, { type: "prometheus", uid: "${datasource}" });
    }
  }
  const titles = panels.map((p) => p.title);
  for (
    const title of [
      "Instances",
      "Total QPS",
      "Total success rate",
      "Provider P99 latency",
      "QPS",
      "Success rate",
      "Response time (per instance)",
      "Instance distribution",
      "Version distribution",
      "P99 across instances (histogram)",
      "Errors by class",
      "Push freshness",
      "In-flight requests",
      "Resident memory",
    ]
  ) {
    assert.ok(titles.includes(title), `panel ${title}`);
  }
  const exprs = panelQueries(dashboard).map((q) => q.expr).join("\n");
  assert.doesNotMatch(exprs, /thread_pool/, "nothing exports thread-pool metrics");
  assert.doesNotMatch(exprs, /dubbo_(provider|consumer)_rt_milliseconds[^_]/, "no bare rt name");
  assert.match(exprs, /histogram_quantile\(0\.99, sum by \(interface, le\)/);
  assert.match(exprs, /time\(\) - max by \(job, instance\) \(job_pushed_at_seconds/);
  assert.match(exprs, /dubbo_registry_/);
  for (const cls of ["timeout", "limit", "service_unavailable", "business", "unknown"]) {
    assert.match(read("prometheus/recording.rules.yml"), new RegExp(`class: ${cls}\\n`));
  }
});

Deno.test("grafana: variables are label_values queries and every $variable used is defined", () => {
  const variables: GrafanaVariable[] = dashboard.templating.list;
  const byName = new Map(variables.map((v) => [v.name, v]));
  for (const name of ["datasource", "mode", "application", "instance", "interface"]) {
    assert.ok(byName.has(name), `variable ${name}`);
  }
  const values: Record<string, string> = { datasource: "prometheus" };
  for (const variable of variables) {
    if (variable.type !== "query") continue;
    const parsed = parseLabelValues(variableQuery(variable));
    assert.ok(parsed, `${variable.name} is a label_values(...) query`);
    if (variable.name !== "mode") {
      assert.equal(variable.multi, true, variable.name);
      assert.equal(variable.includeAll, true, variable.name);
      assert.equal(variable.allValue, ".*", variable.name);
    }
    interpolate(variableQuery(variable), values); // only variables defined before it
    values[variable.name] = "x";
  }
  for (const query of panelQueries(dashboard)) interpolate(query.expr, values);
  assert.throws(() => interpolate('up{a=~"$nope"}', values), /unknown variable \$nope/);
});

Deno.test("grafana: every query reads only metrics we export or record", () => {
  const queries = [
    ...panelQueries(dashboard).map((q) => ({ where: `${q.panelTitle}/${q.refId}`, expr: q.expr })),
    ...dashboard.templating.list
      .filter((v: Json) => v.type === "query")
      .map((v: Json) => ({
        where: `$${v.name}`,
        expr: parseLabelValues(variableQuery(v))?.selector ?? "",
      })),
  ];
  for (const { where, expr } of queries) {
    for (const name of metricNamesIn(expr)) {
      assert.ok(
        EXPORTED_METRICS.has(name) || RECORDED.has(name),
        `${where} reads ${name}, which we neither export nor record`,
      );
    }
    for (const matcher of nameMatchersIn(expr)) {
      const matched = namesMatching(matcher, EXPORTED_METRICS);
      assert.ok(matched.length >= 2, `${where}: __name__ ${matcher.pattern} matches ${matched}`);
      for (const side of ["provider", "consumer"]) {
        assert.ok(matched.some((n) => n.includes(side)), `${where}: both sides (${side})`);
      }
    }
  }
  // The checker itself catches the original dashboard's mistakes.
  assert.deepEqual(metricNamesIn('max by (interface) (dubbo_provider_rt_milliseconds{a="b"})'), [
    "dubbo_provider_rt_milliseconds",
  ]);
  assert.ok(!EXPORTED_METRICS.has("dubbo_provider_rt_milliseconds"));
  assert.ok(!EXPORTED_METRICS.has("dubbo_thread_pool_active_size"));
});

Deno.test("stack: flags parse, bad ones are named", () => {
  assert.equal(parseStackArgs(["--help"]), "help");
  assert.deepEqual(parseStackArgs(["--prometheus-port=19090"]).valueOf(), {
    zookeeperPort: undefined,
    pushgatewayPort: undefined,
    prometheusPort: 19090,
    providerTarget: undefined,
    consumerTarget: undefined,
    dir: undefined,
  });
  assert.throws(() => parseStackArgs(["--prometheus-port=http"]), /--prometheus-port: expected/);
  assert.throws(() => parseStackArgs(["--provider-target=nohost"]), /--provider-target/);
  assert.throws(() => parseStackArgs(["--nope"]), StackError);
  assert.throws(
    () =>
      hostPrometheusConfig("scrape_configs: []\n", {
        pushgateway: "a:1",
        prometheus: "b:2",
        provider: "c:3",
        consumer: "d:4",
      }),
    /expected a target line/,
  );
});

Deno.test("stack: a busy port is reported before anything starts", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    await assert.rejects(
      startStack({ zookeeperPort: 0, pushgatewayPort: 0, prometheusPort: port }),
      new RegExp(`port ${port} \\(prometheus\\) is busy`),
    );
  } finally {
    busy.close();
  }
});

Deno.test("stack: real ZooKeeper, Pushgateway and Prometheus with push and pull jobs and rules", async () => {
  const provider = `127.0.0.1:${await freePort()}`;
  const consumer = `127.0.0.1:${await freePort()}`;
  await using stack = await startStack({
    zookeeperPort: 0,
    pushgatewayPort: 0,
    prometheusPort: 0,
    providerTarget: provider,
    consumerTarget: consumer,
    scrapeInterval: "1s",
  });
  const summary = stack.summary();
  for (const service of [stack.zookeeper, stack.pushgateway, stack.prometheus]) {
    assert.ok(summary.includes(service.address), summary);
  }
  const api = async (path: string) =>
    (await (await fetch(`${stack.prometheus.url}${path}`)).json()).data;
  const rules = await api("/api/v1/rules");
  const groups = rules.groups.map((g: Json) => g.name).sort();
  assert.deepEqual(groups, [
    "dubbo-availability",
    "dubbo-consumer",
    "dubbo-provider",
    "dubbo-push",
    "dubbo-rpc",
  ]);
  let scrapeUrls = new Map<string, string>();
  await waitFor("Prometheus to list its four targets", async () => {
    const targets = (await api("/api/v1/targets")).activeTargets as Json[];
    scrapeUrls = new Map(targets.map((t) => [t.labels.job, t.scrapeUrl]));
    return scrapeUrls.size === 4;
  });
  assert.equal(scrapeUrls.get("pushgateway"), `${stack.pushgateway.url}/metrics`);
  assert.equal(scrapeUrls.get("dubbo-provider"), `http://${provider}/prometheus`);
  assert.equal(scrapeUrls.get("dubbo-consumer"), `http://${consumer}/prometheus`);
  await waitFor("the Pushgateway target up", async () => {
    const up = await api(`/api/v1/query?query=${encodeURIComponent('up{job="pushgateway"}')}`);
    return up.result[0]?.value[1] === "1";
  });
});

Deno.test("stack: deno task stack prints where everything is and stops it all on SIGTERM", async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const task = JSON.parse(read("deno.json")).tasks.stack.split(/\s+/).slice(1);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...task,
      `--zookeeper-port=${ports[0]}`,
      `--pushgateway-port=${ports[1]}`,
      `--prometheus-port=${ports[2]}`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const drained = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  }));
  let stopped = false;
  try {
    await waitFor("the stack summary", () => output.includes("stack is up"), 60_000);
    for (const port of ports) assert.ok(output.includes(`127.0.0.1:${port}`), output);
    child.kill("SIGTERM");
    const status = await child.status;
    stopped = true;
    assert.equal(status.code, 0, output);
    assert.match(output, /SIGTERM: stopping/);
    for (const port of ports) {
      const listener = Deno.listen({ hostname: "127.0.0.1", port }); // free again
      listener.close();
    }
  } finally {
    if (!stopped) {
      child.kill("SIGTERM");
      await child.status;
    }
    await drained;
  }
});
