import assert from "node:assert/strict";
import net from "node:net";
import {
  codeOfGrpcStatus,
  codeOfHttpStatus,
  CODES,
  createClient as createConsumer,
  grpcStatusOf,
  httpStatusOf,
  readTimeout,
  RpcError,
  serveProvider,
} from "../lib/triple/mod.ts";
import {
  decodeGreetRequest,
  decodeGreetResponse,
  encodeGreetRequest,
  encodeGreetResponse,
  GREET,
  greetService,
  runCallLoop,
} from "../lib/greet/mod.ts";
import { freePort } from "../tools/ports.ts";
import { recordingObserver } from "./support/recording_observer.ts";
import { withProvider } from "./support/provider.ts";
import { waitFor } from "./support/services.ts";

Deno.test("greet codecs round-trip protobuf and JSON, with proto field names", () => {
  const proto = encodeGreetRequest("Dubbo", "proto");
  assert.deepEqual([...proto], [0x0a, 5, ...new TextEncoder().encode("Dubbo")]);
  assert.equal(decodeGreetRequest(proto, "proto").name, "Dubbo");
  assert.equal(new TextDecoder().decode(encodeGreetResponse("hi", "json")), '{"greeting":"hi"}');
  assert.equal(decodeGreetResponse(encodeGreetResponse("hi", "proto"), "proto").greeting, "hi");
  assert.equal(
    decodeGreetRequest(new TextEncoder().encode('{"name":"x","extra":1}'), "json").name,
    "x",
  );
  assert.throws(() => decodeGreetRequest(new TextEncoder().encode('{"name":1}'), "json"));
  assert.throws(() => decodeGreetRequest(new TextEncoder().encode(""), "json"));
  assert.throws(() => decodeGreetRequest(new Uint8Array([0x0a, 9, 1]), "proto"));
});

Deno.test("error codes map to dubbo-go HTTP statuses and gRPC numbers", () => {
  // dubbo-go's code → HTTP status table (reference/protocols.md), read by status.
  const byStatus: Record<number, string[]> = {
    400: ["invalid_argument", "out_of_range"],
    401: ["unauthenticated"],
    403: ["permission_denied"],
    404: ["not_found", "unimplemented"],
    408: ["canceled", "deadline_exceeded"],
    409: ["already_exists", "aborted"],
    412: ["failed_precondition"],
    429: ["resource_exhausted"],
    500: ["unknown", "internal", "data_loss"],
    503: ["unavailable"],
  };
  const expected = Object.fromEntries(
    Object.entries(byStatus).flatMap(([status, codes]) => codes.map((c) => [c, Number(status)])),
  );
  assert.equal(CODES.length, 16);
  for (const code of CODES) assert.equal(httpStatusOf(code), expected[code], code);
  assert.equal(grpcStatusOf("unknown"), 2);
  assert.equal(grpcStatusOf("deadline_exceeded"), 4);
  assert.equal(grpcStatusOf("unimplemented"), 12);
  assert.equal(grpcStatusOf("unauthenticated"), 16);
  assert.equal(codeOfGrpcStatus(14), "unavailable");
  assert.equal(codeOfGrpcStatus(0), undefined);
  assert.equal(codeOfHttpStatus(503), "unavailable");
  assert.equal(codeOfHttpStatus(418), "unknown");
  assert.equal(new RpcError("unknown", "random error").toString(), "unknown: random error");
});

Deno.test("timeout headers: ms headers, grpc-timeout units, smallest wins, bad values rejected", () => {
  const headers = (values: Record<string, string>) => (name: string) => values[name];
  assert.deepEqual(readTimeout(headers({})), { ok: true, ms: undefined });
  assert.deepEqual(readTimeout(headers({ "triple-timeout-ms": "1500" })), { ok: true, ms: 1500 });
  assert.deepEqual(readTimeout(headers({ "tri-service-timeout": "20" })), { ok: true, ms: 20 });
  assert.deepEqual(readTimeout(headers({ "connect-timeout-ms": "7" })), { ok: true, ms: 7 });
  assert.deepEqual(readTimeout(headers({ "grpc-timeout": "2S" })), { ok: true, ms: 2000 });
  assert.deepEqual(readTimeout(headers({ "grpc-timeout": "1500u" })), { ok: true, ms: 2 });
  assert.deepEqual(readTimeout(headers({ "grpc-timeout": "1M", "triple-timeout-ms": "30" })), {
    ok: true,
    ms: 30,
  });
  assert.equal(readTimeout(headers({ "triple-timeout-ms": "-1" })).ok, false);
  assert.equal(readTimeout(headers({ "triple-timeout-ms": "12345678901" })).ok, false);
  assert.equal(readTimeout(headers({ "grpc-timeout": "10" })).ok, false);
  assert.equal(readTimeout(headers({ "grpc-timeout": "123456789S" })).ok, false);
});

for (const transport of ["http1", "h2c"] as const) {
  for (const serialization of ["protobuf", "json"] as const) {
    Deno.test(`consumer calls provider over ${transport} with ${serialization}`, async () => {
      const server = recordingObserver();
      const client = recordingObserver();
      await withProvider({ observer: server.observer }, async (_provider, endpoint) => {
        const consumer = createConsumer({
          timeoutMs: 3000,
          serialization,
          http: transport === "h2c" ? "2" : "1.1",
          observer: client.observer,
        });
        try {
          assert.equal(await consumer.call(GREET, endpoint, "Dubbo"), "Dubbo");
          assert.equal(await consumer.call(GREET, endpoint, "héllo 世界"), "héllo 世界");
        } finally {
          consumer.close();
        }
      });
      const target = { interface: GREET.service, method: GREET.method, group: "", version: "" };
      for (const calls of [server.calls, client.calls]) {
        assert.equal(calls.length, 2);
        for (const call of calls) {
          assert.deepEqual(call.target, target);
          assert.deepEqual(call.ends, [null]);
        }
      }
    });
  }
}

Deno.test("random failure: unknown / random error on the wire; a business failure to the provider, unknown to the consumer", async () => {
  const server = recordingObserver();
  const client = recordingObserver();
  await withProvider({ failureRate: 1, observer: server.observer }, async (_p, endpoint) => {
    const consumer = createConsumer({
      timeoutMs: 3000,
      serialization: "protobuf",
      observer: client.observer,
    });
    try {
      await assert.rejects(consumer.call(GREET, endpoint, "x"), (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, "unknown");
        assert.equal(error.message, "random error");
        return true;
      });
    } finally {
      consumer.close();
    }
  });
  // The handler failed: dubbo-go's provider counts that as business_failed (and so do we);
  // the consumer sees the wire's `unknown`, as dubbo-go's consumer counts ours.
  assert.deepEqual(server.calls.map((c) => c.ends), [["biz_error"]]);
  assert.deepEqual(client.calls.map((c) => c.ends), [["unknown"]]);
});

Deno.test("consumer deadline: provider delay beyond the deadline gives deadline_exceeded", async () => {
  const server = recordingObserver();
  await withProvider({ delayMs: 2000, observer: server.observer }, async (_p, endpoint) => {
    for (const transport of ["http1", "h2c"] as const) {
      const consumer = createConsumer({
        timeoutMs: 100,
        serialization: "json",
        http: transport === "h2c" ? "2" : "1.1",
      });
      try {
        await assert.rejects(
          consumer.call(GREET, endpoint, "slow"),
          (error: unknown) => error instanceof RpcError && error.code === "deadline_exceeded",
        );
      } finally {
        consumer.close();
      }
    }
  });
  // Each attempt ends once on the provider: its own deadline (sent as a header) or the
  // client hanging up first. rpc_errors_test.ts checks the provider-side deadline alone.
  assert.equal(server.calls.length, 2);
  for (const call of server.calls) {
    assert.equal(call.ends.length, 1);
    assert.ok(["deadline_exceeded", "canceled"].includes(call.ends[0] as string));
  }
});

Deno.test("consumer maps a refused connection to unavailable", async () => {
  const port = await freePort();
  const consumer = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
  try {
    await assert.rejects(
      consumer.call(GREET, { host: "127.0.0.1", port }, "x"),
      (error: unknown) => error instanceof RpcError && error.code === "unavailable",
    );
  } finally {
    consumer.close();
  }
});

Deno.test("consumer maps a connection reset to unavailable", async () => {
  const server = net.createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const consumer = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
  try {
    await assert.rejects(
      consumer.call(GREET, { host: "127.0.0.1", port }, "x"),
      (error: unknown) => error instanceof RpcError && error.code === "unavailable",
    );
  } finally {
    consumer.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("group/version routing: only the configured group and version are served", async () => {
  const server = recordingObserver();
  await withProvider(
    { group: "g1", version: "1.0.0", observer: server.observer },
    async (_p, endpoint) => {
      const right = createConsumer({
        timeoutMs: 2000,
        serialization: "json",
        group: "g1",
        version: "1.0.0",
      });
      const wrong = createConsumer({ timeoutMs: 2000, serialization: "json", group: "g2" });
      const none = createConsumer({ timeoutMs: 2000, serialization: "json" });
      try {
        assert.equal(await right.call(GREET, endpoint, "ok"), "ok");
        for (const consumer of [wrong, none]) {
          await assert.rejects(
            consumer.call(GREET, endpoint, "x"),
            (error: unknown) => error instanceof RpcError && error.code === "unimplemented",
          );
        }
      } finally {
        right.close();
        wrong.close();
        none.close();
      }
    },
  );
  // Only the routed call is observed, with the provider's group/version.
  assert.equal(server.calls.length, 1);
  assert.deepEqual(server.calls[0].target, {
    interface: GREET.service,
    method: GREET.method,
    group: "g1",
    version: "1.0.0",
  });
});

Deno.test("serveProvider rejects with a clear error when the port is in use", async () => {
  await withProvider({}, async (provider) => {
    await assert.rejects(
      serveProvider({
        hostname: "127.0.0.1",
        port: provider.port,
        services: [greetService({ failureRate: 0, delayMs: 0 })],
      }),
      /already in use/,
    );
  });
});

Deno.test("close waits for in-flight calls, then refuses new connections", async () => {
  const provider = await serveProvider({
    hostname: "127.0.0.1",
    port: 0,
    services: [greetService({ failureRate: 0, delayMs: 300 })],
  });
  const endpoint = { host: "127.0.0.1", port: provider.port };
  const consumer = createConsumer({ timeoutMs: 5000, serialization: "protobuf" });
  try {
    const pending = consumer.call(GREET, endpoint, "in flight");
    await waitFor("the call to arrive", () => provider.inFlight() === 1);
    const closed = provider.close(5000);
    assert.equal(await pending, "in flight");
    await closed;
    assert.equal(provider.inFlight(), 0);
    const fresh = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
    try {
      await assert.rejects(
        fresh.call(GREET, endpoint, "late"),
        (error: unknown) => error instanceof RpcError && error.code === "unavailable",
      );
    } finally {
      fresh.close();
    }
  } finally {
    consumer.close();
    await provider.close();
  }
});

Deno.test("close gives up on calls that outlast the grace period", async () => {
  const provider = await serveProvider({
    hostname: "127.0.0.1",
    port: 0,
    services: [greetService({ failureRate: 0, delayMs: 10_000 })],
  });
  const consumer = createConsumer({ timeoutMs: 20_000, serialization: "protobuf" });
  try {
    const outcome = consumer.call(GREET, { host: "127.0.0.1", port: provider.port }, "x")
      .then(() => undefined, (error: unknown) => error);
    await waitFor("the call to arrive", () => provider.inFlight() === 1);
    await provider.close(50);
    assert.ok((await outcome) instanceof RpcError);
    assert.equal(provider.inFlight(), 0);
  } finally {
    consumer.close();
  }
});

Deno.test("call loop: count calls, sample log lines, summary, stats", async () => {
  await withProvider({}, async (_p, endpoint) => {
    const consumer = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
    const lines: string[] = [];
    try {
      const { stats, done } = runCallLoop({
        client: consumer,
        pick: () => endpoint,
        intervalMs: 1,
        concurrency: 2,
        count: 5,
        retries: 2,
        log: (line) => lines.push(line),
      });
      await done;
      assert.equal(stats.calls, 5);
      assert.equal(stats.succeeded, 5);
      assert.equal(stats.failed, 0);
      assert.equal(lines.filter((l) => l === "Greet response: hello world").length, 5);
      assert.match(
        lines.at(-1) ?? "",
        /^Summary: calls=5 qps=[\d.]+ success=100\.00% p99=[\d.]+ms$/,
      );
      assert.ok(stats.p99Ms() > 0);
    } finally {
      consumer.close();
    }
  });
});

Deno.test("call loop: fails over to another endpoint on unavailable, up to retries", async () => {
  const dead = { host: "127.0.0.1", port: await freePort() };
  await withProvider({}, async (_p, alive) => {
    const consumer = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
    const order = [dead, alive];
    const picked: string[] = [];
    const lines: string[] = [];
    try {
      const pick = (tried: ReadonlySet<string>) => {
        const next = order.find((e) => !tried.has(`${e.host}:${e.port}`));
        if (next) picked.push(`${next.host}:${next.port}`);
        return next;
      };
      const run = runCallLoop({
        client: consumer,
        pick,
        intervalMs: 0,
        concurrency: 1,
        count: 1,
        retries: 2,
        log: (l) => lines.push(l),
      });
      await run.done;
      assert.deepEqual(picked, [`127.0.0.1:${dead.port}`, `127.0.0.1:${alive.port}`]);
      assert.equal(run.stats.succeeded, 1);

      // retries = 0: no failover, the call fails with unavailable.
      const noFailover = runCallLoop({
        client: consumer,
        pick,
        intervalMs: 0,
        concurrency: 1,
        count: 1,
        retries: 0,
        log: (l) => lines.push(l),
      });
      await noFailover.done;
      assert.equal(noFailover.stats.failed, 1);
      assert.match(lines.join("\n"), /Greet failed: unavailable: /);
    } finally {
      consumer.close();
    }
  });
});

Deno.test("call loop: no failover on errors other than unavailable", async () => {
  await withProvider({ failureRate: 1 }, async (_p, endpoint) => {
    const consumer = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
    let picks = 0;
    const lines: string[] = [];
    try {
      const { stats, done } = runCallLoop({
        client: consumer,
        pick: () => {
          picks++;
          return endpoint;
        },
        intervalMs: 0,
        concurrency: 1,
        count: 1,
        retries: 3,
        log: (l) => lines.push(l),
      });
      await done;
      assert.equal(picks, 1);
      assert.equal(stats.failed, 1);
      assert.ok(lines.includes("Greet failed: unknown: random error"), lines.join("\n"));
    } finally {
      consumer.close();
    }
  });
});

Deno.test("call loop: no provider logs a clear error per call and keeps going", async () => {
  const consumer = createConsumer({ timeoutMs: 2000, serialization: "protobuf" });
  const lines: string[] = [];
  try {
    const { stats, done } = runCallLoop({
      client: consumer,
      pick: () => undefined,
      intervalMs: 0,
      concurrency: 1,
      count: 3,
      retries: 2,
      log: (l) => lines.push(l),
      summaryIntervalMs: 0,
    });
    await done;
    assert.equal(stats.calls, 3);
    assert.equal(stats.failed, 3);
    assert.equal(
      lines.filter((l) => l.includes("no provider available for greet.GreetService")).length,
      3,
    );
  } finally {
    consumer.close();
  }
});

Deno.test("call loop: abort stops after in-flight calls finish", async () => {
  await withProvider({ delayMs: 100 }, async (provider, endpoint) => {
    const consumer = createConsumer({ timeoutMs: 5000, serialization: "protobuf" });
    const controller = new AbortController();
    try {
      const { stats, done } = runCallLoop({
        client: consumer,
        pick: () => endpoint,
        intervalMs: 60_000,
        concurrency: 2,
        count: 0,
        retries: 0,
        signal: controller.signal,
        log: () => {},
      });
      await waitFor("both workers to call", () => provider.inFlight() === 2);
      controller.abort();
      await done;
      assert.equal(stats.calls, 2);
      assert.equal(stats.succeeded, 2);
    } finally {
      consumer.close();
    }
  });
});
