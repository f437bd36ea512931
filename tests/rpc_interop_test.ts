/**
 * Interop with peers we did not write: curl, @grpc/grpc-js, @connectrpc/connect-node
 * clients against our provider, and our consumer against a connect-node server.
 */
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { createClient as createConsumer, RpcError } from "../lib/triple/mod.ts";
import { GREET, GreetService } from "../lib/greet/mod.ts";
import { curl } from "./support/curl.ts";
import { withProvider } from "./support/provider.ts";

const PATH = "/greet.GreetService/Greet";
const PROTO_FILE = new URL("../proto/greet/greet.proto", import.meta.url).pathname;

// ---- curl ---------------------------------------------------------------------------

for (const http2Mode of [false, true]) {
  const label = http2Mode ? "h2c prior knowledge" : "HTTP/1.1";
  Deno.test(`curl over ${label}: JSON and proto greet`, async () => {
    await withProvider({}, async ({ port }) => {
      const url = `http://127.0.0.1:${port}${PATH}`;
      const json = await curl(url, {
        http2: http2Mode,
        headers: { "Content-Type": "application/json" },
        body: '{"name":"Dubbo"}',
      });
      assert.equal(json.status, 200);
      assert.equal(json.headers.get("content-type"), "application/json");
      assert.equal(json.text, '{"greeting":"Dubbo"}');

      // 0x0a = field 1, wire type 2; then the length and the UTF-8 bytes.
      const proto = await curl(url, {
        http2: http2Mode,
        headers: { "Content-Type": "application/proto" },
        body: new Uint8Array([0x0a, 5, ...new TextEncoder().encode("Dubbo")]),
      });
      assert.equal(proto.status, 200);
      assert.equal(proto.headers.get("content-type"), "application/proto");
      assert.deepEqual([...proto.body], [0x0a, 5, ...new TextEncoder().encode("Dubbo")]);
    });
  });
}

Deno.test('curl: the README\'s exact command line answers {"greeting":"Dubbo"}', async () => {
  await withProvider({}, async ({ port }) => {
    for (const extra of [[], ["--http2-prior-knowledge"]]) {
      const run = await new Deno.Command("curl", {
        args: [
          "-s",
          ...extra,
          "-H",
          "Content-Type: application/json",
          "-d",
          '{"name":"Dubbo"}',
          `http://127.0.0.1:${port}${PATH}`,
        ],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(run.stdout), '{"greeting":"Dubbo"}');
    }
  });
});

// ---- @grpc/grpc-js ------------------------------------------------------------------

interface GreetClient extends grpc.Client {
  Greet(
    request: { name: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { greeting: string }) => void,
  ): void;
}

function grpcGreet(port: number, name: string, deadlineMs?: number) {
  const definition = protoLoader.loadSync(PROTO_FILE);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    greet: { GreetService: new (address: string, creds: grpc.ChannelCredentials) => GreetClient };
  };
  const client = new loaded.greet.GreetService(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const options: grpc.CallOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
  return new Promise<{ greeting?: string; error?: grpc.ServiceError }>((resolve) => {
    client.Greet({ name }, options, (error, response) => {
      client.close();
      resolve(error ? { error } : { greeting: response?.greeting });
    });
  });
}

Deno.test("grpc-js over h2c: success", async () => {
  await withProvider({}, async ({ port }) => {
    const result = await grpcGreet(port, "grpc peer");
    assert.equal(result.error, undefined);
    assert.equal(result.greeting, "grpc peer");
  });
});

Deno.test("grpc-js over h2c: random failure is UNKNOWN / random error", async () => {
  await withProvider({ failureRate: 1 }, async ({ port }) => {
    const { error } = await grpcGreet(port, "x");
    assert.equal(error?.code, grpc.status.UNKNOWN);
    assert.equal(error?.details, "random error");
  });
});

Deno.test("grpc-js over h2c: delay beyond the deadline is DEADLINE_EXCEEDED", async () => {
  await withProvider({ delayMs: 2000 }, async (provider) => {
    const { error } = await grpcGreet(provider.port, "slow", 100);
    assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
  });
});

Deno.test("grpc-js over h2c: unknown group is UNIMPLEMENTED", async () => {
  await withProvider({ group: "other" }, async ({ port }) => {
    const { error } = await grpcGreet(port, "x");
    assert.equal(error?.code, grpc.status.UNIMPLEMENTED);
  });
});

// ---- @connectrpc/connect-node client --------------------------------------------------

for (const httpVersion of ["1.1", "2"] as const) {
  for (const useBinaryFormat of [false, true]) {
    const label = `HTTP/${httpVersion} ${useBinaryFormat ? "binary" : "JSON"}`;
    Deno.test(`connect-node client, ${label}: greet, unknown error, deadline`, async () => {
      await withProvider({}, async ({ port }) => {
        const transport = createConnectTransport({
          baseUrl: `http://127.0.0.1:${port}`,
          httpVersion,
          useBinaryFormat,
        });
        const client = createClient(GreetService, transport);
        const response = await client.greet({ name: "connect" });
        assert.equal(response.greeting, "connect");
      });
      await withProvider({ failureRate: 1 }, async ({ port }) => {
        const transport = createConnectTransport({
          baseUrl: `http://127.0.0.1:${port}`,
          httpVersion,
          useBinaryFormat,
        });
        const client = createClient(GreetService, transport);
        await assert.rejects(client.greet({ name: "x" }), (error: unknown) => {
          assert.ok(error instanceof ConnectError);
          assert.equal(error.code, Code.Unknown);
          assert.equal(error.rawMessage, "random error");
          return true;
        });
      });
      await withProvider({ delayMs: 2000 }, async ({ port }) => {
        const transport = createConnectTransport({
          baseUrl: `http://127.0.0.1:${port}`,
          httpVersion,
          useBinaryFormat,
        });
        const client = createClient(GreetService, transport);
        await assert.rejects(client.greet({ name: "x" }, { timeoutMs: 100 }), (error: unknown) => {
          assert.ok(error instanceof ConnectError);
          assert.equal(error.code, Code.DeadlineExceeded);
          return true;
        });
      });
    });
  }
}

// ---- our consumer against a connect-node server -----------------------------------------

type Listening = { port: number; close(): Promise<void> };

async function serveConnectNode(kind: "http1" | "h2c"): Promise<Listening> {
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(GreetService, {
        async greet(request) {
          if (request.name === "fail") throw new ConnectError("random error", Code.Unknown);
          if (request.name === "slow") await new Promise((r) => setTimeout(r, 2000));
          return { greeting: request.name };
        },
      });
    },
  });
  const server: net.Server = kind === "h2c"
    ? http2.createServer(handler)
    : http.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (session: http2.Http2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

for (const transport of ["http1", "h2c"] as const) {
  for (const serialization of ["protobuf", "json"] as const) {
    Deno.test(`our consumer vs connect-node server (${transport}, ${serialization})`, async () => {
      const server = await serveConnectNode(transport);
      const consumer = createConsumer({
        timeoutMs: 300,
        serialization,
        http: transport === "h2c" ? "2" : "1.1",
      });
      const endpoint = { host: "127.0.0.1", port: server.port };
      try {
        assert.equal(await consumer.call(GREET, endpoint, "from deno"), "from deno");
        await assert.rejects(consumer.call(GREET, endpoint, "fail"), (error: unknown) => {
          assert.ok(error instanceof RpcError);
          assert.equal(error.code, "unknown");
          assert.equal(error.message, "random error");
          return true;
        });
        await assert.rejects(
          consumer.call(GREET, endpoint, "slow"),
          (error: unknown) => error instanceof RpcError && error.code === "deadline_exceeded",
        );
      } finally {
        consumer.close();
        await server.close();
      }
    });
  }
}
