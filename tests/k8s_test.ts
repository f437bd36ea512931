/**
 * The Kubernetes manifests agree with the code: ports, paths, environment variable names
 * and flags are checked against lib/config.ts, and the selectors, named ports, monitors,
 * RBAC and the cleaner CronJob against each other.
 */
import assert from "node:assert/strict";
import YAML from "yaml";
import { ENV_VARS, parseConfig } from "../lib/config.ts";
import type { Program } from "../lib/config_types.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const DIR = new URL("../k8s/", import.meta.url).pathname;
const FILES = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".yaml"))
  .map((e) => e.name)
  .sort();
const DOCS: { file: string; doc: Json }[] = FILES
  .filter((file) => file !== "kustomization.yaml")
  .flatMap((file) =>
    YAML.parseAllDocuments(Deno.readTextFileSync(`${DIR}${file}`)).map((d) => {
      assert.deepEqual(d.errors, [], `${file} parses`);
      return { file, doc: d.toJS() };
    })
  );

function find(kind: string, name: string): Json {
  const found = DOCS.filter(({ doc }) => doc.kind === kind && doc.metadata.name === name);
  assert.equal(found.length, 1, `exactly one ${kind} ${name}`);
  return found[0].doc;
}

function container(workload: Json): Json {
  const spec = workload.kind === "CronJob"
    ? workload.spec.jobTemplate.spec.template.spec
    : workload.spec.template.spec;
  assert.equal(spec.containers.length, 1, `${workload.metadata.name}: one container`);
  return spec.containers[0];
}

function plainEnv(c: Json): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of c.env ?? []) env[variable.name] = variable.value ?? "10.0.0.5";
  return env;
}

const server = parseConfig("server", [], {});
const client = parseConfig("client", ["--url=tri://127.0.0.1:20000"], {});
if (server.help || client.help) throw new Error("unexpected help");
const SERVER = server.config;
const CLIENT = client.config;

Deno.test("k8s: every manifest parses, is namespaced where it should be, and is listed in kustomization", () => {
  const kustomization = YAML.parse(Deno.readTextFileSync(`${DIR}kustomization.yaml`));
  assert.deepEqual(
    [...kustomization.resources].sort(),
    FILES.filter((f) => f !== "kustomization.yaml"),
  );
  const clusterScoped = new Set(["Namespace"]);
  for (const { file, doc } of DOCS) {
    assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, `${file}: apiVersion/kind/name`);
    if (!clusterScoped.has(doc.kind)) {
      assert.ok(doc.metadata.namespace, `${file}: ${doc.kind} ${doc.metadata.name} namespace`);
    }
  }
  const namespaces = new Set(
    DOCS.filter(({ doc }) => doc.kind === "Namespace").map(({ doc }) => doc.metadata.name),
  );
  for (const { doc } of DOCS) {
    if (doc.metadata.namespace && doc.metadata.namespace !== "monitoring") {
      assert.ok(
        namespaces.has(doc.metadata.namespace),
        `namespace ${doc.metadata.namespace} is defined`,
      );
    }
  }
});

Deno.test("k8s: server and client ports are named dubbo and metrics with our default numbers", () => {
  const serverPorts = container(find("Deployment", "dubbo-server")).ports;
  assert.deepEqual(
    serverPorts.map((p: Json) => [p.name, p.containerPort]),
    [["dubbo", SERVER.port], ["metrics", SERVER.metricsPort]],
  );
  const clientPorts = container(find("Deployment", "dubbo-client")).ports;
  assert.deepEqual(clientPorts.map((p: Json) => [p.name, p.containerPort]), [[
    "metrics",
    CLIENT.metricsPort,
  ]]);
  assert.deepEqual([SERVER.port, SERVER.metricsPort, CLIENT.metricsPort], [20000, 9099, 9097]);
});

Deno.test("k8s: containers use only the variables and flags our programs read", () => {
  const workloads: [Json, Program][] = [
    [find("Deployment", "dubbo-server"), "server"],
    [find("Deployment", "dubbo-client"), "client"],
    [find("CronJob", "pgw-cleaner"), "cleaner"],
  ];
  for (const [workload, program] of workloads) {
    const c = container(workload);
    assert.deepEqual(c.args.slice(0, 2), ["task", program], `${program}: deno task ${program}`);
    const env = plainEnv(c);
    for (const name of Object.keys(env)) {
      assert.ok(ENV_VARS[program].includes(name), `${program} reads ${name} (not a made-up name)`);
    }
    assert.ok(!("ZOOKEEPER_ADDRESS" in env), "the original's unread variable is gone");
    // The flags and variables are valid for the program (throws ConfigError otherwise).
    const parsed = parseConfig(program, c.args.slice(2), env);
    assert.equal(parsed.help, false);
    assert.equal(c.image, "dubbo-metrics-deno:local");
  }
  for (const name of ["dubbo-server", "dubbo-client"]) {
    const env = plainEnv(container(find("Deployment", name)));
    assert.ok(env.ZK_ADDRESS, `${name} sets ZK_ADDRESS`);
    assert.ok(env.PUSHGATEWAY_URL, `${name} sets PUSHGATEWAY_URL`);
  }
  const cleaner = parseConfig("cleaner", container(find("CronJob", "pgw-cleaner")).args.slice(2), {
    PUSHGATEWAY_URL: plainEnv(container(find("CronJob", "pgw-cleaner"))).PUSHGATEWAY_URL,
  });
  if (cleaner.help) throw new Error("unexpected help");
  assert.equal(cleaner.config.ttlMs, 10 * 60_000);
  assert.equal(cleaner.config.daemon, false, "a CronJob runs one cycle and exits");
});

Deno.test("k8s: ZK_ADDRESS and PUSHGATEWAY_URL point at the Services defined here", () => {
  const serviceAddress = (url: string) => {
    const host = new URL(url.includes("://") ? url : `tcp://${url}`);
    const [name, namespace] = host.hostname.split(".");
    const service = find("Service", name);
    assert.equal(service.metadata.namespace, namespace, `${url}: namespace`);
    assert.ok(
      service.spec.ports.some((p: Json) => String(p.port) === host.port),
      `${url}: port ${host.port} is a port of Service ${name}`,
    );
  };
  for (const name of ["dubbo-server", "dubbo-client"]) {
    const env = plainEnv(container(find("Deployment", name)));
    serviceAddress(env.ZK_ADDRESS);
    serviceAddress(env.PUSHGATEWAY_URL);
  }
  serviceAddress(plainEnv(container(find("CronJob", "pgw-cleaner"))).PUSHGATEWAY_URL);
  const podIp = container(find("Deployment", "dubbo-server")).env.find((e: Json) =>
    e.name === "DUBBO_IP_TO_REGISTRY"
  );
  assert.equal(podIp.valueFrom.fieldRef.fieldPath, "status.podIP");
});

Deno.test("k8s: selectors, Services and probes match pod labels and named ports", () => {
  for (const { doc } of DOCS.filter(({ doc }) => doc.kind === "Deployment")) {
    const labels = doc.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(doc.spec.selector.matchLabels)) {
      assert.equal(labels[key], value, `${doc.metadata.name}: selector ${key}`);
    }
    const c = container(doc);
    const portNames = new Set((c.ports ?? []).map((p: Json) => p.name));
    for (const probe of [c.readinessProbe, c.livenessProbe].filter(Boolean)) {
      const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
      if (port !== undefined) assert.ok(portNames.has(port), `${doc.metadata.name}: probe port`);
    }
    if (doc.metadata.labels?.["app-type"] === "dubbo") {
      assert.equal(c.readinessProbe.httpGet.path, SERVER.metricsPath);
    }
    const services = DOCS.filter(({ doc: s }) =>
      s.kind === "Service" && s.metadata.namespace === doc.metadata.namespace &&
      Object.entries(s.spec.selector).every(([k, v]) => labels[k] === v)
    );
    assert.equal(services.length, 1, `${doc.metadata.name}: one Service selects it`);
    for (const port of services[0].doc.spec.ports) {
      assert.ok(
        portNames.has(port.targetPort),
        `${doc.metadata.name}: targetPort ${port.targetPort}`,
      );
    }
  }
});

Deno.test("k8s: the PodMonitor scrapes port metrics at /prometheus on server and client", () => {
  const podMonitor = find("PodMonitor", "dubbo");
  assert.equal(podMonitor.apiVersion, "monitoring.coreos.com/v1");
  const [endpoint] = podMonitor.spec.podMetricsEndpoints;
  assert.equal(endpoint.port, "metrics");
  assert.equal(endpoint.path, SERVER.metricsPath);
  assert.equal(CLIENT.metricsPath, "/prometheus");
  assert.ok(
    endpoint.relabelings.some((r: Json) => r.targetLabel === "mode" && r.replacement === "pull"),
  );
  for (const name of ["dubbo-server", "dubbo-client"]) {
    const deployment = find("Deployment", name);
    const labels = deployment.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels)) {
      assert.equal(labels[key], value, `${name} is selected by the PodMonitor`);
    }
    assert.ok(podMonitor.spec.namespaceSelector.matchNames.includes(deployment.metadata.namespace));
    assert.ok(container(deployment).ports.some((p: Json) => p.name === endpoint.port));
  }
  const serviceMonitor = find("ServiceMonitor", "dubbo-pushgateway");
  const [pgwEndpoint] = serviceMonitor.spec.endpoints;
  assert.equal(pgwEndpoint.honorLabels, true, "keep the pushed job and instance");
  const pgwService = find("Service", "pushgateway");
  assert.ok(pgwService.spec.ports.some((p: Json) => p.name === pgwEndpoint.port));
  for (const [key, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) {
    assert.equal(pgwService.metadata.labels[key], value);
  }
});

Deno.test("k8s: RBAC lets Prometheus discover pods in the apps' namespace", () => {
  const role = find("Role", "prometheus-discovery");
  const binding = find("RoleBinding", "prometheus-discovery");
  const appsNamespace = find("Deployment", "dubbo-server").metadata.namespace;
  assert.equal(role.metadata.namespace, appsNamespace);
  assert.equal(binding.metadata.namespace, appsNamespace);
  const pods = role.rules.find((r: Json) =>
    r.apiGroups.includes("") && r.resources.includes("pods")
  );
  assert.deepEqual([...pods.verbs].sort(), ["get", "list", "watch"]);
  assert.deepEqual(binding.roleRef, {
    apiGroup: "rbac.authorization.k8s.io",
    kind: "Role",
    name: role.metadata.name,
  });
  const podMonitor = find("PodMonitor", "dubbo");
  assert.ok(
    binding.subjects.some((s: Json) =>
      s.kind === "ServiceAccount" && s.namespace === podMonitor.metadata.namespace
    ),
    "bound to the Prometheus ServiceAccount in the monitors' namespace",
  );
});

Deno.test("k8s: the cleaner is a CronJob that runs once and does not restart forever", () => {
  const cronJob = find("CronJob", "pgw-cleaner");
  assert.equal(cronJob.apiVersion, "batch/v1");
  assert.match(cronJob.spec.schedule, /^\S+ \S+ \S+ \S+ \S+$/);
  assert.equal(cronJob.spec.concurrencyPolicy, "Forbid");
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  assert.ok(["OnFailure", "Never"].includes(pod.restartPolicy));
  assert.ok(!container(cronJob).args.includes("--daemon"));
});
