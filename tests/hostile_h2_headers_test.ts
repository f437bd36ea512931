/**
 * Issue 21, header-block vectors against the real provider process (see
 * hostile_h2_test.ts for the shape of these tests): the HPACK bomb, a dynamic table size
 * update past the advertised size, and header lists around MAX_HEADER_LIST_SIZE.
 */
import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../lib/h2/mod.ts";
import { ErrorCode, errorCodeName, Flag, FRAME_SIZE, FrameType, Setting } from "../lib/h2/frame.ts";
import { concat, describeGoaways, encodeFrame, field } from "./support/h2_frames.ts";
import { H2Wire } from "./support/h2_wire.ts";
import {
  answeredOk,
  assertBounded,
  assertGoaway,
  greetBody,
  greetHead,
  greetingOf,
  hpackInteger,
  hpackLiteral,
  plainGreetBlock,
  SESSION_BYTES,
  SLACK,
  underAttack,
} from "./support/h2_hostile.ts";

const LIMITS = DEFAULT_LIMITS;
// Legitimately: one compressed block (maxHeaderBlock, 64 KiB), the header list a stream
// may keep (MAX_HEADER_LIST_SIZE, 64 KiB), and a session's buffers (with its 4 KiB table).
const HEADERS_BOUND = SLACK * (SESSION_BYTES + LIMITS.maxHeaderBlock + LIMITS.maxHeaderListSize);

/** `block` on stream `id` as HEADERS + CONTINUATION frames of at most 16 KiB. */
function headerFrames(id: number, block: Uint8Array, endStream: boolean): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < block.length || at === 0; at += FRAME_SIZE.min) {
    const last = at + FRAME_SIZE.min >= block.length;
    const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    const flags = (last ? Flag.END_HEADERS : 0) | (at === 0 && endStream ? Flag.END_STREAM : 0);
    frames.push(encodeFrame(type, flags, id, block.subarray(at, at + FRAME_SIZE.min)));
  }
  return concat(frames);
}

/** Waits for the answers on `ids` (10 s). */
function answers(wire: H2Wire, ids: number[]): Promise<void> {
  return wire.until(`answers on ${ids}`, () => ids.every((id) => wire.stream(id).done), 10_000);
}

/**
 * Asserts stream `id` was answered with a 431 head that ends it: RFC 9113 §10.5.1 lets a
 * server answer a header list larger than it will process with 431 (RFC 6585) once it has
 * processed the block, keeping its HPACK state in step, so the connection goes on.
 */
function assert431(wire: H2Wire, id: number, what: string): void {
  const stream = wire.stream(id);
  assert.equal(field(stream.headers, ":status"), "431", `${what}: ${wire.summary()}`);
  assert.equal(stream.reset, undefined, `${what}: reset ${errorCodeName(stream.reset ?? 0)}`);
}

/** A whole Greet call on stream `id` with head `block`; asserts its greeting. */
async function assertGreets(wire: H2Wire, id: number, block: Uint8Array, name: string) {
  const [body] = wire.dataFrames(id, greetBody(name), true);
  await wire.send(concat([headerFrames(id, block, false), body]));
  await answers(wire, [id]);
  const stream = wire.stream(id);
  assert(answeredOk(stream), `stream ${id}: ${wire.summary()} ${JSON.stringify(stream.headers)}`);
  assert.equal(greetingOf(stream), name);
}

Deno.test("hostile h2: HPACK bomb: 431 per stream, the connection and its table go on; a table resize past 4,096 is COMPRESSION_ERROR", async () => {
  await underAttack(async (wire, grown, server) => {
    // "x-bomb: 4,000 bytes" enters the dynamic table (4,038 of its 4,096 octets), then the
    // block refers to it (index 62, one byte) until it is 64 KiB long: ~61,000 references,
    // a 246 MB header list from 64 KiB on the wire. Eight such blocks: ~2 GB.
    const literal = hpackLiteral("x-bomb", "b".repeat(4000), true);
    const head = plainGreetBlock(server.port, literal);
    const refs = new Uint8Array(LIMITS.maxHeaderBlock - head.length - 64).fill(0x80 | 62);
    const bomb = concat([head, refs]);
    const bombs = [1, 3, 5, 7, 9, 11, 13, 15];
    await wire.send(concat(bombs.map((id) => headerFrames(id, bomb, true))));
    await answers(wire, bombs).catch(() => {}); // asserted after the memory
    assertBounded(
      "HPACK bomb",
      grown,
      HEADERS_BOUND,
      ` after ${bombs.length} × ${refs.length} refs`,
    );
    for (const id of bombs) assert431(wire, id, `bomb on stream ${id}`);
    // The same connection serves on, and its table still holds x-bomb: one reference to it
    // in a real call (a 4 KB header, under the limit) is decoded, not COMPRESSION_ERROR.
    await assertGreets(wire, 17, plainGreetBlock(server.port, [0x80 | 62]), "after the bomb");
    assert.deepEqual(wire.goaways, [], describeGoaways(wire.goaways));
    // A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (4,096: the server sent
    // none) would let a peer grow the table without bound: RFC 7541 §4.2 makes it a decoding
    // error, a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3).
    const resize = await H2Wire.connect(server.port);
    try {
      // 1 MiB: an integer the decoder reads (2^30 would be refused as too long an integer
      // before the size is even compared).
      const update = Uint8Array.from(hpackInteger(1 << 20, 5, 0x20));
      await resize.send(headerFrames(1, concat([update, plainGreetBlock(server.port)]), true));
      await assertGoaway(resize, ErrorCode.COMPRESSION_ERROR, "table size update to 1 MiB");
    } finally {
      await resize.close();
    }
  });
});

Deno.test("hostile h2: a header list over MAX_HEADER_LIST_SIZE gets 431, one at the limit is served", async () => {
  await underAttack(async (wire, grown, server) => {
    const advertised = wire.serverSettings.get(Setting.MAX_HEADER_LIST_SIZE);
    assert.equal(advertised, LIMITS.maxHeaderListSize, "MAX_HEADER_LIST_SIZE advertised");
    // "accept: a" with a static name (index 19), not indexed: 4 bytes on the wire, 39 in the
    // list (name + value + 32, RFC 9113 §6.5.2): a small block, a list past the limit.
    const accept = [0x0f, 0x04, 0x01, 0x61];
    const head = plainGreetBlock(server.port);
    const headSize = Object.entries(greetHead(server.port))
      .reduce((sum, [name, value]) => sum + name.length + value.length + 32, 0);
    const fit = Math.floor((advertised! - headSize) / 39);
    const listOf = (n: number) => concat([head, Uint8Array.from(Array(n).fill(accept).flat())]);
    await wire.send(headerFrames(1, listOf(fit + 1), true)); // one field over
    await wire.send(headerFrames(3, listOf(2000), true)); // 78 KB
    await answers(wire, [1, 3]).catch(() => {}); // asserted after the memory
    assertBounded("header lists over the limit", grown, HEADERS_BOUND);
    assert431(wire, 1, `a list of ${headSize + (fit + 1) * 39} bytes`);
    assert431(wire, 3, `a list of ${headSize + 2000 * 39} bytes`);
    // At the limit exactly as the server counts it: a real call, answered.
    await assertGreets(wire, 5, listOf(fit), `a list of ${headSize + fit * 39} bytes`);
    assert.deepEqual(wire.goaways, [], describeGoaways(wire.goaways));
  });
});
