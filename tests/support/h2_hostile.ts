/**
 * What the HTTP/2 hostile-client tests share: gRPC Greet calls over {@linkcode H2Wire},
 * header blocks written byte by byte (RFC 7541 representations our encoder would never
 * choose: the HPACK bomb), a bounded flood loop, legitimate traffic to warm a provider up
 * before its memory is measured, the memory bounds' building blocks (from lib/h2's
 * defaults), and the proof that the same process still answers a real gRPC call.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../lib/h2/mod.ts";
import { errorCodeName } from "../../lib/h2/frame.ts";
import { decodeGreetResponse, encodeGreetRequest, GREET } from "../../lib/greet/mod.ts";
import { createClient } from "../../lib/triple/mod.ts";
import { concat, describeGoaways, field } from "./h2_frames.ts";
import { H2Wire, type WireStream } from "./h2_wire.ts";
import {
  assertSameProcessServes,
  measureGrowth,
  type ProviderProcess,
  settlesWithin,
  startProviderProcess,
  warmUp,
} from "./raw_http.ts";

export const KiB = 1024;
export const MiB = 1024 * KiB;

/**
 * What any session may legitimately hold whatever its peer does: the serialized output
 * waiting for the socket before reading pauses (`outputHighWater`), its read buffer
 * (32 KiB, lib/h2/_session_core.ts) and HPACK table (4 KiB, SETTINGS_HEADER_TABLE_SIZE).
 */
export const SESSION_BYTES = DEFAULT_LIMITS.outputHighWater + 32 * KiB + 4 * KiB;

/**
 * How far above its legitimate cost a vector may raise the provider's peak RSS: the factor
 * tests/hostile_test.ts uses (garbage of the work not yet collected, V8 heap growth steps).
 */
export const SLACK = 16;

/** The request head of a gRPC Greet call to `port`, plus `extra` fields. */
export function greetHead(port: number, extra: Record<string, string> = {}) {
  return {
    ":method": "POST",
    ":scheme": "http",
    ":path": "/greet.GreetService/Greet",
    ":authority": `127.0.0.1:${port}`,
    "content-type": "application/grpc",
    te: "trailers",
    ...extra,
  };
}

/** The body of a Greet call: one uncompressed gRPC message carrying `name`. */
export function greetBody(name: string): Uint8Array {
  const message = encodeGreetRequest(name, "proto");
  const bytes = new Uint8Array(5 + message.length);
  new DataView(bytes.buffer).setUint32(1, message.length);
  bytes.set(message, 5);
  return bytes;
}

/** The greeting of a Greet answer (its one gRPC message). */
export function greetingOf(stream: WireStream): string {
  return decodeGreetResponse(concat(stream.body).subarray(5), "proto").greeting;
}

/** Whether `stream` got a whole Greet answer with `grpc-status: 0`. */
export function answeredOk(stream: WireStream): boolean {
  return field(stream.headers, ":status") === "200" &&
    field(stream.trailers, "grpc-status") === "0";
}

/** Opens stream `id` with a Greet head and body (one write), answer tracked. */
export async function startGreet(wire: H2Wire, id: number, name: string): Promise<WireStream> {
  const port = (wire.conn.remoteAddr as Deno.NetAddr).port;
  const head = wire.headers(id, greetHead(port), false);
  const [data, rest] = wire.dataFrames(id, greetBody(name), true);
  await wire.send(concat([head, data]));
  if (rest.length > 0) await wire.data(id, rest, true);
  return wire.stream(id);
}

/**
 * `count` Greet calls on `wire`, `concurrency` at a time, from stream `firstId` on; each
 * answer must be a whole gRPC OK. Returns the next free stream id.
 */
export async function greets(
  wire: H2Wire,
  count: number,
  concurrency: number,
  firstId = 1,
): Promise<number> {
  let next = firstId;
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const id = next;
      next += 2;
      const stream = await startGreet(wire, id, "w");
      await wire.until(`stream ${id} answered`, () => stream.done, 30_000);
      if (!answeredOk(stream)) throw new Error(`stream ${id}: ${JSON.stringify(stream)}`);
      wire.forget(id);
    }
  };
  const keep = wire.keepBodies;
  wire.keepBodies = false;
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    wire.keepBodies = keep;
  }
  return next;
}

/**
 * Warms `server` up with rounds of 5,000 gRPC Greet calls, 100 at a time, from our own
 * client (lib/h2's: one connection, a new one when the server ends it with GOAWAY, as the
 * provider before lib/h2 did every 64 streams).
 */
export async function warmUpH2(server: ProviderProcess): Promise<void> {
  const client = grpcClient();
  const endpoint = { host: "127.0.0.1", port: server.port };
  try {
    await warmUp(server, async () => {
      let calls = 0;
      const worker = async () => {
        while (calls++ < 5000) await client.call(GREET, endpoint, "w");
      };
      await Promise.all(Array.from({ length: 100 }, worker));
    });
  } finally {
    client.close();
  }
}

/**
 * Writes a batch of frames (`batch()` makes each) again and again until the server sends
 * GOAWAY or closes, at most `maxBatches` times and for at most `maxMs`; a write the server
 * does not take within 2 s (it stopped reading) ends it too. Returns the batches written.
 */
export async function flood(
  wire: H2Wire,
  batch: () => Uint8Array,
  maxBatches: number,
  maxMs: number,
): Promise<number> {
  const deadline = Date.now() + maxMs;
  let sent = 0;
  while (sent < maxBatches && Date.now() < deadline && wire.goaways.length === 0 && !wire.eof) {
    const write = wire.send(batch());
    if (!await settlesWithin(write.catch(() => {}), 2000)) break;
    try {
      await write;
    } catch {
      break; // reset by the server
    }
    sent++;
    // A write into free socket buffer space settles at once, without a turn of the event
    // loop: yield one, so that the read loop sees a GOAWAY that came meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return sent;
}

/** An HPACK integer with an `prefixBits`-bit prefix under `flags` (RFC 7541 §5.1). */
export function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const bytes = [flags | max];
  value -= max;
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

/** A raw (not Huffman) HPACK string literal (RFC 7541 §5.2). */
export function hpackString(text: string): number[] {
  return [...hpackInteger(text.length, 7, 0), ...new TextEncoder().encode(text)];
}

/** Literal field with a new name: `indexed` adds it to the dynamic table (RFC 7541 §6.2). */
export function hpackLiteral(name: string, value: string, indexed: boolean): number[] {
  return [indexed ? 0x40 : 0x00, ...hpackString(name), ...hpackString(value)];
}

/** A header block of a Greet call written without the dynamic table, plus `extra` bytes. */
export function plainGreetBlock(port: number, extra: number[] = []): Uint8Array {
  const fields = Object.entries(greetHead(port)).flatMap(([name, value]) =>
    hpackLiteral(name, value, false)
  );
  return Uint8Array.from([...fields, ...extra]);
}

/** Our own gRPC client (lib/triple over lib/h2's client). */
function grpcClient() {
  return createClient({
    timeoutMs: 10_000,
    serialization: "protobuf",
    protocol: "grpc",
    http: "2",
  });
}

/**
 * {@linkcode assertSameProcessServes} (same PID, owning the Triple port, answering a greet
 * over HTTP/1.1 and h2c), then a real gRPC Greet call from our own client over h2c.
 */
export async function assertSameProcessServesGrpc(server: ProviderProcess): Promise<void> {
  await assertSameProcessServes(server);
  const client = grpcClient();
  const name = `grpc-alive-${server.pid}`;
  try {
    const greeting = await client.call(GREET, { host: "127.0.0.1", port: server.port }, name);
    if (greeting !== name) throw new Error(`gRPC greet after the attack answered ${greeting}`);
  } finally {
    client.close();
  }
}

/**
 * Starts the provider (with `options.args` added to its flags), warms it up with real
 * calls, connects a raw client (with our `options.settings`), and runs `attack` with a
 * function reading the provider's peak RSS growth since the warm-up. Ends by proving the
 * same process serves a real gRPC call.
 */
export async function underAttack(
  attack: (wire: H2Wire, grown: () => number, server: ProviderProcess) => Promise<void>,
  options: { settings?: number[]; args?: string[] } = {},
): Promise<void> {
  const { settings = [], args = [] } = options;
  await using server = await startProviderProcess(args);
  await warmUpH2(server);
  const grown = measureGrowth(server.pid);
  const wire = await H2Wire.connect(server.port, settings);
  try {
    await attack(wire, grown, server);
  } finally {
    await wire.close();
  }
  await assertSameProcessServesGrpc(server);
}

/**
 * Asserts a peak RSS growth under `bound`, logged with the vector's name. Tests assert it
 * before the answer on the wire, so that a break of either shows on its own.
 */
export function assertBounded(vector: string, grown: () => number, bound: number, detail = "") {
  const peak = grown();
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  console.log(`${vector}: RSS peak +${mib(peak)} (bound ${mib(bound)})${detail}`);
  assert(peak < bound, `${vector}: RSS grew ${peak} bytes, bound ${bound}`);
}

/**
 * Asserts that the first GOAWAY (within 15 s) carries `code`, then that the server closes
 * the connection (it half-closes and gives the peer lingerMs to close).
 */
export async function assertGoaway(wire: H2Wire, code: number, why: string): Promise<void> {
  await wire.goaway(15_000).catch((error) => assert.fail(`${why}: ${error.message}`));
  const first = wire.goaways[0];
  const got = `${why}: ${describeGoaways(wire.goaways)}`;
  assert.equal(errorCodeName(first.code), errorCodeName(code), got);
  await wire.closed(DEFAULT_LIMITS.lingerMs + 5000);
}
