/**
 * Issue 21: the known HTTP/2 attacks against the real provider process (`deno task server
 * --registry=none --push=false`, h2c served by lib/h2), from a raw frame client
 * (tests/support/h2_wire.ts, on lib/h2's public frame and HPACK modules). One test per
 * vector, each loop bounded in frames and time; each asserts the provider's peak RSS
 * growth under a bound derived from the limit the vector runs into (a multiple of its
 * legitimate cost, measured after a warm-up of real gRPC calls), then the answer on the
 * wire (the RFC 9113 code, or 431, and why), and ends by proving that the same PID still
 * answers a real gRPC call. This file: rapid reset and the floods; header blocks are in
 * hostile_h2_headers_test.ts, stream vectors in hostile_h2_streams_test.ts, deadlines in
 * hostile_h2_deadlines_test.ts.
 *
 * To see which vectors the provider before lib/h2 (node:http2) fails, run the four files
 * against a worktree of it (HOSTILE_CHECKOUT, as for tests/hostile_test.ts):
 *
 *     git worktree add /tmp/nodeh2 96d3d80
 *     HOSTILE_CHECKOUT=/tmp/nodeh2 deno task test tests/hostile_h2_test.ts
 */
import { DEFAULT_LIMITS } from "../lib/h2/mod.ts";
import { ErrorCode, Flag, FrameType } from "../lib/h2/frame.ts";
import { concat, encodeFrame, word } from "./support/h2_frames.ts";
import type { H2Wire } from "./support/h2_wire.ts";
import {
  assertBounded,
  assertGoaway,
  flood,
  greetBody,
  greetHead,
  hpackLiteral,
  KiB,
  plainGreetBlock,
  SESSION_BYTES,
  SLACK,
  underAttack,
} from "./support/h2_hostile.ts";

const LIMITS = DEFAULT_LIMITS;

Deno.test("hostile h2: rapid reset (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM, memory bounded", async () => {
  await underAttack(async (wire, grown, server) => {
    let id = 1;
    // 500 HEADERS + RST_STREAM(CANCEL) pairs per write, at line rate, up to 100,000 pairs.
    const pairs = () => {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 500; i++, id += 2) {
        const block = wire.block(greetHead(server.port));
        frames.push(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, block));
        frames.push(encodeFrame(FrameType.RST_STREAM, 0, id, word(ErrorCode.CANCEL)));
      }
      return concat(frames);
    };
    const batches = await flood(wire, pairs, 200, 20_000);
    // Legitimately the server holds at most MAX_CONCURRENT_STREAMS streams at once, each
    // with its head (under 1 KiB as the header list size counts it) and its bookkeeping
    // (under 1 KiB), and a session's buffers.
    const bound = SLACK * (SESSION_BYTES + LIMITS.maxConcurrentStreams * 2 * KiB);
    const detail = ` after ${batches * 500} pairs written`;
    assertBounded("rapid reset", grown, bound, detail);
    // Each reset stream lets the client open another past MAX_CONCURRENT_STREAMS while the
    // server may still work on it: RFC 9113 §10.5 lets a server end a connection that
    // abuses it with ENHANCE_YOUR_CALM, as Go's and nghttp2's fixes for this CVE do.
    await assertGoaway(wire, ErrorCode.ENHANCE_YOUR_CALM, `rapid reset:${detail}`);
  });
});

Deno.test("hostile h2: rapid reset of whole calls in progress (20 ms business delay): GOAWAY ENHANCE_YOUR_CALM", async () => {
  // The CVE's own shape: each stream a complete request the server is working on (here
  // the greet handler's business delay) when its reset comes.
  await underAttack(async (wire, grown, server) => {
    let id = 1;
    const body = greetBody("r");
    const calls = () => {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 500; i++, id += 2) {
        const block = wire.block(greetHead(server.port));
        frames.push(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, block));
        frames.push(encodeFrame(FrameType.DATA, Flag.END_STREAM, id, body));
        frames.push(encodeFrame(FrameType.RST_STREAM, 0, id, word(ErrorCode.CANCEL)));
      }
      return concat(frames);
    };
    const batches = await flood(wire, calls, 200, 20_000);
    // As above: at most MAX_CONCURRENT_STREAMS calls legitimately in progress at once.
    const bound = SLACK * (SESSION_BYTES + LIMITS.maxConcurrentStreams * 2 * KiB);
    const detail = ` after ${batches * 500} reset calls written`;
    assertBounded("rapid reset (calls in progress)", grown, bound, detail);
    await assertGoaway(wire, ErrorCode.ENHANCE_YOUR_CALM, `rapid reset of calls:${detail}`);
  }, { args: ["--delay=20ms"] });
});

/**
 * A header block opened on stream 1 (HEADERS without END_HEADERS) and never finished:
 * `continuation` frames after it, 1,000 per write up to `maxFrames`.
 */
async function continuationFlood(
  wire: H2Wire,
  port: number,
  continuation: Uint8Array,
  maxFrames: number,
): Promise<string> {
  await wire.send(encodeFrame(FrameType.HEADERS, 0, 1, plainGreetBlock(port)));
  const batch = concat(Array(1000).fill(continuation));
  const batches = await flood(wire, () => batch, Math.ceil(maxFrames / 1000), 10_000);
  return ` after ${batches * 1000} CONTINUATION frames (${batches * batch.length} bytes) written`;
}

// A header block that never ends may not be interrupted by any other frame (RFC 9113
// §6.10) nor answered with 431 before it is whole: the only bounded answer is to end the
// connection, with ENHANCE_YOUR_CALM for a peer making us hold too much (RFC 9113 §10.5).
// Legitimately a session buffers one header block (maxHeaderBlock, 64 KiB).
const CONTINUATION_BOUND = SLACK * (SESSION_BYTES + LIMITS.maxHeaderBlock);

Deno.test("hostile h2: CONTINUATION flood of empty frames: GOAWAY ENHANCE_YOUR_CALM", async () => {
  await underAttack(async (wire, grown, server) => {
    const empty = encodeFrame(FrameType.CONTINUATION, 0, 1);
    const detail = await continuationFlood(wire, server.port, empty, 1_000_000);
    assertBounded("CONTINUATION flood (empty)", grown, CONTINUATION_BOUND, detail);
    await assertGoaway(wire, ErrorCode.ENHANCE_YOUR_CALM, `empty CONTINUATIONs:${detail}`);
  });
});

Deno.test("hostile h2: CONTINUATION flood of full frames (64 MB offered): GOAWAY ENHANCE_YOUR_CALM", async () => {
  await underAttack(async (wire, grown, server) => {
    // 16 KiB frames of valid fields (4 × "x-c: 4,000 bytes"), up to 4,000 (64 MB).
    const fields = Array(4).fill(hpackLiteral("x-c", "c".repeat(4000), false)).flat();
    const full = encodeFrame(FrameType.CONTINUATION, 0, 1, Uint8Array.from(fields));
    const detail = await continuationFlood(wire, server.port, full, 4000);
    assertBounded("CONTINUATION flood (full)", grown, CONTINUATION_BOUND, detail);
    await assertGoaway(wire, ErrorCode.ENHANCE_YOUR_CALM, `full CONTINUATIONs:${detail}`);
  });
});

/**
 * Floods `wire` with `frame`, 1,000 per write up to `maxFrames`, reading nothing meanwhile
 * (the queue of answers a PING or SETTINGS flood aims at, CVE-2019-9512 and -9515); then
 * asserts the server's memory and reads, expecting GOAWAY ENHANCE_YOUR_CALM: frames that
 * cost it work and carry no request, past its budget (RFC 9113 §10.5).
 */
async function controlFlood(
  vector: string,
  wire: H2Wire,
  grown: () => number,
  frame: Uint8Array,
): Promise<void> {
  const batch = concat(Array(1000).fill(frame));
  wire.pause();
  const batches = await flood(wire, () => batch, 1000, 10_000);
  const detail = ` after ${batches * 1000} frames written`;
  // Legitimately a control flood costs a session's buffers: its answers wait in them.
  assertBounded(vector, grown, SLACK * SESSION_BYTES, detail);
  wire.resume();
  await assertGoaway(wire, ErrorCode.ENHANCE_YOUR_CALM, `${vector}:${detail}`);
}

Deno.test("hostile h2: PING flood, ACKs never read: GOAWAY ENHANCE_YOUR_CALM", async () => {
  await underAttack(async (wire, grown) => {
    const ping = encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8));
    await controlFlood("PING flood", wire, grown, ping);
  });
});

Deno.test("hostile h2: SETTINGS flood, ACKs never read: GOAWAY ENHANCE_YOUR_CALM", async () => {
  await underAttack(async (wire, grown) => {
    const settings = encodeFrame(FrameType.SETTINGS, 0, 0, new Uint8Array(6)); // one setting
    await controlFlood("SETTINGS flood", wire, grown, settings);
  });
});

Deno.test("hostile h2: empty-DATA flood on an open stream: GOAWAY ENHANCE_YOUR_CALM", async () => {
  await underAttack(async (wire, grown, server) => {
    await wire.send(wire.headers(1, greetHead(server.port), false));
    await controlFlood("empty-DATA flood", wire, grown, encodeFrame(FrameType.DATA, 0, 1));
  });
});

Deno.test("hostile h2: WINDOW_UPDATE flood: GOAWAY ENHANCE_YOUR_CALM", async () => {
  await underAttack(async (wire, grown) => {
    // Increments of 1 on the connection: a million of them stay far below 2^31-1 (no
    // FLOW_CONTROL_ERROR to hide behind).
    const update = encodeFrame(FrameType.WINDOW_UPDATE, 0, 0, word(1));
    await controlFlood("WINDOW_UPDATE flood", wire, grown, update);
  });
});
