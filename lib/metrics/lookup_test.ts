/**
 * Tests of lib/metrics' per-call series lookup (the last-target shortcut in
 * `calls.start`): calls alternating between targets that differ in one field, and a
 * caller that reuses and mutates one target object, land in exactly the right series.
 */
import assert from "node:assert/strict";
import type { CallTarget } from "../observe.ts";
import { createMetrics, type DubboMetrics } from "./mod.ts";
import { parseExposition } from "../../tests/support/exposition.ts";

const GREET: CallTarget = {
  interface: "greet.GreetService",
  method: "Greet",
  group: "",
  version: "",
};
/** Registered targets that each differ from GREET in exactly one field. */
const NEIGHBOURS: CallTarget[] = [
  { ...GREET, interface: "greet.OtherService" },
  { ...GREET, method: "Hello" },
  { ...GREET, group: "g1" },
  { ...GREET, version: "1.0" },
];

function create(): DubboMetrics {
  return createMetrics({
    side: "provider",
    app: "test-app",
    appVersion: "1.2.3",
    hostname: "test-host",
    ip: "10.1.2.3",
    services: [GREET, ...NEIGHBOURS],
  });
}

/** `dubbo_provider_requests_total` per target, keyed like `interface/method/group/version`. */
async function requestTotals(metrics: DubboMetrics): Promise<Map<string, number>> {
  const families = parseExposition((await metrics.render()).body);
  const family = families.get("dubbo_provider_requests_total");
  assert.ok(family, "dubbo_provider_requests_total is rendered");
  return new Map(
    family.samples.map((s) => [
      `${s.labels.interface}/${s.labels.method}/${s.labels.group}/${s.labels.version}`,
      s.value,
    ]),
  );
}

const keyOf = (t: CallTarget) => `${t.interface}/${t.method}/${t.group}/${t.version}`;

Deno.test("metrics lookup: alternating targets that differ in one field count apart", async () => {
  const metrics = create();
  const expected = new Map([GREET, ...NEIGHBOURS].map((t) => [keyOf(t), 0]));
  for (let i = 0; i < 50; i++) {
    for (const [n, neighbour] of NEIGHBOURS.entries()) {
      // GREET twice in a row (the shortcut hits), then a neighbour (it must miss).
      metrics.calls.start(GREET)(null);
      metrics.calls.start({ ...GREET })(null);
      expected.set(keyOf(GREET), expected.get(keyOf(GREET))! + 2);
      if (i % (n + 1) === 0) {
        metrics.calls.start(neighbour)(null);
        expected.set(keyOf(neighbour), expected.get(keyOf(neighbour))! + 1);
      }
    }
  }
  assert.deepEqual(await requestTotals(metrics), expected);
});

Deno.test("metrics lookup: a reused, mutated target object records its current fields", async () => {
  const metrics = create();
  const target: CallTarget = { ...GREET };
  metrics.calls.start(target)(null);
  target.method = "Hello"; // registered
  metrics.calls.start(target)(null);
  metrics.calls.start(target)(null);
  target.method = "Nope"; // not registered: ignored
  metrics.calls.start(target)(null);
  target.method = "Greet";
  metrics.calls.start(target)(null);
  const totals = await requestTotals(metrics);
  assert.equal(totals.get(keyOf(GREET)), 2);
  assert.equal(totals.get(keyOf(NEIGHBOURS[1])), 2);
  assert.equal([...totals.values()].reduce((a, b) => a + b, 0), 4);
});

Deno.test("metrics lookup: an unregistered target right after a registered one is ignored", async () => {
  const metrics = create();
  metrics.calls.start(GREET)(null);
  metrics.calls.start({ ...GREET, group: "unregistered" })(null);
  metrics.calls.start({ ...GREET, version: "9.9" })(null);
  metrics.calls.start(GREET)(null);
  const totals = await requestTotals(metrics);
  assert.equal(totals.get(keyOf(GREET)), 2);
  assert.equal([...totals.values()].reduce((a, b) => a + b, 0), 2);
});
