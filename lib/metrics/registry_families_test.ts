import assert from "node:assert/strict";
import { createMetrics } from "./mod.ts";
import { parseExposition } from "../../tests/support/exposition.ts";

Deno.test("registry families: service-level register/subscribe and metadata, as dubbo-go names them", async () => {
  const metrics = createMetrics({
    side: "consumer",
    app: "a",
    appVersion: "1",
    hostname: "h",
    ip: "10.0.0.1",
    services: [],
  });
  const events = metrics.registryEvents;
  events.registerService?.(true, 4);
  events.registerService?.(false, 6);
  events.subscribeService?.(true, 10);
  events.metadataSubscribe?.(true, 2);
  events.metadataSubscribe?.(false, 8);
  events.metadataSubscribe?.(true, 5);
  const all = parseExposition((await metrics.render()).body);
  const value = (name: string) => {
    const family = all.get(name);
    assert.ok(family, `${name} exported`);
    assert.equal(family.samples.length, 1, name);
    assert.equal(family.samples[0].labels.application_name, "a");
    return family.samples[0].value;
  };
  assert.equal(all.get("dubbo_registry_register_service_total")?.type, "counter");
  assert.equal(value("dubbo_registry_register_service_total"), 2);
  assert.equal(value("dubbo_registry_register_service_succeed_total"), 1);
  assert.equal(value("dubbo_registry_register_service_failed_total"), 1);
  assert.equal(value("dubbo_register_service_rt_milliseconds_avg"), 5);
  assert.equal(value("dubbo_registry_subscribe_service_num_total"), 1);
  assert.equal(value("dubbo_registry_subscribe_service_num_succeed_total"), 1);
  assert.equal(value("dubbo_registry_subscribe_service_num_failed_total"), 0);
  assert.equal(value("dubbo_subscribe_service_rt_milliseconds_max"), 10);
  assert.equal(value("dubbo_metadata_subscribe_num_total"), 3);
  assert.equal(value("dubbo_metadata_subscribe_num_failed_total"), 1);
  assert.equal(value("dubbo_subscribe_rt_milliseconds_min"), 2);
  assert.equal(value("dubbo_subscribe_rt_milliseconds_last"), 5);
  assert.equal(all.get("dubbo_subscribe_rt_milliseconds_sum")?.type, "gauge");
});
