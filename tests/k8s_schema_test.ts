/**
 * Every Kubernetes object in k8s/ validates offline against the Kubernetes OpenAPI
 * schemas (`kubernetes-models`) and the Prometheus Operator CRD schemas
 * (`@kubernetes-models/prometheus-operator`); `kustomize build k8s/` (the kustomize of
 * `kubectl apply -k`, built by `go install` at a pinned version) builds and its output
 * validates too.
 */
import "./support/no_punycode_warning.ts"; // first: before ajv loads
import assert from "node:assert/strict";
import YAML from "yaml";
import { goTool } from "./support/go_tools.ts";
import { CronJob } from "kubernetes-models/batch/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Namespace, Service } from "kubernetes-models/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import {
  PodMonitor,
  ServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

// deno-lint-ignore no-explicit-any
type Json = any;

const DIR = new URL("../k8s/", import.meta.url).pathname;

/** One validator per `apiVersion kind`; each throws with the schema's complaint. */
const VALIDATORS: Record<string, (doc: Json) => void> = {
  "v1 Namespace": (doc) => new Namespace(doc).validate(),
  "v1 Service": (doc) => new Service(doc).validate(),
  "apps/v1 Deployment": (doc) => new Deployment(doc).validate(),
  "batch/v1 CronJob": (doc) => new CronJob(doc).validate(),
  "rbac.authorization.k8s.io/v1 Role": (doc) => new Role(doc).validate(),
  "rbac.authorization.k8s.io/v1 RoleBinding": (doc) => new RoleBinding(doc).validate(),
  "monitoring.coreos.com/v1 PodMonitor": (doc) => new PodMonitor(doc).validate(),
  "monitoring.coreos.com/v1 ServiceMonitor": (doc) => new ServiceMonitor(doc).validate(),
};

function parseAll(text: string, where: string): Json[] {
  return YAML.parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, [], `${where} parses`);
    return d.toJS();
  }).filter((doc) => doc !== null);
}

/** The schema problems of `docs`, one line per object; empty when all are valid. */
function problems(docs: Json[], where: string): string[] {
  return docs.flatMap((doc) => {
    const name = `${where}: ${doc.kind} ${doc.metadata?.name}`;
    const validate = VALIDATORS[`${doc.apiVersion} ${doc.kind}`];
    if (!validate) return [`${name}: no schema for ${doc.apiVersion} ${doc.kind}`];
    try {
      validate(doc);
      return [];
    } catch (error) {
      return [`${name}: ${error instanceof Error ? error.message : String(error)}`];
    }
  });
}

const FILES = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".yaml") && e.name !== "kustomization.yaml")
  .map((e) => e.name)
  .sort();
const DOCS = FILES.flatMap((file) =>
  parseAll(Deno.readTextFileSync(`${DIR}${file}`), file).map((doc) => ({ file, doc }))
);

Deno.test("k8s schema: every object in k8s/ is valid for its Kubernetes or Operator schema", () => {
  assert.ok(DOCS.length >= 10, `found ${DOCS.length} objects`);
  const found = DOCS.flatMap(({ file, doc }) => problems([doc], file));
  assert.deepEqual(found, []);
});

Deno.test("k8s schema: a wrong field type or an unknown kind is reported", () => {
  const deployment = structuredClone(DOCS.find(({ doc }) => doc.kind === "Deployment")!.doc);
  deployment.spec.replicas = "two";
  assert.equal(problems([deployment], "test").length, 1);
  const monitor = structuredClone(DOCS.find(({ doc }) => doc.kind === "PodMonitor")!.doc);
  monitor.spec.podMetricsEndpoints = "all";
  assert.equal(problems([monitor], "test").length, 1);
  assert.match(problems([{ apiVersion: "v9", kind: "Nope" }], "test")[0], /no schema/);
});

Deno.test("k8s schema: kustomize build k8s/ builds every object, each valid", async () => {
  const output = await new Deno.Command(await goTool("kustomize"), {
    args: ["build", DIR],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const built = parseAll(new TextDecoder().decode(output.stdout), "kustomize output");
  assert.equal(built.length, DOCS.length, "kustomize emits every object once");
  assert.deepEqual(problems(built, "kustomize output"), []);
});
