/**
 * Wire details of issue 14 that need no peer program: reading every peer's unary
 * error shape, the gRPC status rule (trailers-only `grpc-status` over HTTP 500, but
 * HTTP 408 stays `deadline_exceeded`) against a raw `node:http2` server, both
 * protocol-version header spellings accepted, gzip negotiation helpers.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import zlib from "node:zlib";
import {
  acceptsGzip,
  codeOfGrpcFailure,
  codeOfName,
  createClient as createConsumer,
  errorFromBody,
  gunzip,
  RpcError,
} from "../lib/triple/mod.ts";
import { GREET } from "../lib/greet/mod.ts";
import { curl } from "./support/curl.ts";
import { withProvider } from "./support/provider.ts";

Deno.test("wire: error bodies of every peer keep their code and message", () => {
  const read = (status: number, body: string) => {
    const error = errorFromBody(status, body);
    return [error.code, error.message];
  };
  // dubbo-go / Connect / us
  assert.deepEqual(read(500, '{"code":"unknown","message":"random error"}'), [
    "unknown",
    "random error",
  ]);
  // dubbo-js: numeric gRPC status
  assert.deepEqual(read(500, '{"status":2,"message":"random error"}'), ["unknown", "random error"]);
  assert.deepEqual(read(429, '{"status":8,"message":"slow down"}'), [
    "resource_exhausted",
    "slow down",
  ]);
  // Dubbo Java HTTP/1: HTTP status as a string
  assert.deepEqual(read(503, '{"status":"503","message":"busy"}'), ["unavailable", "busy"]);
  // dubbo-go's code_N: business error 17 and unknown numbers are unknown; 17 counts as a
  // business failure (as dubbo-go's consumer counts it), other numbers do not
  assert.deepEqual(read(500, '{"code":"code_17","message":"biz"}'), ["unknown", "biz"]);
  assert.equal(errorFromBody(500, '{"code":"code_17","message":"biz"}').metricCode, "biz_error");
  assert.equal(errorFromBody(500, '{"code":"code_99","message":"?"}').metricCode, "unknown");
  assert.deepEqual(read(500, '{"code":"code_4","message":"late"}'), ["deadline_exceeded", "late"]);
  assert.deepEqual(read(500, '{"code":"code_99","message":"?"}'), ["unknown", "?"]);
  // No usable body: the HTTP status decides; 429 is resource_exhausted, not retryable
  assert.deepEqual(read(429, ""), ["resource_exhausted", "HTTP 429"]);
  assert.deepEqual(read(408, "<html>"), ["deadline_exceeded", "HTTP 408: <html>"]);
  assert.deepEqual(read(503, '{"code":"nonsense"}'), [
    "unavailable",
    'HTTP 503: {"code":"nonsense"}',
  ]);
  assert.equal(codeOfName("code_16"), "unauthenticated");
  assert.equal(codeOfName("x"), undefined);
});

Deno.test("wire: gRPC failure codes (grpc-status wins over HTTP, except 408)", () => {
  assert.equal(codeOfGrpcFailure(500, "2"), "unknown");
  assert.equal(codeOfGrpcFailure(500, "8"), "resource_exhausted");
  assert.equal(codeOfGrpcFailure(408, "1"), "deadline_exceeded");
  assert.equal(codeOfGrpcFailure(503, undefined), "unavailable");
  assert.equal(codeOfGrpcFailure(404, undefined), "unimplemented");
  assert.equal(codeOfGrpcFailure(500, undefined), "unknown");
});

Deno.test("wire: our gRPC consumer applies the status rule to a real HTTP/2 server", async () => {
  const replies: Record<string, http2.OutgoingHttpHeaders> = {
    a: {
      ":status": 500,
      "content-type": "application/grpc",
      "grpc-status": "8",
      "grpc-message": "full%20up",
    },
    b: {
      ":status": 408,
      "content-type": "application/grpc",
      "grpc-status": "1",
      "grpc-message": "late",
    },
    c: { ":status": 503, "content-type": "text/plain" },
  };
  // Each case answers every stream with its own head (trailers-only).
  let reply = replies.a;
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.on("data", () => {});
    stream.respond(reply, { endStream: true });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    for (
      const [key, code, message] of [
        ["a", "resource_exhausted", "full up"],
        ["b", "deadline_exceeded", "late"],
        ["c", "unavailable", "HTTP 503"],
      ]
    ) {
      reply = replies[key];
      const consumer = createConsumer({
        timeoutMs: 2000,
        serialization: "protobuf",
        protocol: "grpc",
      });
      try {
        await assert.rejects(
          consumer.call(GREET, { host: "127.0.0.1", port }, "x"),
          (error) => error instanceof RpcError && error.code === code && error.message === message,
        );
      } finally {
        consumer.close();
      }
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("wire: the provider accepts both protocol-version header spellings", async () => {
  await withProvider({}, async ({ port }) => {
    for (const header of ["tri-protocol-version: 1.0.0", "Triple-Protocol-Version: 0.1.0"]) {
      const [name, value] = header.split(": ");
      const result = await curl(`http://127.0.0.1:${port}/greet.GreetService/Greet`, {
        headers: { "content-type": "application/json", [name]: value },
        body: '{"name":"v"}',
      });
      assert.equal(result.status, 200, header);
      assert.equal(result.text, '{"greeting":"v"}');
    }
  });
});

Deno.test("wire: our consumer sends tri-protocol-version 1.0.0 and gzip acceptance", async () => {
  const seen: Record<string, string | null>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push({
      version: request.headers.get("tri-protocol-version"),
      accept: request.headers.get("accept-encoding"),
    });
    return new Response('{"greeting":"ok"}', { headers: { "content-type": "application/json" } });
  });
  const consumer = createConsumer({ timeoutMs: 2000, serialization: "json", protocol: "triple" });
  try {
    assert.equal(
      await consumer.call(GREET, { host: "127.0.0.1", port: server.addr.port }, "x"),
      "ok",
    );
    assert.deepEqual(seen, [{ version: "1.0.0", accept: "gzip" }]);
  } finally {
    consumer.close();
    await server.shutdown();
  }
});

Deno.test("wire: gzip helpers negotiate and bound", () => {
  assert.equal(acceptsGzip("gzip"), true);
  assert.equal(acceptsGzip("identity, GZIP;q=0.5"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("br, deflate"), false);
  assert.equal(acceptsGzip(undefined), false);
  const small = zlib.gzipSync(new Uint8Array(100));
  assert.equal(gunzip(small, 100).length, 100);
  assert.throws(
    () => gunzip(small, 99),
    (e) => e instanceof RpcError && e.code === "resource_exhausted",
  );
  assert.throws(
    () => gunzip(new Uint8Array([1, 2, 3]), 10),
    (e) => e instanceof RpcError && e.code === "invalid_argument",
  );
});
