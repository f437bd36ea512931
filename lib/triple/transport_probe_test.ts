/**
 * The transport probe against raw loopback servers that behave as the providers a consumer
 * meets: one that answers the HTTP/2 preface in HTTP/1.1, one that closes on the preface but
 * answers HTTP/1.1, one at its connection limit (closes everything), one that
 * speaks only h2c, our own provider (speaks both), and a closed port.
 */
import assert from "node:assert/strict";
import { probeTransport } from "./_transport_probe.ts";
import { serveProvider } from "./_provider.ts";

const HTTP1_ANSWER = new TextEncoder().encode(
  "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
);
const SETTINGS = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/** A raw server: `onConnection` gets each connection and its first byte (P for PRI, O for OPTIONS). */
function rawServer(onConnection: (conn: Deno.Conn, first: string) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      connections.push((async () => {
        const first = new Uint8Array(1);
        const read = await conn.read(first).catch(() => null);
        await onConnection(conn, read === 1 ? String.fromCharCode(first[0]) : "").catch(() => {});
        try {
          conn.close();
        } catch { /* closed by the handler */ }
      })());
    }
  })();
  return {
    endpoint: { host: "127.0.0.1", port: listener.addr.port },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.all(connections);
    },
  };
}

/** Reads what is left of a request (up to its blank line), then answers `bytes`. */
async function answer(conn: Deno.Conn, bytes: Uint8Array) {
  const buffer = new Uint8Array(1024);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const read = await conn.read(buffer);
    if (read === null) return;
    text += new TextDecoder().decode(buffer.subarray(0, read));
  }
  await conn.write(bytes);
}

Deno.test("probe: an HTTP/1.1 answer to the preface", async () => {
  await using server = rawServer((conn) => answer(conn, HTTP1_ANSWER));
  assert.equal(await probeTransport(server.endpoint, "2", 2000), "http1-answer");
});

Deno.test("probe: closed on the preface by a provider that speaks HTTP/1.1", async () => {
  // Reads the preface, then closes (a reset on the preface needs SO_LINGER, which Deno does
  // not offer: tests/transport_mismatch_test.ts has one from a Node server).
  await using server = rawServer(async (conn, first) => {
    if (first === "O") return await answer(conn, HTTP1_ANSWER);
    await conn.read(new Uint8Array(64));
  });
  assert.equal(await probeTransport(server.endpoint, "2", 2000), "closed-on-preface");
});

Deno.test("probe: a provider that closes everything (at its limit) or a closed port is not a mismatch", async () => {
  {
    await using server = rawServer(async () => {});
    assert.equal(await probeTransport(server.endpoint, "2", 2000), undefined);
    assert.equal(await probeTransport(server.endpoint, "1.1", 2000), undefined);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const endpoint = { host: "127.0.0.1", port: listener.addr.port };
  listener.close();
  assert.equal(await probeTransport(endpoint, "2", 2000), undefined);
});

Deno.test("probe: an h2c-only provider answers HTTP/1.1 with HTTP/2 frames", async () => {
  await using server = rawServer((conn) => conn.write(SETTINGS).then(() => {}));
  assert.equal(await probeTransport(server.endpoint, "1.1", 2000), "h2c-only");
  assert.equal(await probeTransport(server.endpoint, "2", 2000), undefined);
});

Deno.test("probe: our provider speaks both", async () => {
  const provider = await serveProvider({ hostname: "127.0.0.1", port: 0, services: [] });
  try {
    const endpoint = { host: "127.0.0.1", port: provider.port };
    assert.equal(await probeTransport(endpoint, "2", 2000), undefined);
    assert.equal(await probeTransport(endpoint, "1.1", 2000), undefined);
  } finally {
    await provider.close();
  }
});
