/**
 * gzip on both wire paths with real peers: curl (`--compressed`, gzipped request
 * bodies, Triple over HTTP/1.1 and h2c; gRPC frames with the compressed flag), grpc-js
 * with gzip on; responses compressed only when accepted and ≥ 1 KiB; gzip bombs
 * rejected with `resource_exhausted` within a memory bound, on the provider and in
 * our consumer.
 */
import assert from "node:assert/strict";
import zlib from "node:zlib";
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createClient as createConsumer, RpcError } from "../lib/triple/mod.ts";
import { encodeGreetRequest, encodeGreetResponse, GREET } from "../lib/greet/mod.ts";
import { curl } from "./support/curl.ts";
import { withProvider } from "./support/provider.ts";

const PATH = "/greet.GreetService/Greet";
const PROTO_FILE = new URL("../proto/greet/greet.proto", import.meta.url).pathname;
const LONG = "z".repeat(4096);
/** 64 MiB of zeros in about 64 KiB: far past the 4 MiB limit once inflated. */
const BOMB = new Uint8Array(zlib.gzipSync(new Uint8Array(64 * 1024 * 1024)));

function grpcFrame(payload: Uint8Array, compressed: boolean): Uint8Array {
  const frame = new Uint8Array(5 + payload.length);
  frame[0] = compressed ? 1 : 0;
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, 5);
  return frame;
}

for (const http2Mode of [false, true]) {
  const label = http2Mode ? "h2c" : "HTTP/1.1";
  Deno.test(`gzip Triple ${label}: curl --compressed gets a gzipped answer ≥ 1 KiB only`, async () => {
    await withProvider({}, async ({ port }) => {
      const url = `http://127.0.0.1:${port}${PATH}`;
      const json = { "content-type": "application/json" };
      const big = await curl(url, {
        http2: http2Mode,
        headers: json,
        body: JSON.stringify({ name: LONG }),
        args: ["--compressed"],
      });
      assert.equal(big.status, 200, big.text);
      assert.equal(big.headers.get("content-encoding"), "gzip");
      assert.deepEqual(JSON.parse(big.text), { greeting: LONG });
      const small = await curl(url, {
        http2: http2Mode,
        headers: json,
        body: '{"name":"x"}',
        args: ["--compressed"],
      });
      assert.equal(small.headers.get("content-encoding"), undefined);
      assert.equal(small.text, '{"greeting":"x"}');
      for (const accept of [undefined, "gzip;q=0", "br"]) {
        const plain = await curl(url, {
          http2: http2Mode,
          headers: accept ? { ...json, "accept-encoding": accept } : json,
          body: JSON.stringify({ name: LONG }),
        });
        assert.equal(plain.headers.get("content-encoding"), undefined, `accept ${accept}`);
        assert.deepEqual(JSON.parse(plain.text), { greeting: LONG });
      }
    });
  });

  Deno.test(`gzip Triple ${label}: a gzipped request body is read`, async () => {
    await withProvider({}, async ({ port }) => {
      const url = `http://127.0.0.1:${port}${PATH}`;
      for (const type of ["application/json", "application/proto"] as const) {
        const plain = type === "application/json"
          ? new TextEncoder().encode(JSON.stringify({ name: LONG }))
          : encodeGreetRequest(LONG, "proto");
        const result = await curl(url, {
          http2: http2Mode,
          headers: { "content-type": type, "content-encoding": "gzip" },
          body: zlib.gzipSync(plain),
        });
        assert.equal(result.status, 200, result.text);
        assert.deepEqual(
          result.body,
          encodeGreetResponse(LONG, type === "application/json" ? "json" : "proto"),
        );
      }
    });
  });
}

Deno.test("gzip gRPC: a compressed frame is read; the answer is compressed when accepted", async () => {
  await withProvider({}, async ({ port }) => {
    const url = `http://127.0.0.1:${port}${PATH}`;
    const request = grpcFrame(zlib.gzipSync(encodeGreetRequest(LONG, "proto")), true);
    const result = await curl(url, {
      http2: true,
      headers: {
        "content-type": "application/grpc",
        "te": "trailers",
        "grpc-encoding": "gzip",
        "grpc-accept-encoding": "gzip",
      },
      body: request,
    });
    assert.equal(result.status, 200);
    assert.equal(result.headers.get("grpc-encoding"), "gzip");
    assert.equal(result.body[0], 1, "compressed flag");
    const payload = zlib.gunzipSync(result.body.subarray(5));
    assert.deepEqual(new Uint8Array(payload), encodeGreetResponse(LONG, "proto"));
    // Not accepted: plain frame.
    const plain = await curl(url, {
      http2: true,
      headers: { "content-type": "application/grpc", "te": "trailers", "grpc-encoding": "gzip" },
      body: request,
    });
    assert.equal(plain.body[0], 0);
    assert.equal(plain.headers.get("grpc-encoding"), undefined);
    // An encoding we do not speak: UNIMPLEMENTED, and we say what we accept.
    const brotli = await curl(url, {
      http2: true,
      headers: { "content-type": "application/grpc", "te": "trailers", "grpc-encoding": "br" },
      body: request,
    });
    assert.equal(brotli.headers.get("grpc-status"), "12");
    assert.equal(brotli.headers.get("grpc-accept-encoding"), "gzip");
  });
});

Deno.test("gzip gRPC: grpc-js with gzip on calls the provider", async () => {
  await withProvider({}, async ({ port }) => {
    const definition = protoLoader.loadSync(PROTO_FILE);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      greet: {
        GreetService: new (
          a: string,
          c: grpc.ChannelCredentials,
          o: grpc.ChannelOptions,
        ) => grpc.Client & {
          greet(
            r: { name: string },
            cb: (e: grpc.ServiceError | null, r?: { greeting: string }) => void,
          ): void;
        };
      };
    };
    const client = new loaded.greet.GreetService(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
      { "grpc.default_compression_algorithm": 2 },
    );
    try {
      const greeting = await new Promise<string | undefined>((resolve, reject) =>
        client.greet(
          { name: LONG },
          (error, response) => error ? reject(error) : resolve(response?.greeting),
        )
      );
      assert.equal(greeting, LONG);
    } finally {
      client.close();
    }
  });
});

Deno.test("gzip bomb: provider answers resource_exhausted on both paths, memory bounded", async () => {
  await withProvider({}, async ({ port }) => {
    const url = `http://127.0.0.1:${port}${PATH}`;
    const before = Deno.memoryUsage().rss;
    const attempts = [];
    for (let i = 0; i < 4; i++) {
      attempts.push(curl(url, {
        headers: { "content-type": "application/proto", "content-encoding": "gzip" },
        body: BOMB,
      }));
      attempts.push(curl(url, {
        http2: true,
        headers: { "content-type": "application/grpc", "te": "trailers", "grpc-encoding": "gzip" },
        body: grpcFrame(BOMB, true),
      }));
    }
    const results = await Promise.all(attempts);
    const grown = Deno.memoryUsage().rss - before;
    for (const [i, result] of results.entries()) {
      if (i % 2 === 0) {
        assert.equal(result.status, 429, result.text);
        assert.equal(JSON.parse(result.text).code, "resource_exhausted");
      } else {
        assert.equal(result.headers.get("grpc-status"), "8"); // RESOURCE_EXHAUSTED
      }
    }
    // 8 bombs of 64 MiB each would need 512 MiB inflated; the bound is 4 MiB each.
    assert.ok(grown < 160 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    // Still serving.
    const after = await curl(url, { headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(after.status, 200);
  });
});

Deno.test("gzip bomb: our consumer stops reading a bomb from a hostile Triple server", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(BOMB, {
        headers: { "content-type": "application/proto", "content-encoding": "gzip" },
      }),
  );
  const consumer = createConsumer({
    timeoutMs: 5000,
    serialization: "protobuf",
    protocol: "triple",
  });
  try {
    await assert.rejects(
      consumer.call(GREET, { host: "127.0.0.1", port: server.addr.port }, "x"),
      (error) => error instanceof RpcError && error.code === "resource_exhausted",
    );
  } finally {
    consumer.close();
    await server.shutdown();
  }
});

Deno.test("gzip bomb: our gRPC consumer refuses a compressed bomb frame", async () => {
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.on("data", () => {});
    stream.respond(
      { ":status": 200, "content-type": "application/grpc", "grpc-encoding": "gzip" },
      { waitForTrailers: true },
    );
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(grpcFrame(BOMB, true));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const consumer = createConsumer({ timeoutMs: 5000, serialization: "protobuf", protocol: "grpc" });
  try {
    await assert.rejects(
      consumer.call(GREET, { host: "127.0.0.1", port }, "x"),
      (error) => error instanceof RpcError && error.code === "resource_exhausted",
    );
  } finally {
    consumer.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
