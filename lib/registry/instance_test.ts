import assert from "node:assert/strict";
import { appMetadata, checkMetadata, instanceJson, matchKey, parseInstance } from "./instance.ts";
import { parseMapping } from "./mapping.ts";
import { instanceEndpoints } from "./metadata_fetch.ts";

const FILTER = { interface: "greet.GreetService", group: "", version: "" };
const SERVICE = { name: "greet.GreetService", methods: ["Greet"] };

Deno.test("instance: revision is stable, changes with what is exported, never 0", () => {
  const a = appMetadata({ service: SERVICE, app: "x", port: 20000 });
  assert.equal(a.revision, appMetadata({ service: SERVICE, app: "x", port: 20000 }).revision);
  assert.notEqual(a.revision, appMetadata({ service: SERVICE, app: "y", port: 20000 }).revision);
  assert.notEqual(
    a.revision,
    appMetadata({ service: SERVICE, app: "x", port: 20000, version: "1.0" }).revision,
  );
  assert.notEqual(a.revision, "0");
  assert.deepEqual(Object.keys(a.services), ["greet.GreetService:tri"]);
  assert.equal(matchKey("s", "g", "1.0", "tri"), "g/s:1.0:tri");
});

Deno.test("instance: our JSON parses back with every metadata key", () => {
  const metadata = appMetadata({ service: SERVICE, app: "x", port: 20001 });
  const parsed = parseInstance("x", instanceJson(metadata, "10.0.0.1", 20001));
  assert.ok(typeof parsed !== "string");
  assert.equal(parsed.host, "10.0.0.1");
  assert.equal(parsed.port, 20001);
  assert.equal(parsed.revision, metadata.revision);
  assert.equal(parsed.storageType, "local");
  assert.deepEqual(parsed.endpoints, [{ port: 20001, protocol: "tri" }]);
  assert.deepEqual(parsed.metadataService, { protocol: "tri", port: 20001 });
  assert.equal(parsed.metaVersion, "2.0.0");
});

Deno.test("instance: hostile JSON gives an error string, never a throw", () => {
  for (
    const text of [
      "",
      "null",
      "[1]",
      "{",
      JSON.stringify({ address: "a b", port: 1 }),
      JSON.stringify({ address: "h", port: 70000 }),
      JSON.stringify({ address: "h", port: 1, payload: { metadata: {} } }),
      "x".repeat(70_000),
    ]
  ) {
    assert.equal(typeof parseInstance("a", text), "string", text.slice(0, 40));
  }
  const odd = parseInstance(
    "a",
    JSON.stringify({
      address: "h",
      port: 1,
      payload: {
        metadata: {
          "dubbo.metadata.revision": "r",
          "dubbo.endpoints": '[{"port":"x"},{"port":5,"protocol":"tri"}]',
          "dubbo.metadata-service.url-params": "not json",
        },
      },
    }),
  );
  assert.ok(typeof odd !== "string");
  assert.deepEqual(odd.endpoints, [{ port: 5, protocol: "tri" }]);
  assert.equal(odd.metadataService, undefined);
});

Deno.test("instance: endpoints need a matching tri service; fallback uses dubbo.endpoints", () => {
  const metadata = appMetadata({ service: SERVICE, app: "x", port: 7 });
  const instance = parseInstance("x", instanceJson(metadata, "10.0.0.2", 7));
  assert.ok(typeof instance !== "string");
  assert.deepEqual(instanceEndpoints(instance, metadata, FILTER), [{ host: "10.0.0.2", port: 7 }]);
  assert.deepEqual(instanceEndpoints(instance, metadata, { ...FILTER, group: "g" }), []);
  assert.deepEqual(instanceEndpoints(instance, metadata, { ...FILTER, group: "*" }).length, 1);
  const other = checkMetadata({ app: "x", services: {} });
  assert.ok(typeof other !== "string");
  assert.deepEqual(instanceEndpoints(instance, other, FILTER), []);
  assert.deepEqual(instanceEndpoints({ ...instance, endpoints: [] }, undefined, FILTER), [
    { host: "10.0.0.2", port: 7 },
  ]);
  assert.deepEqual(
    instanceEndpoints(
      { ...instance, endpoints: [{ port: 1, protocol: "dubbo" }] },
      undefined,
      FILTER,
    ),
    [],
  );
});

Deno.test("mapping: names split, deduplicated, malformed ones reported", () => {
  assert.deepEqual(parseMapping("a, b,,a"), { apps: ["a", "b"], bad: [] });
  assert.deepEqual(parseMapping("ok,bad name,\u0000"), {
    apps: ["ok"],
    bad: ["bad name", "\u0000"],
  });
});
