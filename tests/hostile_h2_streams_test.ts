/**
 * Issue 21, the stream vectors against the real provider process (see hostile_h2_test.ts
 * for the shape of these tests): responses queued behind a window the client never opens,
 * more streams than MAX_CONCURRENT_STREAMS, and a session that carried 100,000 streams
 * and then receives the client's GOAWAY with streams in flight.
 */
import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../lib/h2/mod.ts";
import { ErrorCode, errorCodeName, FrameType, Setting } from "../lib/h2/frame.ts";
import { rssBytes } from "./support/raw_http.ts";
import { concat, describeGoaways, encodeFrame, word } from "./support/h2_frames.ts";
import { H2Wire } from "./support/h2_wire.ts";
import {
  answeredOk,
  assertBounded,
  assertGoaway,
  greetBody,
  greetHead,
  greetingOf,
  greets,
  KiB,
  MiB,
  SESSION_BYTES,
  SLACK,
  startGreet,
  underAttack,
} from "./support/h2_hostile.ts";

const LIMITS = DEFAULT_LIMITS;

Deno.test("hostile h2: zero-window stall: answers queued past the session cap end it with GOAWAY ENHANCE_YOUR_CALM", async () => {
  // INITIAL_WINDOW_SIZE 0: the server may send heads, never a byte of a body.
  await underAttack(async (wire, grown) => {
    // 3.5 MiB requests and answers (under the 4 MiB message limit). Up to 100 calls (all
    // MAX_CONCURRENT_STREAMS allows), one body after the other, that would queue 350 MiB of
    // answers; a body left unsent when the server closes ends it.
    const name = "z".repeat(3.5 * MiB);
    for (let id = 1; id < 200 && wire.goaways.length === 0 && !wire.eof; id += 2) {
      await startGreet(wire, id, name).catch(() => {});
    }
    const heads = [...wire.streams.values()].filter((stream) => stream.headers).length;
    // Legitimately: the session's queue of answers (maxSessionQueued, 16 MiB), the request
    // bodies a session may hold (maxSessionBody, 32 MiB) and its buffers. Three times that:
    // each call passes through several buffers of its size (the joined request, the
    // decoded name, the encoded answer), garbage in V8's large-object space until a full GC.
    const bound = 3 * (LIMITS.maxSessionQueued + LIMITS.maxSessionBody + SESSION_BYTES);
    const detail = ` with ${heads} answer heads sent of 100 calls of 3.5 MiB`;
    assertBounded("zero window", grown, bound, detail);
    // Answers the client will not take, past what the server queues for a session: RFC
    // 9113 §10.5 ENHANCE_YOUR_CALM, the session's memory released at once.
    await assertGoaway(wire, ErrorCode.ENHANCE_YOUR_CALM, `zero window:${detail}`);
  }, { settings: [Setting.INITIAL_WINDOW_SIZE, 0] });
});

/** Waits for the answers on `ids` (10 s). */
function answers(wire: H2Wire, ids: number[]): Promise<void> {
  return wire.until(`answers on ${ids}`, () => ids.every((id) => wire.stream(id).done), 10_000);
}

/** Asserts that each of `ids` got a whole Greet answer with the greeting `prefix + id`. */
function assertGreeted(wire: H2Wire, ids: number[], prefix: string): void {
  for (const id of ids) {
    assert(answeredOk(wire.stream(id)), `stream ${id}: ${wire.summary()}`);
    assert.equal(greetingOf(wire.stream(id)), `${prefix}${id}`);
  }
}

// Legitimately: 100 open streams (a head under 1 KiB as the header list size counts it,
// bookkeeping under 1 KiB) and a session's buffers.
const STREAMS_BOUND = SLACK * (SESSION_BYTES + LIMITS.maxConcurrentStreams * 2 * KiB);

Deno.test("hostile h2: streams past MAX_CONCURRENT_STREAMS get REFUSED_STREAM, the others are served", async () => {
  await underAttack(async (wire, grown, server) => {
    const max = wire.serverSettings.get(Setting.MAX_CONCURRENT_STREAMS);
    assert.equal(max, LIMITS.maxConcurrentStreams, "MAX_CONCURRENT_STREAMS advertised");
    // 150 calls opened at once, their bodies held back: 100 streams open, 50 more.
    const ids = Array.from({ length: 150 }, (_, i) => 2 * i + 1);
    const head = greetHead(server.port);
    await wire.send(concat(ids.map((id) => wire.headers(id, head, false))));
    const served = ids.slice(0, LIMITS.maxConcurrentStreams);
    const excess = ids.slice(LIMITS.maxConcurrentStreams);
    await answers(wire, excess);
    const refused = excess.map((id) => errorCodeName(wire.stream(id).reset ?? 0));
    // The first 100 are served as their bodies come, the refused ones when retried.
    const bodies = served.map((id) => wire.dataFrames(id, greetBody(`s${id}`), true)[0]);
    await wire.send(concat(bodies));
    const retried = excess.map((id) => id + 300);
    await Promise.all(retried.map((id) => startGreet(wire, id, `s${id}`)));
    await answers(wire, [...served, ...retried]);
    assertBounded("150 streams at once", grown, STREAMS_BOUND);
    // RFC 9113 §5.1.2: a stream past the advertised limit is a stream error, and
    // REFUSED_STREAM (not PROTOCOL_ERROR) tells the client it was not processed and may
    // be retried (§8.7); the connection goes on.
    assert.deepEqual(refused, excess.map(() => "REFUSED_STREAM"), wire.summary());
    assertGreeted(wire, [...served, ...retried], "s");
    assert.deepEqual(wire.goaways, [], describeGoaways(wire.goaways));
  });
});

Deno.test("hostile h2: a session that carried 100,000 streams takes the client's GOAWAY with 100 in flight; all answered, then closed", async () => {
  await underAttack(async (wire, grown, server) => {
    const before = rssBytes(server.pid);
    // 99,900 calls, 100 at a time, then 100 whose bodies wait for the GOAWAY.
    const next = await greets(wire, 99_900, 100);
    const last = Array.from({ length: 100 }, (_, i) => next + 2 * i);
    const head = greetHead(server.port);
    await wire.send(concat(last.map((id) => wire.headers(id, head, false))));
    // The client goes away: it will open no stream and accept none (last-stream-id 0).
    const goaway = concat([word(0), word(ErrorCode.NO_ERROR)]);
    await wire.send(encodeFrame(FrameType.GOAWAY, 0, 0, goaway));
    await wire.send(concat(last.map((id) => wire.dataFrames(id, greetBody(`g${id}`), true)[0])));
    await answers(wire, last);
    await wire.closed(LIMITS.lingerMs + 5000).catch(() => {}); // asserted below
    // RSS flat: no stream leaves anything behind.
    const after = (rssBytes(server.pid) / MiB).toFixed(1);
    const detail = `; RSS ${(before / MiB).toFixed(1)} MiB before, ${after} MiB after`;
    assertBounded("100,000 streams", grown, STREAMS_BOUND, detail);
    // RFC 9113 §6.8: a GOAWAY ends no stream already open: each is answered whole. Then
    // the server closes its side, and nothing on the connection was an error.
    assertGreeted(wire, last, "g");
    assert(wire.eof, `the connection is still open: ${wire.summary()}`);
    assert.deepEqual(wire.resets, new Map(), wire.summary());
    assert(wire.goaways.every((g) => g.code === ErrorCode.NO_ERROR), wire.summary());
  });
});
