// The server's SPEC "Hostile clients" budgets and deadlines against a raw peer: rapid
// reset, refused streams, CONTINUATION / PING / SETTINGS / WINDOW_UPDATE / empty-DATA
// floods, HPACK bombs, stalls, preface deadline, queued bytes, a peer that stops reading;
// each attack ends by proving the same server still serves.
import assert from "node:assert/strict";
import { ErrorCode, FrameType, Setting } from "./frame.ts";
import { RawPeer } from "./_raw_peer.ts";
import * as h2 from "./_test_server.ts";

const { expectGoaway, framesUntilPingAck, GET, POST, pingFrame, sized, stillServes } = h2;
const start = h2.startTestServer;

Deno.test("rapid reset (CVE-2023-44487): ENHANCE_YOUR_CALM past the reset budget", async () => {
  const h2 = start(() => {}, { resetBurst: 20, resetPerSecond: 1 });
  const peer = await RawPeer.connect(h2.port);
  for (let id = 1; id < 200; id += 2) {
    await peer.headers(id, GET, true);
    await peer.word(FrameType.RST_STREAM, id, ErrorCode.CANCEL);
  }
  await expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(h2.server.stats.limits["rapid reset"], 1);
  assert.ok(h2.lines.some((line) => line.includes("rapid reset")));
  peer.close();
  await stillServes(h2.port);
  await h2.close();
});

Deno.test("concurrency: streams beyond MAX_CONCURRENT_STREAMS are refused (REFUSED_STREAM)", async () => {
  const h2 = start(() => {}, { maxConcurrentStreams: 2 });
  const peer = await RawPeer.connect(h2.port);
  const settings = await peer.until((f) => f.type === FrameType.SETTINGS && f.flags === 0);
  const view = new DataView(settings.payload.buffer);
  assert.equal(view.getUint16(0), Setting.MAX_CONCURRENT_STREAMS);
  assert.equal(view.getUint32(2), 2);
  for (const id of [1, 3, 5]) await peer.headers(id, GET, true);
  const reset = await peer.until((f) => f.type === FrameType.RST_STREAM);
  assert.equal(reset.id, 5);
  assert.equal(new DataView(reset.payload.buffer).getUint32(0), ErrorCode.REFUSED_STREAM);
  peer.close();
  await h2.close();
});

Deno.test("CONTINUATION flood: ENHANCE_YOUR_CALM after maxContinuations frames", async () => {
  const h2 = start(sized(1));
  const peer = await RawPeer.connect(h2.port);
  await peer.frame(FrameType.HEADERS, 0, 1, peer.block(GET));
  for (let i = 0; i < 40; i++) await peer.frame(FrameType.CONTINUATION, 0, 1);
  await expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(h2.server.stats.connectionErrors.ENHANCE_YOUR_CALM, 1);
  peer.close();
  await stillServes(h2.port);
  await h2.close();
});

Deno.test("PING flood: ENHANCE_YOUR_CALM; pings between requests (grpc-go's BDP probe) are free", async () => {
  const h2 = start(sized(1), { controlBurst: 20, controlPerSecond: 1 });
  const polite = await RawPeer.connect(h2.port);
  for (let id = 1; id < 100; id += 2) {
    await polite.headers(id, GET, true);
    await polite.until((f) => f.type === FrameType.DATA && f.id === id);
    await pingFrame(polite, 1);
  }
  const acks = await framesUntilPingAck(polite);
  assert.ok(!acks.some((f) => f.type === FrameType.GOAWAY));
  polite.close();
  const flood = await RawPeer.connect(h2.port);
  for (let i = 0; i < 100; i++) await pingFrame(flood, 2);
  await expectGoaway(flood, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(h2.server.stats.limits["PING flood"], 1);
  flood.close();
  await stillServes(h2.port);
  await h2.close();
});

Deno.test("empty DATA, SETTINGS and WINDOW_UPDATE floods: ENHANCE_YOUR_CALM", async () => {
  const h2 = start(() => {}, { controlBurst: 20, controlPerSecond: 1 });
  const floods: [string, (peer: RawPeer) => Promise<void>][] = [
    ["empty DATA flood", (peer) => peer.data(1, new Uint8Array(0), false)],
    ["SETTINGS flood", (peer) => peer.settings([])],
    ["WINDOW_UPDATE flood", (peer) => peer.word(FrameType.WINDOW_UPDATE, 0, 1)],
  ];
  for (const [name, send] of floods) {
    const peer = await RawPeer.connect(h2.port);
    await peer.headers(1, POST, false);
    for (let i = 0; i < 100; i++) await send(peer);
    await expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
    assert.equal(h2.server.stats.limits[name], 1, name);
    peer.close();
  }
  await h2.close();
});

Deno.test("HPACK bomb: 431 for a header list over the limit; the connection goes on", async () => {
  const h2 = start(sized(2), { maxHeaderListSize: 16 * 1024 });
  const peer = await RawPeer.connect(h2.port);
  // GET, then "x-big: bbb…" (3000 bytes) as a literal with incremental indexing: index 62.
  const get = peer.block(GET);
  const value = new TextEncoder().encode("b".repeat(3000));
  const literal = [0x40, 5, ...new TextEncoder().encode("x-big"), 0x7f, 0xb9, 0x16, ...value];
  const big = Uint8Array.from([...get, ...literal]); // 0xb9 0x16: 127 + 57 + 22 * 128 = 3000
  const refs = new Uint8Array(1000).fill(0x80 | 62); // 1000 × 3 KB decoded: 3 MB
  const bomb = new Uint8Array(big.length + refs.length);
  bomb.set(big);
  bomb.set(refs, big.length);
  await peer.frame(FrameType.HEADERS, 0x5, 1, bomb);
  const response = await peer.until((f) => f.type === FrameType.HEADERS && f.id === 1);
  assert.deepEqual(peer.decode(response.payload), [":status", "431"]);
  await peer.headers(3, GET, true);
  await peer.until((f) => f.type === FrameType.DATA && f.id === 3 && (f.flags & 1) === 1);
  assert.equal(h2.server.stats.limits["header list size"], 1);
  peer.close();
  await h2.close();
});

Deno.test("stalled request body and shut response window: RST_STREAM CANCEL", async () => {
  const h2 = start(sized(10), { bodyStallMs: 200, sendStallMs: 200 });
  const peer = await RawPeer.connect(h2.port, [Setting.INITIAL_WINDOW_SIZE, 0]);
  await peer.headers(1, POST, false); // a body that never comes
  const stalled = await peer.until((f) => f.type === FrameType.RST_STREAM);
  assert.equal(stalled.id, 1);
  assert.equal(new DataView(stalled.payload.buffer).getUint32(0), ErrorCode.CANCEL);
  await peer.headers(3, GET, true); // a response that never gets a window
  const shut = await peer.until((f) => f.type === FrameType.RST_STREAM);
  assert.equal(shut.id, 3);
  assert.equal(h2.server.stats.limits["stalled request body"], 1);
  assert.equal(h2.server.stats.limits["stalled response (flow-control window shut)"], 1);
  peer.close();
  await h2.close();
});

Deno.test("preface deadline: a silent connection is closed", async () => {
  const h2 = start(sized(1), { prefaceMs: 200 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: h2.port });
  const peer = new RawPeer(conn);
  while (await peer.next(3000)); // until closed: SETTINGS and WINDOW_UPDATE, nothing else
  assert.deepEqual(peer.log.map((f) => f.type), [FrameType.SETTINGS, FrameType.WINDOW_UPDATE]);
  assert.equal(h2.server.stats.limits["preface deadline"], 1);
  peer.close();
  await h2.close();
});

Deno.test("queued response bytes: a stream over maxStreamQueued is reset, a session over maxSessionQueued ends", async () => {
  const h2 = start(sized(60_000), { maxStreamQueued: 50_000, maxSessionQueued: 100_000 });
  const shut = [Setting.INITIAL_WINDOW_SIZE, 0];
  const one = await RawPeer.connect(h2.port, shut);
  await one.headers(1, GET, true);
  await one.headers(3, GET, true);
  const reset = await one.until((f) => f.type === FrameType.RST_STREAM);
  assert.equal(new DataView(reset.payload.buffer).getUint32(0), ErrorCode.ENHANCE_YOUR_CALM);
  one.close();
  const h2b = start(sized(40_000), { maxStreamQueued: 50_000, maxSessionQueued: 100_000 });
  const many = await RawPeer.connect(h2b.port, shut);
  for (const id of [1, 3, 5]) await many.headers(id, GET, true);
  await expectGoaway(many, ErrorCode.ENHANCE_YOUR_CALM);
  assert.equal(h2b.server.stats.limits["queued response bytes (session)"], 1);
  many.close();
  await stillServes(h2b.port);
  await h2.close();
  await h2b.close();
});

Deno.test("a peer that stops reading: the session is closed once a write stalls for sendStallMs", async () => {
  const big = new Uint8Array(1 << 20);
  const h2 = start((stream) => {
    stream.respond(200);
    for (let i = 0; i < 48; i++) stream.write(big);
    stream.end();
  }, { sendStallMs: 300, maxStreamQueued: 64 << 20, maxSessionQueued: 64 << 20 });
  const peer = await RawPeer.connect(h2.port, [Setting.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]);
  await peer.word(FrameType.WINDOW_UPDATE, 0, 2 ** 31 - 1 - 65_535);
  await peer.headers(1, GET, true); // and never read: socket buffers fill, the write stalls
  const deadline = Date.now() + 10_000;
  while (h2.server.stats.sessionsOpen > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(h2.server.stats.limits["peer not reading"], 1);
  assert.equal(h2.server.stats.sessionsOpen, 0);
  peer.close();
  await stillServes(h2.port);
  await h2.close();
});
