/**
 * `grpc.health.v1.Health` and server reflection against real peers: `grpcurl` and
 * `grpc-health-probe` (built with `go install` at pinned versions), the grpc-js health
 * client (`Watch` as dubbo-go consumers open it, `Check` with gzip), curl for `Check`
 * over Triple; and the provider's generic extra unary methods.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "../lib/gen/grpc/reflection/v1/reflection_pb.ts";
import { createClient as createConsumer, RpcError, unaryMethod } from "../lib/triple/mod.ts";
import { GREET, GreetRequestSchema, GreetResponseSchema } from "../lib/greet/mod.ts";
import { runGoTool } from "./support/go_tools.ts";
import { curl } from "./support/curl.ts";
import { withProvider } from "./support/provider.ts";
import { startProgram } from "./support/programs.ts";
import { freePort } from "../tools/ports.ts";

const HEALTH_PROTO = new URL("../proto/grpc/health/v1/health.proto", import.meta.url).pathname;

/** A test-only extra method: upper-cases the name (proves `ProviderOptions.internal`). */
const UPPER = unaryMethod({
  service: "test.Shout",
  method: "Upper",
  input: GreetRequestSchema,
  output: GreetResponseSchema,
  handler(request) {
    if (request.name === "") throw new RpcError("invalid_argument", "name is empty");
    return create(GreetResponseSchema, { greeting: request.name.toUpperCase() });
  },
});

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
}

function healthClient(port: number, options: grpc.ChannelOptions = {}): HealthClient {
  const definition = protoLoader.loadSync(HEALTH_PROTO, { enums: String });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: {
      health: {
        v1: {
          Health: new (
            address: string,
            creds: grpc.ChannelCredentials,
            options: grpc.ChannelOptions,
          ) => HealthClient;
        };
      };
    };
  };
  return new loaded.grpc.health.v1.Health(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    options,
  );
}

Deno.test("reflection: grpcurl lists and describes greet.GreetService (v1)", async () => {
  await withProvider({ internal: [UPPER] }, async ({ port }) => {
    const address = `127.0.0.1:${port}`;
    const list = await runGoTool("grpcurl", ["-plaintext", address, "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split("\n"), [
      "greet.GreetService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]); // test.Shout has no service descriptor to serve, so it is not listed
    const describe = await runGoTool("grpcurl", [
      "-plaintext",
      address,
      "describe",
      "greet.GreetService",
    ]);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(
      describe.stdout,
      /rpc Greet \( \.greet\.GreetRequest \) returns \( \.greet\.GreetResponse \)/,
    );
    const message = await runGoTool("grpcurl", [
      "-plaintext",
      address,
      "describe",
      "greet.GreetRequest",
    ]);
    assert.match(message.stdout, /string name = 1;/);
    const missing = await runGoTool("grpcurl", ["-plaintext", address, "describe", "no.Such"]);
    assert.notEqual(missing.code, 0);
    // A call through reflection: grpcurl learns the schema, then calls over gRPC.
    const call = await runGoTool("grpcurl", [
      "-plaintext",
      "-d",
      '{"name":"Dubbo"}',
      address,
      "greet.GreetService/Greet",
    ]);
    assert.equal(call.code, 0, call.stderr);
    assert.deepEqual(JSON.parse(call.stdout), { greeting: "Dubbo" });
    // grpcurl from the proto file instead of reflection: same answer.
    const upper = await runGoTool("grpcurl", [
      "-plaintext",
      "-import-path",
      new URL("../proto", import.meta.url).pathname,
      "-proto",
      "greet/greet.proto",
      "-d",
      '{"name":"dubbo"}',
      address,
      "greet.GreetService/Greet",
    ]);
    assert.deepEqual(JSON.parse(upper.stdout), { greeting: "dubbo" });
  });
});

Deno.test("reflection: the v1alpha service answers list_services too", async () => {
  await withProvider({}, async ({ port }) => {
    // grpcurl speaks v1 first; ask v1alpha directly through its own method.
    const result = await runGoTool("grpcurl", [
      "-plaintext",
      "-d",
      '{"list_services":""}',
      "-import-path",
      new URL("../proto", import.meta.url).pathname,
      "-proto",
      "grpc/reflection/v1alpha/reflection.proto",
      `127.0.0.1:${port}`,
      "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const names = JSON.parse(result.stdout).listServicesResponse.service.map(
      (s: { name: string }) => s.name,
    );
    assert.ok(names.includes("greet.GreetService"), result.stdout);
  });
});

Deno.test("health: grpc-health-probe (Kubernetes-style Check) sees SERVING, then NOT_SERVING", async () => {
  await withProvider({}, async (provider, { port }) => {
    const address = `127.0.0.1:${port}`;
    const up = await runGoTool("grpc-health-probe", ["-addr", address]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr + up.stdout, /status: SERVING/);
    const greet = await runGoTool("grpc-health-probe", [
      "-addr",
      address,
      "-service",
      "greet.GreetService",
    ]);
    assert.equal(greet.code, 0, greet.stderr);
    const unknown = await runGoTool("grpc-health-probe", ["-addr", address, "-service", "no.Such"]);
    assert.notEqual(unknown.code, 0);
    provider.setServing(false);
    const down = await runGoTool("grpc-health-probe", ["-addr", address]);
    assert.equal(down.code, 4, down.stderr); // the probe's "unhealthy" exit code
    assert.match(down.stderr, /NOT_SERVING/);
  });
});

Deno.test("health: grpc-js Watch gets SERVING, then NOT_SERVING when the provider drains", async () => {
  await withProvider({}, async (provider, { port }) => {
    const client = healthClient(port);
    try {
      const call = client.watch({ service: "greet.GreetService" });
      const statuses: string[] = [];
      const ended = new Promise<grpc.StatusObject>((resolve) => {
        call.on("status", resolve);
        call.on("error", () => {});
      });
      let arrived = () => {};
      call.on("data", (message: { status: string }) => {
        statuses.push(message.status);
        arrived();
      });
      const seen = (count: number) =>
        new Promise<void>((resolve) => {
          arrived = () => statuses.length >= count && resolve();
          arrived();
        });
      await seen(1);
      assert.deepEqual(statuses, ["SERVING"]);
      const next = seen(2);
      provider.setServing(false);
      await next;
      assert.deepEqual(statuses, ["SERVING", "NOT_SERVING"]);
      const closing = provider.close(1000);
      const status = await ended;
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      await closing;
    } finally {
      client.close();
    }
  });
});

Deno.test("health: grpc-js Check with gzip, unknown service is NOT_FOUND", async () => {
  await withProvider({}, async (_provider, { port }) => {
    // 2 = gzip in grpc-js's compression algorithm enum.
    const client = healthClient(port, { "grpc.default_compression_algorithm": 2 });
    try {
      const check = (service: string) =>
        new Promise<{ status?: string; error?: grpc.ServiceError }>((resolve) =>
          client.check(
            { service },
            (error, response) => resolve({ status: response?.status, error: error ?? undefined }),
          )
        );
      assert.deepEqual(await check(""), { status: "SERVING", error: undefined });
      const unknown = await check("no.Such");
      assert.equal(unknown.error?.code, grpc.status.NOT_FOUND);
    } finally {
      client.close();
    }
  });
});

Deno.test("health: Check over Triple unary JSON (curl), and extra methods on every wire", async () => {
  await withProvider({ internal: [UPPER] }, async ({ port }) => {
    const base = `http://127.0.0.1:${port}`;
    const check = await curl(`${base}/grpc.health.v1.Health/Check`, {
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(check.status, 200, check.text);
    assert.deepEqual(JSON.parse(check.text), { status: "SERVING" });
    for (const http2 of [false, true]) {
      const upper = await curl(`${base}/test.Shout/Upper`, {
        http2,
        headers: { "content-type": "application/json" },
        body: '{"name":"abc"}',
      });
      assert.equal(upper.status, 200, upper.text);
      assert.deepEqual(JSON.parse(upper.text), { greeting: "ABC" });
      const empty = await curl(`${base}/test.Shout/Upper`, {
        http2,
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(empty.status, 400);
      assert.equal(JSON.parse(empty.text).code, "invalid_argument");
    }
  });
});

Deno.test("health: our own gRPC consumer stays unaffected by extra methods", async () => {
  await withProvider({ internal: [UPPER] }, async (_provider, endpoint) => {
    const consumer = createConsumer({
      timeoutMs: 2000,
      serialization: "protobuf",
      protocol: "grpc",
      http: "2",
    });
    try {
      assert.equal(await consumer.call(GREET, endpoint, "x"), "x");
    } finally {
      consumer.close();
    }
  });
});

Deno.test("health: the server program turns NOT_SERVING first on SIGTERM, before its port closes", async () => {
  const port = await freePort();
  const server = startProgram("server", [
    "--registry=none",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${await freePort()}`,
    "--push=false",
  ]);
  await using _ = server;
  await server.waitForLine(/provider greet\.GreetService/);
  const client = healthClient(port);
  try {
    const call = client.watch({ service: "" });
    const events: string[] = [];
    let notify = () => {};
    call.on("data", (message: { status: string }) => {
      events.push(message.status);
      notify();
    });
    const ended = new Promise<grpc.StatusObject>((resolve) => {
      call.on("status", (status) => {
        events.push("end");
        resolve(status);
      });
      call.on("error", () => {});
    });
    await new Promise<void>((resolve) => {
      notify = () => events.length >= 1 && resolve();
      notify();
    });
    server.kill("SIGTERM");
    await ended;
    // NOT_SERVING reached the watcher while the provider still served, then the stream ended.
    assert.deepEqual(events, ["SERVING", "NOT_SERVING", "end"], server.output());
    assert.equal(await server.exited, 0);
  } finally {
    client.close();
  }
});

/** Opens a reflection stream with a raw HTTP/2 client, writes `bytes` in `pieces`, ends it. */
async function rawReflection(port: number, bytes: Uint8Array, pieces: number) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "content-type": "application/grpc",
      "te": "trailers",
    });
    const chunks: Uint8Array[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => headers = h);
    stream.on("trailers", (t) => trailers = t);
    stream.on("data", (c: Uint8Array) => chunks.push(c));
    const closed = new Promise<void>((resolve) => stream.on("close", resolve));
    stream.on("error", () => {});
    const step = Math.max(1, Math.ceil(bytes.length / pieces));
    for (let i = 0; i < bytes.length; i += step) {
      stream.write(bytes.subarray(i, i + step));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    stream.end();
    await closed;
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) {
      body.set(c, offset);
      offset += c.length;
    }
    return { headers, trailers, body };
  } finally {
    session.close();
  }
}

Deno.test("reflection: frames split into many small pieces are reassembled; oversized frames refused", async () => {
  await withProvider({}, async ({ port }) => {
    const request = toBinary(
      ServerReflectionRequestSchema,
      create(ServerReflectionRequestSchema, {
        messageRequest: { case: "listServices", value: "" },
      }),
    );
    const frame = new Uint8Array(5 + request.length);
    new DataView(frame.buffer).setUint32(1, request.length);
    frame.set(request, 5);
    const twice = new Uint8Array([...frame, ...frame]);
    const result = await rawReflection(port, twice, twice.length);
    assert.equal(result.trailers["grpc-status"], "0");
    let offset = 0;
    let answers = 0;
    while (offset < result.body.length) {
      const length = new DataView(result.body.buffer, offset + 1, 4).getUint32(0);
      const response = fromBinary(
        ServerReflectionResponseSchema,
        result.body.subarray(offset + 5, offset + 5 + length),
      );
      assert.equal(response.messageResponse.case, "listServicesResponse");
      offset += 5 + length;
      answers++;
    }
    assert.equal(answers, 2);
    // A frame header announcing 5 MiB: refused before anything is buffered.
    const huge = new Uint8Array(5);
    new DataView(huge.buffer).setUint32(1, 5 * 1024 * 1024);
    const refused = await rawReflection(port, huge, 1);
    const status = refused.trailers["grpc-status"] ?? refused.headers["grpc-status"];
    assert.equal(status, "8"); // RESOURCE_EXHAUSTED
  });
});
