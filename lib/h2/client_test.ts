// The client against raw servers: retries of streams a GOAWAY or REFUSED_STREAM says were
// not processed (on a new connection for GOAWAY), and each failure kind said plainly.
import assert from "node:assert/strict";
import { ErrorCode, FrameType } from "./frame.ts";
import { H2Client } from "./client.ts";
import { H2RequestError } from "./_client_types.ts";
import { RawPeer } from "./_raw_peer.ts";

/** Answers stream `id` with 200, body `text`, and `grpc-status: 0` trailers. */
async function answer(peer: RawPeer, id: number, text: string) {
  await peer.headers(id, { ":status": "200" }, false);
  await peer.data(id, new TextEncoder().encode(text), false);
  await peer.headers(id, { "grpc-status": "0" }, true);
}

/** Reads until `count` request streams have ended; returns their ids. */
async function requests(peer: RawPeer, count: number): Promise<number[]> {
  const ids: number[] = [];
  while (ids.length < count) {
    const frame = await peer.until((
      f,
    ) => (f.type === FrameType.HEADERS || f.type === FrameType.DATA));
    if (frame.type === FrameType.HEADERS) peer.decode(frame.payload);
    if (frame.flags & 1) ids.push(frame.id);
  }
  return ids;
}

Deno.test("client: streams above a GOAWAY's last-stream-id are retried on a new connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = new H2Client();
  const origin = `http://127.0.0.1:${listener.addr.port}`;
  const calls = [1, 2, 3].map((i) =>
    client.request(origin, { path: `/${i}`, body: new Uint8Array(1) })
  );
  const first = await RawPeer.accept(listener);
  const ids = await requests(first, 3);
  assert.deepEqual(ids, [1, 3, 5]);
  await answer(first, 1, "one");
  const goaway = new Uint8Array(8);
  new DataView(goaway.buffer).setUint32(0, 1); // streams 3 and 5 were not processed
  await first.frame(FrameType.GOAWAY, 0, 0, goaway);
  const second = await RawPeer.accept(listener);
  assert.deepEqual(await requests(second, 2), [1, 3]);
  await answer(second, 1, "two");
  await answer(second, 3, "three");
  const bodies = (await Promise.all(calls)).map((r) => new TextDecoder().decode(r.body));
  assert.deepEqual(bodies.sort(), ["one", "three", "two"]);
  assert.equal(client.stats.sessionsOpened, 2);
  client.close();
  first.close();
  second.close();
  listener.close();
});

Deno.test("client: a stream refused with REFUSED_STREAM is retried", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = new H2Client();
  const call = client.request(`http://127.0.0.1:${listener.addr.port}`, { path: "/" });
  const peer = await RawPeer.accept(listener);
  const [id] = await requests(peer, 1);
  await peer.word(FrameType.RST_STREAM, id, ErrorCode.REFUSED_STREAM);
  const [retry] = await requests(peer, 1);
  await answer(peer, retry, "again");
  assert.equal(new TextDecoder().decode((await call).body), "again");
  client.close();
  peer.close();
  listener.close();
});

async function failure(promise: Promise<unknown>): Promise<H2RequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof H2RequestError, String(error));
    return error;
  }
  throw new Error("the request succeeded");
}

Deno.test("client: a server answering HTTP/1.1 is named as such", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = listener.accept().then(async (conn) => {
    await conn.read(new Uint8Array(1024));
    await conn.write(
      new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"),
    );
    conn.close();
  });
  const client = new H2Client();
  const error = await failure(
    client.request(`http://127.0.0.1:${listener.addr.port}`, { path: "/" }),
  );
  assert.equal(error.kind, "http1");
  assert.match(error.message, /HTTP\/1\.1/);
  await served;
  client.close();
  listener.close();
});

Deno.test("client: refused connection, deadline, response size and server reset", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const client = new H2Client();
  assert.equal(
    (await failure(client.request(`http://127.0.0.1:${port}`, { path: "/" }))).kind,
    "connect",
  );

  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const origin = `http://127.0.0.1:${listener.addr.port}`;
  const late = client.request(origin, { path: "/slow", timeoutMs: 100 });
  const peer = await RawPeer.accept(listener);
  const [slow] = await requests(peer, 1);
  assert.equal((await failure(late)).kind, "timeout");
  const cancel = await peer.until((f) => f.type === FrameType.RST_STREAM);
  assert.equal(cancel.id, slow);
  assert.equal(new DataView(cancel.payload.buffer).getUint32(0), ErrorCode.CANCEL);

  const big = client.request(origin, { path: "/big", maxResponseBytes: 10 });
  const [bigId] = await requests(peer, 1);
  await peer.headers(bigId, { ":status": "200" }, false);
  await peer.data(bigId, new Uint8Array(11), false);
  assert.equal((await failure(big)).kind, "too-large");

  const reset = client.request(origin, { path: "/reset" });
  const [resetId] = await requests(peer, 1);
  await peer.word(FrameType.RST_STREAM, resetId, ErrorCode.INTERNAL_ERROR);
  const error = await failure(reset);
  assert.equal(error.kind, "reset");
  assert.equal(error.code, ErrorCode.INTERNAL_ERROR);
  client.close();
  peer.close();
  listener.close();
});

Deno.test("client: close() while connecting drops that connection; the client stays usable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = new H2Client();
  const origin = `http://127.0.0.1:${listener.addr.port}`;
  const first = client.request(origin, { path: "/" });
  client.close(); // before the connection is made
  assert.equal((await failure(first)).kind, "closed");
  const dropped = await listener.accept(); // the connection made anyway is closed at once
  assert.equal(await dropped.read(new Uint8Array(64)), null);
  dropped.close();
  const second = client.request(origin, { path: "/again" });
  const peer = await RawPeer.accept(listener);
  const [id] = await requests(peer, 1);
  await answer(peer, id, "ok");
  assert.equal(new TextDecoder().decode((await second).body), "ok");
  client.close();
  peer.close();
  listener.close();
});
