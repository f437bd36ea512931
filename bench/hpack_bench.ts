/**
 * HPACK: lib/h2's own codec against hpack.js (npm, pinned; used only here), on the header
 * blocks of a gRPC unary call as grpc-go sends and receives them: the request, the
 * response head, the trailers. "Warm" is one long connection (dynamic tables full of the
 * call's fields: mostly one-byte indexed fields); "first" is a new connection's first
 * block (literals, Huffman strings). Run: `deno task bench` (or `deno bench -A bench/hpack_bench.ts`).
 */
import hpack from "hpack.js";
import { HpackDecoder, HpackEncoder } from "../lib/h2/hpack.ts";

type Fields = [string, string][];

const REQUEST: Fields = [
  [":method", "POST"],
  [":scheme", "http"],
  [":path", "/greet.GreetService/Greet"],
  [":authority", "127.0.0.1:20000"],
  ["content-type", "application/grpc"],
  ["user-agent", "grpc-go/1.71.0"],
  ["te", "trailers"],
  ["grpc-timeout", "2999952u"],
  ["grpc-accept-encoding", "gzip"],
];
const RESPONSE: Fields = [
  [":status", "200"],
  ["content-type", "application/grpc+proto"],
  ["grpc-accept-encoding", "gzip"],
];
const TRAILERS: Fields = [["grpc-status", "0"], ["grpc-message", ""]];
const BLOCKS = [REQUEST, RESPONSE, TRAILERS];

function ownEncode(encoder: HpackEncoder, fields: Fields): Uint8Array {
  encoder.begin();
  for (const [name, value] of fields) encoder.field(name, value);
  return encoder.finish();
}

// deno-lint-ignore no-explicit-any
type HpackJs = any;
const toHpackJs = BLOCKS.map((fields) => fields.map(([name, value]) => ({ name, value })));

function theirEncode(compressor: HpackJs, block: number): Uint8Array {
  compressor.write(toHpackJs[block]);
  return compressor.read();
}

function theirDecode(decompressor: HpackJs, bytes: Uint8Array): number {
  decompressor.write(bytes);
  decompressor.execute();
  let count = 0;
  while (decompressor.read()) count++;
  return count;
}

// The bytes both decoders read: our encoder's first blocks, then its warm blocks.
const warmEncoder = new HpackEncoder();
const first = BLOCKS.map((fields) => ownEncode(warmEncoder, fields).slice());
const warm = BLOCKS.map((fields) => ownEncode(warmEncoder, fields).slice());

const ownWarmDecoder = new HpackDecoder();
for (const block of first) ownWarmDecoder.decode(block);
const theirWarmDecoder = hpack.decompressor.create({ table: { size: 4096 } });
for (const block of first) theirDecode(theirWarmDecoder, block);

Deno.bench(
  "own: decode a call's 3 blocks, warm table",
  { group: "decode warm", baseline: true },
  () => {
    for (const block of warm) ownWarmDecoder.decode(block);
  },
);
Deno.bench("hpack.js: decode a call's 3 blocks, warm table", { group: "decode warm" }, () => {
  for (const block of warm) theirDecode(theirWarmDecoder, block);
});

Deno.bench("own: decode a call's 3 blocks, new connection", {
  group: "decode first",
  baseline: true,
}, () => {
  const decoder = new HpackDecoder();
  for (const block of first) decoder.decode(block);
});
Deno.bench("hpack.js: decode a call's 3 blocks, new connection", { group: "decode first" }, () => {
  const decoder = hpack.decompressor.create({ table: { size: 4096 } });
  for (const block of first) theirDecode(decoder, block);
});

const ownEncoder = new HpackEncoder();
const theirEncoder = hpack.compressor.create({ table: { size: 4096 } });
Deno.bench(
  "own: encode a call's 3 blocks, warm table",
  { group: "encode warm", baseline: true },
  () => {
    for (const fields of BLOCKS) ownEncode(ownEncoder, fields);
  },
);
Deno.bench("hpack.js: encode a call's 3 blocks, warm table", { group: "encode warm" }, () => {
  for (let i = 0; i < BLOCKS.length; i++) theirEncode(theirEncoder, i);
});

Deno.bench("own: encode a call's 3 blocks, new connection", {
  group: "encode first",
  baseline: true,
}, () => {
  const encoder = new HpackEncoder();
  for (const fields of BLOCKS) ownEncode(encoder, fields);
});
Deno.bench("hpack.js: encode a call's 3 blocks, new connection", { group: "encode first" }, () => {
  const encoder = hpack.compressor.create({ table: { size: 4096 } });
  for (let i = 0; i < BLOCKS.length; i++) theirEncode(encoder, i);
});
