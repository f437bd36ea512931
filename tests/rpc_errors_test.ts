/**
 * Bad input for every error row of the README's "Wire" section, sent by real curl (HTTP/1.1 and
 * h2c) and raw sockets; after each, the provider must still answer a good call.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { type Code, CODES, type Provider, serveProvider } from "../lib/triple/mod.ts";
import { greetService } from "../lib/greet/mod.ts";
import { curl, type CurlOptions, type CurlResult } from "./support/curl.ts";
import { recordingObserver } from "./support/recording_observer.ts";
import { type TestProviderOptions, withProvider } from "./support/provider.ts";

const PATH = "/greet.GreetService/Greet";
const JSON_TYPE = { "content-type": "application/json" };

/** Runs `body` against a fresh provider, then proves it still answers a normal call. */
function withLiveProvider(
  options: TestProviderOptions,
  body: (base: string, provider: Provider) => Promise<void>,
  stillUpHeaders: Record<string, string> = {},
): Promise<void> {
  return withProvider(options, async (provider) => {
    const base = `http://127.0.0.1:${provider.port}`;
    await body(base, provider);
    // Whatever came before, the provider still answers.
    const after = await curl(base + PATH, {
      headers: { ...JSON_TYPE, ...stillUpHeaders },
      body: '{"name":"still up"}',
    });
    assert.equal(after.status, 200);
    assert.equal(after.text, '{"greeting":"still up"}');
  });
}

function assertConnectError(result: CurlResult, status: number, code: string, message?: RegExp) {
  assert.equal(result.status, status, result.text);
  assert.equal(result.headers.get("content-type"), "application/json");
  const body = JSON.parse(result.text);
  assert.equal(body.code, code);
  // dubbo-js reads the numeric gRPC status; Connect and dubbo-go read the code.
  assert.equal(body.status, CODES.indexOf(code as Code) + 1);
  assert.equal(typeof body.message, "string");
  if (message) assert.match(body.message, message);
}

const VERSIONS = [["HTTP/1.1", false], ["h2c", true]] as const;

for (const [label, http2] of VERSIONS) {
  const call = (base: string, path: string, options: CurlOptions) =>
    curl(base + path, { http2, ...options });

  Deno.test(`errors over ${label}: non-POST gets 405 with Allow: POST`, async () => {
    await withLiveProvider({}, async (base) => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const result = await call(base, PATH, { method, headers: JSON_TYPE });
        assert.equal(result.status, 405);
        assert.equal(result.headers.get("allow"), "POST");
      }
    });
  });

  Deno.test(`errors over ${label}: unsupported content type gets 415`, async () => {
    await withLiveProvider({}, async (base) => {
      for (const type of ["text/plain", "application/xml", "application/json; charset=latin1"]) {
        const result = await call(base, PATH, { headers: { "content-type": type }, body: "{}" });
        assert.equal(result.status, 415, type);
        assert.match(result.headers.get("accept-post") ?? "", /application\/proto/);
      }
      const none = await call(base, PATH, { body: "x", headers: { "content-type": "" } });
      assert.equal(none.status, 415);
    });
  });

  Deno.test(`errors over ${label}: malformed bodies get 400 invalid_argument`, async () => {
    const { observer, calls } = recordingObserver();
    await withLiveProvider({ observer }, async (base) => {
      const bodies: [Record<string, string>, string | Uint8Array][] = [
        [JSON_TYPE, "{not json"],
        [JSON_TYPE, '{"name": 42}'],
        [JSON_TYPE, "[1,2]"],
        [JSON_TYPE, ""],
        [JSON_TYPE, new Uint8Array([0xff, 0xfe, 0xfd])],
        [{ "content-type": "application/proto" }, new Uint8Array([0x0a, 0x10, 0x41])],
        [{ "content-type": "application/proto" }, new Uint8Array([0xff, 0xff, 0xff])],
      ];
      for (const [headers, body] of bodies) {
        const result = await call(base, PATH, { headers, body });
        assertConnectError(result, 400, "invalid_argument", /GreetRequest/);
      }
    });
    assert.equal(calls.length, 8); // 7 bad bodies, then the good "still up" call
    for (const c of calls.slice(0, 7)) assert.deepEqual(c.ends, ["invalid_argument"]);
  });

  Deno.test(`errors over ${label}: unknown service or method gets 404 unimplemented`, async () => {
    const { observer, calls } = recordingObserver();
    await withLiveProvider({ observer }, async (base) => {
      for (const path of ["/greet.GreetService/Nope", "/other.Service/Greet", "/", "/x"]) {
        const result = await call(base, path, { headers: JSON_TYPE, body: "{}" });
        assertConnectError(result, 404, "unimplemented");
      }
      // dubbo-go also routes a lower-case first letter of the method.
      const lower = await call(base, "/greet.GreetService/greet", {
        headers: JSON_TYPE,
        body: '{"name":"l"}',
      });
      assert.equal(lower.text, '{"greeting":"l"}');
    });
    // Unknown methods never reach the observer (no new metric series).
    assert.equal(calls.length, 2); // the lower-case call and the final "still up" call
    assert.ok(calls.every((c) => c.target.method === "Greet"));
  });

  Deno.test(`errors over ${label}: other group/version gets 404 unimplemented`, async () => {
    await withLiveProvider({ group: "g", version: "1" }, async (base) => {
      const cases: Record<string, string>[] = [
        {},
        { "tri-service-group": "g" },
        { "tri-service-group": "x", "tri-service-version": "1" },
      ];
      for (const extra of cases) {
        const result = await call(base, PATH, { headers: { ...JSON_TYPE, ...extra }, body: "{}" });
        assertConnectError(result, 404, "unimplemented", /no implementation found/);
      }
      const ok = await call(base, PATH, {
        headers: { ...JSON_TYPE, "tri-service-group": "g", "tri-service-version": "1" },
        body: '{"name":"gv"}',
      });
      assert.equal(ok.text, '{"greeting":"gv"}');
    }, { "tri-service-group": "g", "tri-service-version": "1" });
  });

  Deno.test(`errors over ${label}: a 5 MiB body gets resource_exhausted, server stays up`, async () => {
    const { observer, calls } = recordingObserver();
    await withLiveProvider({ observer }, async (base) => {
      const big = new Uint8Array(5 * 1024 * 1024).fill(0x61);
      const proto = await call(base, PATH, {
        headers: { "content-type": "application/proto" },
        body: big,
      });
      assertConnectError(proto, 429, "resource_exhausted");
      if (!http2) {
        // Chunked: no Content-Length up front, so the limit hits while streaming.
        const chunked = await call(base, PATH, {
          headers: { ...JSON_TYPE, "transfer-encoding": "chunked" },
          body: big,
        });
        assertConnectError(chunked, 429, "resource_exhausted");
      }
    });
    assert.ok(calls.some((c) => c.ends[0] === "resource_exhausted"));
  });

  Deno.test(`errors over ${label}: past the deadline gets 408 deadline_exceeded`, async () => {
    const { observer, calls } = recordingObserver();
    await withLiveProvider({ delayMs: 1000, observer }, async (base) => {
      for (const header of ["Triple-Timeout-Ms", "tri-service-timeout", "Connect-Timeout-Ms"]) {
        const result = await call(base, PATH, {
          headers: { ...JSON_TYPE, [header]: "50" },
          body: '{"name":"slow"}',
        });
        assertConnectError(result, 408, "deadline_exceeded");
      }
    });
    assert.deepEqual(calls.slice(0, 3).map((c) => c.ends), [
      ["deadline_exceeded"],
      ["deadline_exceeded"],
      ["deadline_exceeded"],
    ]);
  });

  Deno.test(`errors over ${label}: malformed timeout header gets 400 invalid_argument`, async () => {
    await withLiveProvider({}, async (base) => {
      for (const value of ["soon", "-5", "12345678901"]) {
        const result = await call(base, PATH, {
          headers: { ...JSON_TYPE, "Triple-Timeout-Ms": value },
          body: "{}",
        });
        assertConnectError(result, 400, "invalid_argument", /timeout/);
      }
    });
  });

  Deno.test(`errors over ${label}: random failure gets 500 unknown "random error"`, async () => {
    const provider = await serveProvider({
      hostname: "127.0.0.1",
      port: 0,
      // The delay is never reached: the sample fails before its delay.
      services: [greetService({ failureRate: 1, delayMs: 10_000 })],
    });
    try {
      const result = await call(`http://127.0.0.1:${provider.port}`, PATH, {
        headers: JSON_TYPE,
        body: '{"name":"x"}',
      });
      assertConnectError(result, 500, "unknown");
      assert.equal(JSON.parse(result.text).message, "random error");
    } finally {
      await provider.close(1000);
    }
  });

  Deno.test(`errors over ${label}: unsupported content encoding is refused`, async () => {
    await withLiveProvider({}, async (base) => {
      const result = await call(base, PATH, {
        headers: { ...JSON_TYPE, "content-encoding": "br" },
        body: "garbage",
      });
      assertConnectError(result, 404, "unimplemented", /compression/);
      // gzip is supported; a body that is not gzip is a malformed request.
      const notGzip = await call(base, PATH, {
        headers: { ...JSON_TYPE, "content-encoding": "gzip" },
        body: "garbage",
      });
      assertConnectError(notGzip, 400, "invalid_argument", /gzip/);
    });
  });
}

Deno.test("errors: gRPC over HTTP/1.1 gets 415", async () => {
  await withLiveProvider({}, async (base) => {
    const result = await curl(base + PATH, {
      headers: { "content-type": "application/grpc" },
      body: new Uint8Array([0, 0, 0, 0, 0]),
    });
    assert.equal(result.status, 415);
    assert.match(result.text, /HTTP\/2/);
  });
});

Deno.test("errors: gRPC error statuses over h2c (trailers-only)", async () => {
  const grpcCall = (base: string, path: string, body: Uint8Array, extra = {}) =>
    curl(base + path, {
      http2: true,
      headers: { "content-type": "application/grpc", te: "trailers", ...extra },
      body,
    });
  const frame = (message: Uint8Array) => {
    const out = new Uint8Array(5 + message.length);
    new DataView(out.buffer).setUint32(1, message.length);
    out.set(message, 5);
    return out;
  };
  await withLiveProvider({}, async (base) => {
    const unknownMethod = await grpcCall(base, "/greet.GreetService/Nope", frame(new Uint8Array()));
    assert.equal(unknownMethod.status, 200);
    assert.equal(unknownMethod.headers.get("grpc-status"), "12");
    const badFrame = await grpcCall(base, PATH, new Uint8Array([0, 0, 0, 0, 9, 1]));
    assert.equal(badFrame.headers.get("grpc-status"), "3");
    const badMessage = await grpcCall(base, PATH, frame(new Uint8Array([0x0a, 0x10])));
    assert.equal(badMessage.headers.get("grpc-status"), "3");
    const big = await grpcCall(base, PATH, frame(new Uint8Array(5 * 1024 * 1024)));
    assert.equal(big.headers.get("grpc-status"), "8");
    const badTimeout = await grpcCall(base, PATH, frame(new Uint8Array()), {
      "grpc-timeout": "forever",
    });
    assert.equal(badTimeout.headers.get("grpc-status"), "3");
  });
});

/** Sends raw bytes on a fresh connection and returns everything until the server closes. */
async function raw(port: number, bytes: string | Uint8Array, hangUp = false): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Uint8Array[] = [];
  socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("error", () => {});
  if (hangUp) socket.end(bytes);
  else socket.write(bytes);
  const timer = setTimeout(() => socket.destroy(), 10_000);
  await closed;
  clearTimeout(timer);
  return new TextDecoder().decode(
    chunks.reduce((all, c) => new Uint8Array([...all, ...c]), new Uint8Array()),
  );
}

Deno.test("errors: malformed HTTP/1.1 gets 4xx and a closed connection, server stays up", async () => {
  await withLiveProvider({}, async (_base, provider) => {
    const port = provider.port;
    assert.match(await raw(port, "NONSENSE\r\n\r\n"), /^HTTP\/1\.1 400 /);
    assert.match(await raw(port, "POST / HTTP/2.5\r\n\r\n"), /^HTTP\/1\.1 505 /);
    assert.match(
      await raw(port, `POST ${PATH} HTTP/1.1\r\nx: ${"a".repeat(70_000)}\r\n\r\n`),
      /^HTTP\/1\.1 431 /,
    );
    assert.match(
      await raw(port, `POST ${PATH} HTTP/1.1\r\ncontent-length: abc\r\n\r\n`),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await raw(
        port,
        `POST ${PATH} HTTP/1.1\r\ncontent-type: application/json\r\n` +
          "transfer-encoding: chunked\r\n\r\nzz\r\n",
      ),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await raw(port, `POST ${PATH} HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n`),
      /^HTTP\/1\.1 400 /,
    );
    // A client that sends half a request and hangs up: 400, as Node's server answers.
    assert.match(await raw(port, `POST ${PATH} HTTP/1.1\r\ncontent-le`, true), /^HTTP\/1\.1 400 /);
  });
});

Deno.test("HTTP/1.1: keep-alive pipelining answers in order; chunked and 100-continue work", async () => {
  await withLiveProvider({}, async (base, provider) => {
    const request = (name: string, last = false) => {
      const body = JSON.stringify({ name });
      return `POST ${PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\n${last ? "connection: close\r\n" : ""}\r\n${body}`;
    };
    const answer = await raw(provider.port, request("one") + request("two") + request("3", true));
    const greetings = [...answer.matchAll(/\{"greeting":"([^"]*)"\}/g)].map((m) => m[1]);
    assert.deepEqual(greetings, ["one", "two", "3"]);

    const chunked = await curl(base + PATH, {
      headers: { ...JSON_TYPE, "transfer-encoding": "chunked" },
      body: '{"name":"chunky"}',
    });
    assert.equal(chunked.text, '{"greeting":"chunky"}');
    const expect = await curl(base + PATH, {
      headers: { ...JSON_TYPE, expect: "100-continue" },
      body: '{"name":"continued"}',
    });
    assert.equal(expect.text, '{"greeting":"continued"}');
  });
});
