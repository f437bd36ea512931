// The server against a raw peer: flow control both ways, the graceful two-step GOAWAY, idle
// sessions, stream events, a peer's FIN, and the state-machine edges h2spec does not reach.
import assert from "node:assert/strict";
import { ErrorCode, FrameType, Setting } from "./frame.ts";
import type { ServerStream } from "./server_stream.ts";
import { RawPeer } from "./_raw_peer.ts";
import { H2Client } from "./client.ts";
import {
  framesUntilPingAck,
  GET,
  POST,
  sized,
  startTestServer as start,
  stillServes,
} from "./_test_server.ts";

Deno.test("flow control: a shut window holds DATA, WINDOW_UPDATEs release it in frame-size pieces", async () => {
  const h2 = start(sized(100_000));
  const peer = await RawPeer.connect(h2.port, [Setting.INITIAL_WINDOW_SIZE, 0]);
  await peer.headers(1, GET, true);
  const before = await framesUntilPingAck(peer);
  assert.ok(before.some((f) => f.type === FrameType.HEADERS && f.id === 1));
  assert.ok(!before.some((f) => f.type === FrameType.DATA), "no DATA through a zero window");
  await peer.word(FrameType.WINDOW_UPDATE, 1, 10);
  const ten = await peer.until((f) => f.type === FrameType.DATA);
  assert.equal(ten.payload.length, 10);
  // Open the stream wide: the connection window (65,535) is now the limit.
  await peer.word(FrameType.WINDOW_UPDATE, 1, 1_000_000);
  let received = 10;
  const sizes: number[] = [];
  for (const frame of await framesUntilPingAck(peer)) {
    if (frame.type === FrameType.DATA) sizes.push(frame.payload.length);
  }
  received += sizes.reduce((a, b) => a + b, 0);
  assert.equal(received, 65_535);
  assert.ok(Math.max(...sizes) <= 16_384, "frames within the default SETTINGS_MAX_FRAME_SIZE");
  await peer.word(FrameType.WINDOW_UPDATE, 0, 100_000);
  for (;;) {
    const frame = await peer.until((f) => f.type === FrameType.DATA);
    received += frame.payload.length;
    if (frame.flags & 1) break;
  }
  assert.equal(received, 100_000);
  peer.close();
  await h2.close();
});

Deno.test("flow control: 8 MiB each way on one stream and 4 concurrent ones (credit given back)", async () => {
  const h2 = start((stream) => {
    let bytes = 0;
    stream.ondata = (chunk) => bytes += chunk.length;
    stream.onend = () => {
      stream.respond(200);
      stream.write(new Uint8Array(bytes));
      stream.end();
    };
  });
  const client = new H2Client();
  const origin = `http://127.0.0.1:${h2.port}`;
  const sizes = [8 << 20, 3 << 20, 1 << 20, 100_000];
  const responses = await Promise.all(
    sizes.map((size) =>
      client.request(origin, { path: "/", body: new Uint8Array(size), timeoutMs: 20_000 })
    ),
  );
  assert.deepEqual(responses.map((r) => r.body.length), sizes);
  assert.equal(h2.server.stats.sessionsOpened, 1);
  client.close();
  await h2.close();
});

Deno.test("graceful close: GOAWAY 2^31-1 and PING, then the real last stream; open streams finish", async () => {
  const h2 = start(sized(3));
  const peer = await RawPeer.connect(h2.port);
  await peer.headers(1, POST, false);
  await framesUntilPingAck(peer); // stream 1 is open on the server
  const closed = h2.server.close(5_000);
  const announce = await peer.until((f) => f.type === FrameType.GOAWAY);
  const view = new DataView(announce.payload.buffer);
  assert.equal(view.getUint32(0), 2 ** 31 - 1);
  assert.equal(view.getUint32(4), ErrorCode.NO_ERROR);
  const ping = await peer.until((f) => f.type === FrameType.PING && f.flags === 0);
  await peer.headers(3, GET, true); // still accepted: before the PING ACK
  await peer.frame(FrameType.PING, 1, 0, ping.payload);
  const final = await peer.until((f) => f.type === FrameType.GOAWAY);
  assert.equal(new DataView(final.payload.buffer).getUint32(0), 3);
  await peer.headers(5, POST, false); // above the last stream: never processed, and
  await peer.data(5, new Uint8Array(3), true); // its DATA is ignored (not a protocol error)
  await peer.data(1, new Uint8Array(1), true);
  while (await peer.next()); // until the server closes the connection
  const ended = peer.log.filter((f) => f.type === FrameType.DATA && f.flags & 1).map((f) => f.id);
  assert.deepEqual(ended.sort(), [1, 3]);
  const goaways = peer.log.filter((f) => f.type === FrameType.GOAWAY);
  assert.deepEqual(goaways.map((f) => new DataView(f.payload.buffer).getUint32(4)), [0, 0]);
  assert.ok(!peer.log.some((f) => f.type === FrameType.RST_STREAM));
  peer.close();
  await closed;
  assert.equal(h2.server.stats.goaways.shutdown, 1);
  await h2.close();
});

Deno.test("idle session: graceful GOAWAY after idleMs without streams", async () => {
  const h2 = start(sized(1), { idleMs: 200 });
  const peer = await RawPeer.connect(h2.port);
  await peer.headers(1, GET, true);
  await peer.until((f) => f.type === FrameType.DATA && (f.flags & 1) === 1);
  const goaway = await peer.until((f) => f.type === FrameType.GOAWAY);
  assert.equal(new DataView(goaway.payload.buffer).getUint32(0), 2 ** 31 - 1);
  assert.equal(h2.server.stats.goaways.idle, 1);
  peer.close();
  await stillServes(h2.port);
  await h2.close();
});

Deno.test("streams: frames after our reset are ignored, after the peer's are STREAM_CLOSED", async () => {
  const h2 = start((stream) => stream.reset(ErrorCode.REFUSED_STREAM));
  const peer = await RawPeer.connect(h2.port);
  await peer.headers(1, POST, false);
  await peer.until((f) => f.type === FrameType.RST_STREAM && f.id === 1);
  await peer.data(1, new Uint8Array(5), true); // in flight when we reset: ignored
  assert.ok(!(await framesUntilPingAck(peer)).some((f) => f.type === FrameType.RST_STREAM));
  peer.close();
  await h2.close();
});

Deno.test("stream events: data, end, close in order; a peer reset gives abort then close", async () => {
  const events: string[] = [];
  const h2 = start((stream) => {
    stream.ondata = (chunk) => events.push(`data ${chunk.length}`);
    stream.onend = () => {
      events.push("end");
      stream.end();
    };
    stream.onabort = (code, byPeer) => events.push(`abort ${code} ${byPeer}`);
    stream.onclose = () => events.push(`close ${stream.id}`);
  });
  const peer = await RawPeer.connect(h2.port);
  await peer.headers(1, POST, false);
  await peer.data(1, new Uint8Array(3), true);
  await peer.until((f) => f.id === 1 && (f.flags & 1) === 1);
  await peer.headers(3, POST, false);
  await peer.word(FrameType.RST_STREAM, 3, ErrorCode.CANCEL);
  await framesUntilPingAck(peer);
  assert.deepEqual(events, [
    "data 3",
    "end",
    "close 1",
    `abort ${ErrorCode.CANCEL} true`,
    "close 3",
  ]);
  peer.close();
  await h2.close();
});

Deno.test("peer FIN: complete requests still get their responses, incomplete ones are cancelled", async () => {
  const streams = new Map<number, ServerStream>();
  const h2 = start((stream) => {
    streams.set(stream.id, stream);
    // Stream 3 never completes: its cancel (the server saw the FIN) answers stream 1.
    stream.onabort = () => {
      const first = streams.get(1)!;
      first.respond(200);
      first.end({ "x-late": "yes" });
    };
  });
  const peer = await RawPeer.connect(h2.port);
  await peer.headers(1, GET, true);
  await peer.headers(3, POST, false);
  await framesUntilPingAck(peer); // the server has both
  await peer.conn.closeWrite(); // FIN: no more from us
  await peer.until((f) => f.type === FrameType.HEADERS && f.id === 1 && (f.flags & 1) === 1);
  assert.equal(await peer.next(), null); // then the server closes
  peer.close();
  await h2.close();
});
