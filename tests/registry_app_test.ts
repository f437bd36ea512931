/**
 * Application-level discovery against a real ZooKeeper: the instance JSON and mapping our
 * provider writes, MetadataServiceV2 on its Triple port, register and discovery modes,
 * concurrent mapping merges, SIGTERM/SIGKILL/session expiry, and hostile registry data.
 */
import assert from "node:assert/strict";
import {
  createRegistry,
  endpointKey,
  type Registry,
  serviceInterface,
} from "../lib/registry/mod.ts";
import { GREET } from "../lib/greet/mod.ts";
import { appMetadata, parseInstance } from "../lib/registry/instance.ts";
import { fetchMetadataV2, metadataServiceV2 } from "../lib/registry/metadata_v2.ts";
import { serveProvider } from "../lib/triple/mod.ts";
import type { RegistryObserver } from "../lib/observe.ts";
import { startZooKeeper, waitFor } from "./support/services.ts";
import type { Service } from "../tools/services.ts";
import { freePort } from "../tools/ports.ts";
import { type Program, startProgram } from "./support/programs.ts";
import { connectRaw, type RawZooKeeper } from "./support/zk.ts";

const MAPPING = "/dubbo/mapping/greet.GreetService";
const PROVIDERS = "/dubbo/greet.GreetService/providers";
const SESSION_MS = 4000;

type Raw = RawZooKeeper;

async function withZooKeeper(fn: (zk: Service, rawZk: Raw) => Promise<void>): Promise<void> {
  const zk = await startZooKeeper();
  let rawZk: Raw | undefined;
  try {
    rawZk = await connectRaw(zk.address);
    await fn(zk, rawZk);
  } finally {
    rawZk?.close();
    await zk.close();
  }
}

/** The service every registry here registers and subscribes to. */
const SERVICE = serviceInterface([GREET]);

function zkRegistry(
  address: string,
  log?: (line: string) => void,
  observer?: RegistryObserver,
): Registry {
  return createRegistry({
    kind: "zookeeper",
    address,
    service: SERVICE,
    sessionTimeoutMs: SESSION_MS,
    connectTimeoutMs: 15_000,
    log,
    observer,
  });
}

/** Curator instance JSON of a foreign provider with the given metadata keys. */
function foreignInstance(app: string, port: number, metadata: Record<string, string>): string {
  return JSON.stringify({
    name: app,
    id: `127.0.0.1:${port}`,
    address: "127.0.0.1",
    port,
    payload: {
      "@class": "org.apache.dubbo.registry.zookeeper.ZookeeperInstance",
      metadata,
    },
  });
}

async function startServer(zk: string, extra: string[] = []) {
  const port = await freePort();
  const server = startProgram("server", [
    "--host=127.0.0.1",
    "--advertise-ip=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${await freePort()}`,
    "--push=false",
    "--failure-rate=0",
    "--delay=1ms",
    ...extra,
  ], { ZK_ADDRESS: zk });
  await server.waitForLine(/registered in ZooKeeper/);
  return { server, port };
}

async function startClient(zk: string, extra: string[] = []): Promise<Program> {
  return startProgram("client", [
    "--host=127.0.0.1",
    "--advertise-ip=127.0.0.1",
    `--metrics-port=${await freePort()}`,
    "--push=false",
    "--interval=20ms",
    ...extra,
  ], { ZK_ADDRESS: zk });
}

Deno.test("registry app: provider at defaults writes instance JSON, mapping, interface node; serves MetadataServiceV2; SIGTERM removes the instance", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const { server, port } = await startServer(zk.address);
    try {
      const node = `/services/dubbo-metrics-server/127.0.0.1:${port}`;
      const json = JSON.parse((await rawZk.data(node))!);
      assert.equal(json.name, "dubbo-metrics-server");
      assert.equal(json.id, `127.0.0.1:${port}`);
      assert.equal(json.address, "127.0.0.1");
      assert.equal(json.port, port);
      assert.equal(json.payload["@class"], "org.apache.dubbo.registry.zookeeper.ZookeeperInstance");
      const meta = json.payload.metadata;
      const expected = appMetadata({ service: SERVICE, app: "dubbo-metrics-server", port });
      assert.equal(meta["dubbo.metadata.revision"], expected.revision);
      assert.notEqual(meta["dubbo.metadata.revision"], "0");
      assert.equal(meta["dubbo.metadata.storage-type"], "local");
      assert.deepEqual(JSON.parse(meta["dubbo.endpoints"]), [{ port, protocol: "tri" }]);
      assert.deepEqual(JSON.parse(meta["dubbo.metadata-service.url-params"]), {
        port: String(port),
        protocol: "tri",
      });
      assert.equal(meta["meta-v"], "2.0.0");
      assert.notEqual(await rawZk.owner(node), "0000000000000000", "instance node is ephemeral");
      assert.equal(await rawZk.data(MAPPING), "dubbo-metrics-server");
      assert.equal(await rawZk.owner(MAPPING), "0000000000000000", "mapping is persistent");
      assert.equal((await rawZk.children(PROVIDERS)).length, 1, "all: interface node too");

      const info = await fetchMetadataV2("127.0.0.1", port, "dubbo-metrics-server", "x", 5000);
      assert.equal(info.app, "dubbo-metrics-server");
      assert.equal(info.revision, expected.revision);
      const service = info.services["greet.GreetService:tri"];
      assert.equal(service.name, "greet.GreetService");
      assert.equal(service.protocol, "tri");
      assert.equal(service.port, port);
      assert.equal(service.params.serialization, "protobuf");

      assert.equal(await server.stop(), 0);
      assert.equal(await rawZk.data(node), undefined, "graceful exit removed the instance");
      assert.equal(await rawZk.data(MAPPING), "dubbo-metrics-server", "mapping stays");
    } finally {
      await server.stop();
    }
  });
});

Deno.test("registry app: mapping merged by three apps registering at once keeps all three", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    await rawZk.create(MAPPING, "java-app");
    const apps = ["app-a", "app-b", "app-c"];
    const registries = apps.map(() => zkRegistry(zk.address));
    try {
      await Promise.all(apps.map((app, i) =>
        registries[i].register({
          ip: "10.0.0.1",
          port: 20000 + i,
          app,
          registerMode: "instance",
          metadata: appMetadata({ service: SERVICE, app, port: 20000 + i }),
        })
      ));
      const names = (await rawZk.data(MAPPING))!.split(",").sort();
      assert.deepEqual(names, ["app-a", "app-b", "app-c", "java-app"]);
      assert.deepEqual(await rawZk.children(PROVIDERS), [], "instance mode: no interface node");
    } finally {
      await Promise.all(registries.map((r) => r.close()));
    }
  });
});

Deno.test("registry app: --register-mode=interface writes no /services node; our consumer at defaults still finds it", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const { server, port } = await startServer(zk.address, ["--register-mode=interface"]);
    const client = await startClient(zk.address, ["--count=3"]);
    try {
      assert.deepEqual(await rawZk.children("/services"), []);
      assert.equal(await rawZk.data(MAPPING), undefined);
      assert.equal(await client.exited, 0, client.output());
      assert.match(
        client.output(),
        new RegExp(`interface-level\\): 1 \\(127\\.0\\.0\\.1:${port}\\)`),
      );
    } finally {
      await client.stop();
      await server.stop();
    }
  });
});

Deno.test("registry app: our consumer at defaults calls an instance-only provider; --discovery=interface ignores it", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const { server, port } = await startServer(zk.address, ["--register-mode=instance"]);
    const client = await startClient(zk.address, ["--count=3"]);
    try {
      assert.deepEqual(await rawZk.children(PROVIDERS), []);
      assert.equal(await client.exited, 0, client.output());
      assert.match(
        client.output(),
        new RegExp(`application-level\\): 1 \\(127\\.0\\.0\\.1:${port}\\)`),
      );
      assert.doesNotMatch(client.output(), /cannot fetch metadata/);

      const logs: string[] = [];
      const consumer = zkRegistry(zk.address, (line) => logs.push(line));
      try {
        const directory = await consumer.subscribe({
          ip: "127.0.0.1",
          app: "c",
          discovery: "interface",
        });
        await new Promise((resolve) => setTimeout(resolve, 300)); // nothing may arrive
        assert.deepEqual(directory.list(), []);
      } finally {
        await consumer.close();
      }
    } finally {
      await client.stop();
      await server.stop();
    }
  });
});

Deno.test("registry app: instance node re-created after session expiry; SIGKILLed provider dropped after the timeout", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const { server, port } = await startServer(zk.address, ["--register-mode=instance"]);
    const consumer = zkRegistry(zk.address);
    try {
      const directory = await consumer.subscribe({
        ip: "127.0.0.1",
        app: "c",
        discovery: "instance",
      });
      await waitFor("instance discovered", () => directory.list().length === 1);
      assert.equal(endpointKey(directory.list()[0]), `127.0.0.1:${port}`);
      const node = `/services/dubbo-metrics-server/127.0.0.1:${port}`;
      const firstOwner = await rawZk.owner(node);
      server.kill("SIGSTOP");
      await waitFor("session expired by ZooKeeper", () => directory.list().length === 0, 30_000);
      server.kill("SIGCONT");
      await server.waitForLine(/ZooKeeper session expired|session considered expired/, 30_000);
      await waitFor("instance re-created", () => directory.list().length === 1, 20_000);
      assert.notEqual(await rawZk.owner(node), firstOwner);

      server.kill("SIGKILL");
      await server.exited;
      assert.ok(await rawZk.data(node), "node outlives the process until expiry");
      await waitFor("killed provider dropped", () => directory.list().length === 0, 30_000);
      assert.equal(await rawZk.data(node), undefined);
    } finally {
      server.kill("SIGCONT");
      await server.stop();
      await consumer.close();
    }
  });
});

Deno.test("registry app: malformed instance JSON and mapping names are skipped with one log line each", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    await rawZk.create(MAPPING, "good-app,bad app!,");
    await rawZk.create("/services/good-app/10.0.0.9:1", "{not json", true);
    await rawZk.create("/services/good-app/10.0.0.9:2", JSON.stringify({ address: 7 }), true);
    const logs: string[] = [];
    const consumer = zkRegistry(zk.address, (line) => logs.push(line));
    try {
      const directory = await consumer.subscribe({
        ip: "127.0.0.1",
        app: "c",
        discovery: "instance",
      });
      assert.deepEqual(directory.list(), []);
      // A valid instance (without a reachable metadata service) arrives live: fallback.
      const good = JSON.parse(
        JSON.stringify({
          name: "good-app",
          id: "127.0.0.1:3",
          address: "127.0.0.1",
          port: 3,
          payload: {
            metadata: {
              "dubbo.metadata.revision": "r1",
              "dubbo.endpoints": JSON.stringify([{ port: 4, protocol: "tri" }]),
            },
          },
        }),
      );
      await rawZk.create("/services/good-app/127.0.0.1:3", JSON.stringify(good), true);
      await waitFor("fallback endpoint", () => directory.list().length === 1, 15_000);
      assert.equal(endpointKey(directory.list()[0]), "127.0.0.1:4");
      await rawZk.set(MAPPING, "good-app,bad app!,"); // fires the watch: no second log line
      await waitFor("re-read", () => logs.filter((l) => l.includes("providers")).length >= 1);
      const count = (text: string) => logs.filter((l) => l.includes(text)).length;
      assert.equal(count("malformed application names"), 1, logs.join("\n"));
      assert.equal(count("10.0.0.9:1: instance data is not JSON"), 1, logs.join("\n"));
      assert.equal(count("10.0.0.9:2: bad address"), 1, logs.join("\n"));
      assert.equal(count("cannot fetch metadata of good-app revision r1"), 1, logs.join("\n"));
      assert.equal(parseInstance("x", "[]"), "instance JSON is not an object");
    } finally {
      await consumer.close();
    }
  });
});

Deno.test("registry app: metadata fetched once per revision, again on a revision change; remote metadata read from ZooKeeper", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const served = { service: SERVICE, app: "meta-app", port: 0 };
    const provider = await serveProvider({
      hostname: "127.0.0.1",
      port: 0,
      services: [],
      internal: [metadataServiceV2(() => appMetadata(served))],
    });
    served.port = provider.port;
    const fetches: boolean[] = [];
    const observer: RegistryObserver = {
      register: () => {},
      subscribe: () => {},
      notify: () => {},
      metadataSubscribe: (ok) => fetches.push(ok),
    };
    const logs: string[] = [];
    const consumer = zkRegistry(zk.address, (line) => logs.push(line), observer);
    const local = (revision: string) => ({
      "dubbo.metadata.revision": revision,
      "dubbo.metadata.storage-type": "local",
      "dubbo.endpoints": JSON.stringify([{ port: provider.port, protocol: "tri" }]),
      "dubbo.metadata-service.url-params": JSON.stringify({
        port: String(provider.port),
        protocol: "tri",
      }),
      "meta-v": "2.0.0",
    });
    try {
      await rawZk.create(MAPPING, "meta-app,remote-app");
      const first = "/services/meta-app/127.0.0.1:1";
      await rawZk.create(first, foreignInstance("meta-app", 1, local("r1")), true);
      const directory = await consumer.subscribe({
        ip: "127.0.0.1",
        app: "c",
        discovery: "instance",
      });
      await waitFor("first instance", () => directory.list().length === 1);
      assert.deepEqual(fetches, [true]);
      // Same revision on a second instance: served from the cache.
      await rawZk.create(
        "/services/meta-app/127.0.0.2:1",
        foreignInstance("meta-app", 1, local("r1")).replaceAll("127.0.0.1", "127.0.0.2"),
        true,
      );
      await waitFor("second instance", () => directory.list().length === 2);
      assert.deepEqual(fetches, [true]);
      // A revision change re-reads metadata.
      await rawZk.set(first, foreignInstance("meta-app", 1, local("r2")));
      await waitFor("revision r2 fetched", () => fetches.length === 2);
      assert.deepEqual(fetches, [true, true]);

      // storage-type remote: MetadataInfo JSON at /dubbo/metadata/<app>/<revision> (Java's path).
      const remote = appMetadata({ service: SERVICE, app: "remote-app", port: 4321 });
      await rawZk.create(`/dubbo/metadata/remote-app/${remote.revision}`, JSON.stringify(remote));
      await rawZk.create(
        "/services/remote-app/127.0.0.3:4321",
        foreignInstance("remote-app", 4321, {
          "dubbo.metadata.revision": remote.revision,
          "dubbo.metadata.storage-type": "remote",
        }).replaceAll("127.0.0.1", "127.0.0.3"),
        true,
      );
      await waitFor("remote-metadata instance", () => directory.list().length === 3);
      assert.ok(
        directory.list().some((e) => endpointKey(e) === "127.0.0.3:4321"),
        JSON.stringify([directory.list(), fetches, logs]),
      );
      assert.deepEqual(fetches, [true, true, true]);
      assert.ok(!logs.some((l) => l.includes("cannot fetch metadata")), logs.join("\n"));
    } finally {
      await consumer.close();
      await provider.close(0);
    }
  });
});
