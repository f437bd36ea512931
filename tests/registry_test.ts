/**
 * The ZooKeeper registry against a real ZooKeeper: node paths and contents, discovery,
 * balancing, graceful close, killed providers, session expiry, foreign URLs, chroot.
 * Nodes are inspected through a separate raw node-zookeeper-client session.
 */
import assert from "node:assert/strict";
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";
import {
  createRegistry,
  type Directory,
  endpointKey,
  parseProviderUrl,
  ProviderDirectory,
  providerUrl,
  type Registry,
  serviceInterface,
} from "../lib/registry/mod.ts";
import { GREET } from "../lib/greet/mod.ts";
import type { RegistryObserver } from "../lib/observe.ts";
import { startZooKeeper, waitFor } from "./support/services.ts";
import { fourLetterWord, type Service } from "../tools/services.ts";
import { freePort } from "../tools/ports.ts";

const PROVIDERS = "/dubbo/greet.GreetService/providers";
const CONSUMERS = "/dubbo/greet.GreetService/consumers";
// ZooKeeper's test config allows 2 s sessions; 4 s is the 2 x tickTime minimum of a default one.
const SESSION_MS = 4000;

// ---- a raw ZooKeeper session, independent of lib/registry --------------------------

interface Raw {
  children(path: string): Promise<string[]>;
  data(path: string): Promise<string | undefined>;
  owner(path: string): Promise<string | undefined>;
  create(path: string, data?: string, ephemeral?: boolean): Promise<void>;
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}

async function raw(address: string): Promise<Raw> {
  const client = zookeeper.createClient(address, { sessionTimeout: SESSION_MS, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ZooKeeper at ${address}`)), 15_000);
    client.once("connected", () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  const noNode = (e: unknown) =>
    (e as { getCode?: () => number })?.getCode?.() === zookeeper.Exception.NO_NODE;
  const call = <T>(start: (done: (e: unknown, v: T) => void) => void) =>
    new Promise<T>((resolve, reject) => start((e, v) => e ? reject(e) : resolve(v)));
  return {
    children: (path) =>
      call<string[]>((done) => client.getChildren(path, done)).catch((e) => {
        if (noNode(e)) return [];
        throw e;
      }),
    data: (path) =>
      call<Buffer | undefined>((done) => client.getData(path, done)).then(
        (b) => b ? b.toString() : "",
        (e) => {
          if (noNode(e)) return undefined;
          throw e;
        },
      ),
    owner: (path) =>
      call<zookeeper.Stat | undefined>((done) => client.exists(path, done)).then((stat) =>
        stat ? Buffer.from(stat.ephemeralOwner).toString("hex") : undefined
      ),
    create: async (path, data = "", ephemeral = false) => {
      await call<string>((done) => client.mkdirp(path.slice(0, path.lastIndexOf("/")), done));
      await call<string>((done) =>
        client.create(
          path,
          Buffer.from(data),
          ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT,
          done,
        )
      );
    },
    remove: (path) =>
      call<void>((done) => client.remove(path, (e) => done(e, undefined))).catch((e) => {
        if (!noNode(e)) throw e;
      }),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        client.once("disconnected", () => {
          clearTimeout(timer);
          resolve();
        });
        client.close();
      }),
  };
}

/** Decoded provider URLs under `path`. */
async function urls(zk: Raw, path = PROVIDERS): Promise<string[]> {
  return (await zk.children(path)).map((name) => decodeURIComponent(name));
}

function keys(directory: Directory): string[] {
  return directory.list().map(endpointKey);
}

/** Records observer calls. */
function recorder() {
  const events = { register: [] as boolean[], subscribe: [] as boolean[], notify: [] as number[] };
  const observer: RegistryObserver = {
    register: (ok) => events.register.push(ok),
    subscribe: (ok) => events.subscribe.push(ok),
    notify: (providers) => events.notify.push(providers),
  };
  return { events, observer };
}

async function withZooKeeper(fn: (zk: Service, rawZk: Raw) => Promise<void>): Promise<void> {
  const zk = await startZooKeeper();
  let rawZk: Raw | undefined;
  try {
    rawZk = await raw(zk.address);
    await fn(zk, rawZk);
  } finally {
    await rawZk?.close();
    await zk.close();
  }
}

interface Extra {
  observer?: RegistryObserver;
  sessionTimeoutMs?: number;
  log?: (line: string) => void;
}

/** The service every registry here registers and subscribes to. */
const SERVICE = serviceInterface([GREET]);

function zkRegistry(address: string, extra: Extra = {}): Registry {
  return createRegistry({
    kind: "zookeeper",
    address,
    service: SERVICE,
    sessionTimeoutMs: SESSION_MS,
    connectTimeoutMs: 15_000,
    ...extra,
  });
}

// ---- tests ------------------------------------------------------------------------

Deno.test("registry: provider node path, URL contents, data and persistent parents", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const { events, observer } = recorder();
    const registry = zkRegistry(zk.address, { observer });
    try {
      await registry.register({ ip: "10.1.2.3", port: 20000, app: "dubbo-metrics-server" });
      const names = await rawZk.children(PROVIDERS);
      assert.equal(names.length, 1);
      const name = names[0];
      assert.ok(!name.includes("/") && !name.includes(":"), "node name is URL-encoded");
      const url = decodeURIComponent(name);
      assert.equal(encodeURIComponent(url), name);
      assert.match(
        url,
        new RegExp(
          "^tri://10\\.1\\.2\\.3:20000/greet\\.GreetService\\?anyhost=true" +
            "&application=dubbo-metrics-server&interface=greet\\.GreetService&methods=Greet" +
            `&pid=${Deno.pid}&release=dubbo-metrics-deno-\\d+\\.\\d+\\.\\d+` +
            "&serialization=protobuf&side=provider&timestamp=\\d{13}$",
        ),
      );
      assert.equal(await rawZk.data(`${PROVIDERS}/${name}`), "10.1.2.3");
      assert.notEqual(await rawZk.owner(`${PROVIDERS}/${name}`), "0000000000000000", "ephemeral");
      for (const category of ["providers", "consumers", "configurators", "routers"]) {
        assert.equal(
          await rawZk.owner(`/dubbo/greet.GreetService/${category}`),
          "0000000000000000",
        );
      }
      assert.deepEqual(events.register, [true]);
    } finally {
      await registry.close();
    }
    assert.deepEqual(await rawZk.children(PROVIDERS), [], "close() removed the node");
  });
});

Deno.test("registry: consumer node, providers added later appear live, round-robin, close drops", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const { events, observer } = recorder();
    const consumer = zkRegistry(zk.address, { observer });
    const first = zkRegistry(zk.address);
    const second = zkRegistry(zk.address);
    try {
      const directory = await consumer.subscribe({ ip: "10.9.9.9", app: "dubbo-metrics-client" });
      assert.deepEqual(directory.list(), []);
      assert.equal(directory.pick(new Set()), undefined, "no provider: pick is undefined");
      assert.deepEqual(events.subscribe, [true]);

      const consumers = await urls(rawZk, CONSUMERS);
      assert.equal(consumers.length, 1);
      assert.match(consumers[0], /^consumer:\/\/10\.9\.9\.9\/greet\.GreetService\?application=/);
      assert.match(consumers[0], /&category=consumers&/);
      assert.match(consumers[0], /&side=consumer&/);
      assert.match(consumers[0], new RegExp(`&pid=${Deno.pid}&`));

      const changes: string[][] = [];
      directory.onChange((endpoints) => changes.push(endpoints.map(endpointKey)));

      await first.register({ ip: "127.0.0.1", port: 21001, app: "p1" });
      await waitFor("first provider discovered", () => directory.list().length === 1);
      await second.register({ ip: "127.0.0.1", port: 21002, app: "p2" });
      await waitFor("second provider discovered", () => directory.list().length === 2);
      assert.deepEqual(keys(directory), ["127.0.0.1:21001", "127.0.0.1:21002"]);
      assert.deepEqual(changes, [["127.0.0.1:21001"], ["127.0.0.1:21001", "127.0.0.1:21002"]]);

      const picked = new Set<string>();
      for (let i = 0; i < 4; i++) picked.add(endpointKey(directory.pick(new Set())!));
      assert.deepEqual([...picked].sort(), ["127.0.0.1:21001", "127.0.0.1:21002"]);
      const other = directory.pick(new Set(["127.0.0.1:21001"]));
      assert.equal(other && endpointKey(other), "127.0.0.1:21002", "failover skips tried");
      assert.equal(directory.pick(new Set(["127.0.0.1:21001", "127.0.0.1:21002"])), undefined);

      await first.close();
      assert.equal((await urls(rawZk)).length, 1, "close() deleted the node before returning");
      await waitFor("closed provider dropped", () => directory.list().length === 1);
      assert.deepEqual(keys(directory), ["127.0.0.1:21002"]);
      assert.ok(events.notify.includes(2) && events.notify.at(-1) === 1);
    } finally {
      await Promise.all([first.close(), second.close(), consumer.close()]);
    }
    assert.deepEqual(await rawZk.children(CONSUMERS), []);
  });
});

Deno.test("registry: dubbo-go and Java tri:// URLs are discovered; dubbo://, other groups and disabled are not", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    // dubbo-go: params sorted (url.Values), empty ones dropped, then url.QueryEscape'd
    // (which writes "+" for a space); timestamp in seconds.
    const goUrl = "tri://127.0.0.1:22001/greet.GreetService?anyhost=true" +
      "&application=dubbo_registry_zookeeper_server&cluster=failover&environment=dev" +
      "&export=true&interface=greet.GreetService&loadbalance=random" +
      "&methods=Greet&module=sample&name=dubbo_registry_zookeeper_server" +
      "&organization=dubbo-go&owner=dubbo go&pid=4242&registry.role=3" +
      "&release=dubbo-golang-3.3.0&serialization=protobuf" +
      "&service.filter=echo,token,tps,generic_service,execute,pshutdown" +
      "&side=provider&timestamp=1718000000&warmup=100";
    // Java (URL.encode = URLEncoder): Triple provider, and a dubbo:// one we cannot speak.
    const javaTri = "tri://127.0.0.1:22002/greet.GreetService?anyhost=true" +
      "&application=java-provider&deprecated=false&dubbo=2.0.2&dynamic=true&generic=false" +
      "&interface=greet.GreetService&methods=greet,greetStream&pid=777&release=3.3.0" +
      "&service-name-mapping=true&side=provider&timestamp=1718000000000";
    const javaDubbo = javaTri.replace("tri://127.0.0.1:22002", "dubbo://127.0.0.1:20880");
    const otherGroup = providerUrl({
      service: SERVICE,
      ip: "127.0.0.1",
      port: 22003,
      app: "grouped",
      group: "blue",
      version: "2.0.0",
      pid: 1,
      timestamp: 1,
    });
    const disabled = javaTri.replace("22002", "22004") + "&enabled=false";
    const otherInterface = javaTri.replace("22002", "22005")
      .replaceAll("greet.GreetService", "other.Service");
    for (const url of [goUrl, javaTri, javaDubbo, disabled, otherInterface]) {
      await rawZk.create(`${PROVIDERS}/${goQueryEscape(url)}`, "", true);
    }
    await rawZk.create(`${PROVIDERS}/${encodeURIComponent(otherGroup)}`, "", true);

    const consumer = zkRegistry(zk.address);
    const blue = zkRegistry(zk.address);
    try {
      const directory = await consumer.subscribe({ ip: "127.0.0.1", app: "c" });
      assert.deepEqual(keys(directory), ["127.0.0.1:22001", "127.0.0.1:22002"]);
      const blueDirectory = await blue.subscribe({
        ip: "127.0.0.1",
        app: "c",
        group: "blue",
        version: "2.0.0",
      });
      assert.deepEqual(keys(blueDirectory), ["127.0.0.1:22003"]);
    } finally {
      await Promise.all([consumer.close(), blue.close()]);
    }
  });
});

/** Go's url.QueryEscape: like encodeURIComponent, but also !'()* escaped and space as "+". */
function goQueryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

Deno.test("registry: parseProviderUrl reads raw URLs and node names", () => {
  const url = providerUrl({
    service: SERVICE,
    ip: "10.0.0.5",
    port: 20000,
    app: "a",
    group: "g",
    version: "1.0",
    pid: 7,
    timestamp: 1700000000000,
  });
  assert.equal(
    url,
    "tri://10.0.0.5:20000/greet.GreetService?anyhost=true&application=a&group=g" +
      "&interface=greet.GreetService&methods=Greet&pid=7&release=dubbo-metrics-deno-0.1.0" +
      "&serialization=protobuf&side=provider&timestamp=1700000000000&version=1.0",
  );
  const expected = {
    host: "10.0.0.5",
    port: 20000,
    group: "g",
    version: "1.0",
    protocol: "tri",
    enabled: true,
  };
  assert.deepEqual(parseProviderUrl(url), expected);
  assert.deepEqual(parseProviderUrl(encodeURIComponent(url)), expected);
  assert.deepEqual(parseProviderUrl(goQueryEscape(url)), expected);
  assert.equal(parseProviderUrl("dubbo://[::1]:20880/x?enabled=false")?.host, "::1");
  assert.equal(parseProviderUrl("dubbo://[::1]:20880/x?enabled=false")?.enabled, false);
  assert.equal(parseProviderUrl("not a url"), undefined);
  assert.equal(parseProviderUrl("tri://host:99999/x"), undefined);
});

/** Collects log lines; `has` for readiness polls. */
function logSink() {
  const lines: string[] = [];
  return {
    lines,
    log: (line: string) => lines.push(line),
    has: (t: string) => lines.some((l) => l.includes(t)),
  };
}

/** ZooKeeper's count of live sessions (`mntr` zk_global_sessions). */
async function liveSessions(port: number): Promise<number> {
  const match = /zk_global_sessions\s+(\d+)/.exec(await fourLetterWord(port, "mntr"));
  return match ? Number(match[1]) : -1;
}

/** Starts a provider in a separate Deno process; stdin line "close" closes it gracefully. */
function spawnProvider(address: string, port: number): Deno.ChildProcess {
  const code = `
    import { createRegistry } from ${
    JSON.stringify(new URL("../lib/registry/mod.ts", import.meta.url).href)
  };
    const registry = createRegistry({ kind: "zookeeper", address: Deno.env.get("ZK"),
      service: { name: "greet.GreetService", methods: ["Greet"] }, sessionTimeoutMs: ${SESSION_MS}, log: (line) => console.log(line) });
    await registry.register({ ip: "127.0.0.1", port: Number(Deno.env.get("PORT")), app: "child" });
    console.log("registered");
    const reader = Deno.stdin.readable.getReader();
    await reader.read();
    reader.releaseLock();
    const started = Date.now();
    await registry.close();
    console.log("closed in " + (Date.now() - started) + " ms");
  `;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", new URL("../deno.json", import.meta.url).pathname, code],
    env: { ZK: address, PORT: String(port) },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Kills a child provider if it still runs (`signals` in order), and waits for it to end. */
async function reap(
  child: Deno.ChildProcess,
  stdout: ReadableStreamDefaultReader<Uint8Array>,
  signals: Deno.Signal[] = ["SIGKILL"],
): Promise<void> {
  try {
    for (const signal of signals) child.kill(signal);
  } catch { /* exited */ }
  stdout.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.status;
}

/** Reads a child's stdout until it printed `text`. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string) {
  const decoder = new TextDecoder();
  let out = "";
  while (!out.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child exited before printing "${text}": ${out}`);
    out += decoder.decode(value, { stream: true });
  }
  return out;
}

Deno.test("registry: a SIGKILLed provider disappears after the session timeout and the directory drops it", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const consumer = zkRegistry(zk.address);
    const child = spawnProvider(zk.address, 23001);
    const stdout = child.stdout.getReader();
    try {
      const directory = await consumer.subscribe({ ip: "127.0.0.1", app: "c" });
      await readUntil(stdout, "registered");
      await waitFor("child provider discovered", () => directory.list().length === 1);
      child.kill("SIGKILL");
      await child.status;
      assert.equal((await urls(rawZk)).length, 1, "node outlives the process until expiry");
      await waitFor("killed provider dropped", () => directory.list().length === 0, 20_000);
      assert.deepEqual(await rawZk.children(PROVIDERS), []);
    } finally {
      await reap(child, stdout);
      await consumer.close();
    }
  });
});

Deno.test("registry: a provider process closes with ZooKeeper down and exits by itself", async () => {
  const zk = await startZooKeeper();
  const child = spawnProvider(zk.address, 23002);
  const stdout = child.stdout.getReader();
  try {
    await readUntil(stdout, "registered");
    await zk.stop();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("close\n"));
    await writer.close();
    // No dangling reconnect loop or timer: the process ends on its own after close().
    const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const [out, status] = await Promise.all([readUntil(stdout, "closed in"), child.status]);
    clearTimeout(guard);
    assert.equal(status.code, 0, `exited by itself (${status.signal ?? "no signal"})`);
    assert.match(out, /closed in \d+ ms/);
  } finally {
    await reap(child, stdout);
    await zk.close();
  }
});

Deno.test("registry: close() with ZooKeeper down returns and leaves nothing running", async () => {
  const zk = await startZooKeeper();
  try {
    const registry = zkRegistry(zk.address);
    await registry.register({ ip: "127.0.0.1", port: 23003, app: "p" });
    await zk.stop();
    let guard: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      registry.close().then(() => "closed"),
      new Promise((resolve) => guard = setTimeout(() => resolve("hung"), 10_000)),
    ]);
    clearTimeout(guard);
    assert.equal(outcome, "closed");
    // Deno's op sanitizer fails this test if a timer or socket of the client is left.
  } finally {
    await zk.close();
  }
});

Deno.test("registry: close() with a frozen ZooKeeper (socket open, no answers) is bounded", async () => {
  const zk = await startZooKeeper();
  let frozen = false;
  try {
    const registry = zkRegistry(zk.address);
    await registry.register({ ip: "127.0.0.1", port: 23004, app: "p" });
    Deno.kill(zk.pid(), "SIGSTOP");
    frozen = true;
    let guard: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      registry.close().then(() => "closed"),
      new Promise((resolve) => guard = setTimeout(() => resolve("hung"), 10_000)),
    ]);
    clearTimeout(guard);
    assert.equal(outcome, "closed");
  } finally {
    if (frozen) Deno.kill(zk.pid(), "SIGCONT");
    await zk.close();
  }
});

Deno.test("registry: ZooKeeper down longer than the session: nodes and watches come back on a new session", async () => {
  const zk = await startZooKeeper();
  const providerLog = logSink();
  const consumerLog = logSink();
  const { events, observer } = recorder();
  const provider = zkRegistry(zk.address, { log: providerLog.log, observer });
  const consumer = zkRegistry(zk.address, { log: consumerLog.log });
  const late = zkRegistry(zk.address);
  let rawZk: Raw | undefined;
  try {
    await provider.register({ ip: "127.0.0.1", port: 24001, app: "p" });
    const directory = await consumer.subscribe({ ip: "127.0.0.1", app: "c" });
    await waitFor("provider discovered", () => directory.list().length === 1);
    rawZk = await raw(zk.address);
    const [name] = await rawZk.children(PROVIDERS);
    const firstOwner = await rawZk.owner(`${PROVIDERS}/${name}`);
    await rawZk.close();

    await zk.stop();
    const expired = "session considered expired";
    await waitFor("provider gives up its session", () => providerLog.has(expired), 20_000);
    await waitFor("consumer gives up its session", () => consumerLog.has(expired), 20_000);
    assert.deepEqual(keys(directory), ["127.0.0.1:24001"], "last known providers kept");

    await zk.restart();
    rawZk = await raw(zk.address);
    const raw2 = rawZk;
    await waitFor("provider node re-created by a new session", async () => {
      const owner = await raw2.owner(`${PROVIDERS}/${name}`);
      return owner !== undefined && owner !== firstOwner;
    }).catch((error) => {
      throw new Error(`${error.message}\nprovider log:\n${providerLog.lines.join("\n")}`);
    });
    await waitFor(
      "consumer node re-created",
      async () => (await raw2.children(CONSUMERS)).length === 1,
    );
    // The old sessions, restored by the restarted ZooKeeper, expire and take nothing of ours.
    await waitFor("old sessions gone", async () => (await liveSessions(zk.port)) === 3, 20_000);
    assert.deepEqual(await rawZk.children(PROVIDERS), [name]);
    assert.equal((await rawZk.children(CONSUMERS)).length, 1);
    assert.deepEqual(events.register, [true, true]);

    await late.register({ ip: "127.0.0.1", port: 24002, app: "late" });
    await waitFor(
      "new provider seen through the renewed watch",
      () => directory.list().length === 2,
    );
    await late.close();
    await waitFor("removal seen through the renewed watch", () => directory.list().length === 1);
    assert.deepEqual(keys(directory), ["127.0.0.1:24001"]);
  } finally {
    await Promise.all([provider.close(), consumer.close(), late.close()]);
    await rawZk?.close();
    await zk.close();
  }
});

Deno.test("registry: ZooKeeper restarted with its data lost: parents, nodes and watches re-created", async () => {
  const zk = await startZooKeeper();
  const provider = zkRegistry(zk.address);
  const consumer = zkRegistry(zk.address);
  let rawZk: Raw | undefined;
  try {
    // Interface-level only: at the default (auto), application-level providers would win.
    await provider.register({ ip: "127.0.0.1", port: 25001, app: "p", registerMode: "interface" });
    const directory = await consumer.subscribe({ ip: "127.0.0.1", app: "c" });
    await waitFor("provider discovered", () => directory.list().length === 1);
    await zk.stop();
    await Deno.remove(`${zk.dir}/data/version-2`, { recursive: true });
    await zk.restart();
    rawZk = await raw(zk.address);
    const raw2 = rawZk;
    await waitFor("provider node re-created", async () => (await urls(raw2)).length === 1, 20_000);
    await waitFor(
      "consumer node re-created",
      async () => (await raw2.children(CONSUMERS)).length === 1,
    );
    assert.deepEqual((await rawZk.children("/dubbo/greet.GreetService")).sort(), [
      "configurators",
      "consumers",
      "providers",
      "routers",
    ]);
    assert.deepEqual(keys(directory), ["127.0.0.1:25001"]);
    const added = "tri://127.0.0.1:25002/greet.GreetService?interface=greet.GreetService";
    await rawZk.create(`${PROVIDERS}/${encodeURIComponent(added)}`, "", true);
    await waitFor("watch renewed", () => directory.list().length === 2);
  } finally {
    await Promise.all([provider.close(), consumer.close()]);
    await rawZk?.close();
    await zk.close();
  }
});

Deno.test("registry: a paused provider whose session ZooKeeper expired re-registers on resume", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const consumer = zkRegistry(zk.address);
    const child = spawnProvider(zk.address, 25003);
    const stdout = child.stdout.getReader();
    try {
      const directory = await consumer.subscribe({ ip: "127.0.0.1", app: "c" });
      await readUntil(stdout, "registered");
      await waitFor("provider discovered", () => directory.list().length === 1);
      const [name] = await rawZk.children(PROVIDERS);
      const firstOwner = await rawZk.owner(`${PROVIDERS}/${name}`);
      // Frozen like a long GC pause or a suspended VM: no pings, ZooKeeper expires it.
      child.kill("SIGSTOP");
      await waitFor("session expired by ZooKeeper", () => directory.list().length === 0, 20_000);
      child.kill("SIGCONT");
      await readUntil(stdout, "ZooKeeper session expired");
      await waitFor("provider re-registered", () => directory.list().length === 1);
      assert.deepEqual(await rawZk.children(PROVIDERS), [name]);
      assert.notEqual(await rawZk.owner(`${PROVIDERS}/${name}`), firstOwner);
    } finally {
      await reap(child, stdout, ["SIGCONT", "SIGKILL"]);
      await consumer.close();
    }
  });
});

Deno.test("registry: chroot connect string and an ensemble with a dead member", async () => {
  await withZooKeeper(async (zk, rawZk) => {
    const deadPort = await freePort();
    const ensemble = `127.0.0.1:${deadPort},${zk.address}`;
    const chrooted = zkRegistry(`${ensemble}/apps/demo`);
    const sameRoot = zkRegistry(`${zk.address}/apps/demo`);
    const noRoot = zkRegistry(zk.address);
    try {
      await chrooted.register({ ip: "127.0.0.1", port: 26001, app: "p" });
      assert.equal((await urls(rawZk, `/apps/demo${PROVIDERS}`)).length, 1);
      assert.deepEqual(await rawZk.children(PROVIDERS), []);
      const inside = await sameRoot.subscribe({ ip: "127.0.0.1", app: "c" });
      assert.deepEqual(keys(inside), ["127.0.0.1:26001"]);
      const outside = await noRoot.subscribe({ ip: "127.0.0.1", app: "c" });
      assert.deepEqual(outside.list(), []);
    } finally {
      await Promise.all([chrooted.close(), sameRoot.close(), noRoot.close()]);
    }
  });
});

Deno.test("registry: register rejects with a clear error when ZooKeeper is unreachable", async () => {
  const port = await freePort();
  const registry = createRegistry({
    kind: "zookeeper",
    address: `127.0.0.1:${port}`,
    service: SERVICE,
    connectTimeoutMs: 500,
  });
  try {
    await assert.rejects(
      registry.register({ ip: "127.0.0.1", port: 27001, app: "p" }),
      (error: Error) => {
        assert.match(error.message, /cannot register greet\.GreetService provider/);
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.match(error.message, /no ZooKeeper session within 500 ms/);
        return true;
      },
    );
  } finally {
    await registry.close();
  }
});

Deno.test("registry: none serves the static providers", async () => {
  const registry = createRegistry({
    kind: "none",
    address: "",
    service: SERVICE,
    staticProviders: [{ host: "127.0.0.1", port: 20000 }],
  });
  await registry.register({ ip: "127.0.0.1", port: 20000, app: "p" });
  const directory = await registry.subscribe({ ip: "127.0.0.1", app: "c" });
  assert.deepEqual(directory.pick(new Set()), { host: "127.0.0.1", port: 20000 });
  assert.equal(directory.pick(new Set(["127.0.0.1:20000"])), undefined);
  await registry.close();
});

Deno.test("registry: directory rotates within the untried and notifies only on change", () => {
  const directory = new ProviderDirectory();
  let changes = 0;
  directory.onChange(() => changes++);
  assert.equal(directory.update([{ host: "b", port: 2 }, { host: "a", port: 1 }]), true);
  assert.equal(directory.update([{ host: "a", port: 1 }, { host: "b", port: 2 }]), false);
  assert.equal(changes, 1);
  assert.deepEqual(keys(directory), ["a:1", "b:2"]);
  const picks = [0, 1, 2, 3].map(() => endpointKey(directory.pick(new Set())!));
  assert.deepEqual(picks, ["a:1", "b:2", "a:1", "b:2"]);
  for (let i = 0; i < 4; i++) assert.equal(endpointKey(directory.pick(new Set(["a:1"]))!), "b:2");
  directory.update([]);
  assert.equal(directory.pick(new Set()), undefined);
  assert.equal(changes, 2);
});
