// HPACK against RFC 7541 Appendix C (decoding with dynamic table states, encoding of the
// request examples), Huffman round trips and error cases, and the hostile-input bounds.
import assert from "node:assert/strict";
import { FieldList, HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";
import { huffmanDecode, huffmanEncode, huffmanLength } from "./huffman.ts";

function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g)!.map((pair) => parseInt(pair, 16)));
}

/** One step of a series: the block, the decoded list, the table afterwards (newest first). */
interface Step {
  block: string;
  fields: FieldList;
  table: FieldList;
  size: number;
}

function decodeSeries(tableSize: number, steps: Step[]) {
  const decoder = new HpackDecoder(tableSize);
  for (const step of steps) {
    assert.deepEqual(decoder.decode(hex(step.block)), step.fields);
    assert.equal(decoder.tableSize, step.size);
    // Every table entry is addressable as index 62, 63, … (newest first).
    const indexed: FieldList = [];
    for (let i = 0; i < step.table.length / 2; i++) {
      indexed.push(...decoder.decode(Uint8Array.of(0x80 | (62 + i)))!);
    }
    assert.deepEqual(indexed, step.table);
    assert.throws(() => decoder.decode(Uint8Array.of(0x80 | (62 + step.table.length / 2))));
  }
}

// deno-fmt-ignore
const REQUEST_1 = [
  ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com",
];
const REQUEST_2 = [...REQUEST_1, "cache-control", "no-cache"];
// deno-fmt-ignore
const REQUEST_3 = [
  ":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "www.example.com",
  "custom-key", "custom-value",
];
const TABLE_1 = [":authority", "www.example.com"];
const TABLE_2 = ["cache-control", "no-cache", ...TABLE_1];
const TABLE_3 = ["custom-key", "custom-value", ...TABLE_2];

const C3 = [
  "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "8286 84be 5808 6e6f 2d63 6163 6865",
  "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
];
const C4 = [
  "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
  "8286 84be 5886 a8eb 1064 9cbf",
  "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
];

function requestSteps(blocks: string[]): Step[] {
  return [
    { block: blocks[0], fields: REQUEST_1, table: TABLE_1, size: 57 },
    { block: blocks[1], fields: REQUEST_2, table: TABLE_2, size: 110 },
    { block: blocks[2], fields: REQUEST_3, table: TABLE_3, size: 164 },
  ];
}

const DATE_1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE_2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
// deno-fmt-ignore
const RESPONSE_1 = [
  ":status", "302", "cache-control", "private", "date", DATE_1, "location", LOCATION,
];
// deno-fmt-ignore
const RESPONSE_2 = [
  ":status", "307", "cache-control", "private", "date", DATE_1, "location", LOCATION,
];
// deno-fmt-ignore
const RESPONSE_3 = [
  ":status", "200", "cache-control", "private", "date", DATE_2, "location", LOCATION,
  "content-encoding", "gzip", "set-cookie", COOKIE,
];

function responseSteps(blocks: string[]): Step[] {
  return [{
    block: blocks[0],
    fields: RESPONSE_1,
    table: ["location", LOCATION, "date", DATE_1, "cache-control", "private", ":status", "302"],
    size: 222,
  }, {
    block: blocks[1],
    fields: RESPONSE_2,
    table: [":status", "307", "location", LOCATION, "date", DATE_1, "cache-control", "private"],
    size: 222,
  }, {
    block: blocks[2],
    fields: RESPONSE_3,
    table: ["set-cookie", COOKIE, "content-encoding", "gzip", "date", DATE_2],
    size: 215,
  }];
}

const C5 = [
  `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
   2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
   6c65 2e63 6f6d`,
  "4803 3330 37c1 c0bf",
  `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
   54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
   5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
];
const C6 = [
  `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
   2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
  "4883 640e ffc1 c0bf",
  `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
   77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
   9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
];

Deno.test("HPACK C.2: single representations", () => {
  decodeSeries(4096, [{
    block: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
    fields: ["custom-key", "custom-header"],
    table: ["custom-key", "custom-header"],
    size: 55,
  }]);
  decodeSeries(4096, [{
    block: "040c 2f73 616d 706c 652f 7061 7468",
    fields: [":path", "/sample/path"],
    table: [],
    size: 0,
  }]);
  decodeSeries(4096, [{
    block: "1008 7061 7373 776f 7264 0673 6563 7265 74",
    fields: ["password", "secret"],
    table: [],
    size: 0,
  }]);
  decodeSeries(4096, [{ block: "82", fields: [":method", "GET"], table: [], size: 0 }]);
});

Deno.test("HPACK C.3 and C.4: requests without and with Huffman", () => {
  decodeSeries(4096, requestSteps(C3));
  decodeSeries(4096, requestSteps(C4));
});

Deno.test("HPACK C.5 and C.6: responses with evictions (table size 256)", () => {
  decodeSeries(256, responseSteps(C5));
  decodeSeries(256, responseSteps(C6));
});

Deno.test("HPACK encoder reproduces C.3 and C.4 byte for byte", () => {
  for (const [blocks, huffman] of [[C3, false], [C4, true]] as const) {
    const encoder = new HpackEncoder(4096, { huffman });
    for (const [i, fields] of [REQUEST_1, REQUEST_2, REQUEST_3].entries()) {
      encoder.begin();
      for (let f = 0; f < fields.length; f += 2) encoder.field(fields[f], fields[f + 1]);
      assert.deepEqual(encoder.finish(), hex(blocks[i]), `block ${i + 1}`);
    }
  }
});

Deno.test("HPACK encoder round-trips through the decoder, with evictions and size updates", () => {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  for (let i = 0; i < 500; i++) {
    if (i === 200) encoder.setMaxTableSize(100);
    if (i === 300) encoder.setMaxTableSize(4096);
    const fields = [
      ":status",
      String(200 + (i % 7)),
      "x-request",
      `value-${i % 37}`,
      "date",
      `now ${i}`,
      "set-cookie",
      "a=b",
      "x-bytes",
      String.fromCharCode(i % 256, 255, 0x7f),
    ];
    encoder.begin();
    for (let f = 0; f < fields.length; f += 2) encoder.field(fields[f], fields[f + 1]);
    assert.deepEqual(decoder.decode(encoder.finish()), fields, `block ${i}`);
  }
});

Deno.test("Huffman: every byte value round-trips, lengths agree", () => {
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const coded = new Uint8Array(huffmanLength(all));
  assert.equal(huffmanEncode(all, coded, 0), coded.length);
  const out = new Uint8Array(coded.length * 2);
  const n = huffmanDecode(coded, 0, coded.length, out);
  assert.equal(String.fromCharCode(...out.subarray(0, n)), all);
});

Deno.test("Huffman: codes that end inside a long code's second table at the end of input", () => {
  // Go's x/net/http2/hpack encodings ("u!": 6 bits + 10 bits; "u7%!"), which once failed here.
  const out = new Uint8Array(16);
  for (const [text, coded] of [["u!", "b7f8"], ["u7%!", "b5d57f8f"], ["%!", "57f8"]]) {
    const bytes = hex(coded);
    const n = huffmanDecode(bytes, 0, bytes.length, out);
    assert.equal(String.fromCharCode(...out.subarray(0, n)), text, text);
  }
});

Deno.test("Huffman: 20,000 random strings round-trip (the encoder matches Go's byte for byte)", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out = new Uint8Array(512);
  for (let i = 0; i < 20_000; i++) {
    const length = 1 + Math.floor(random() * 40);
    const top = i % 2 === 0 ? 95 : 256; // printable, then any byte
    const text = String.fromCharCode(
      ...Array.from({ length }, () => (top === 95 ? 32 : 0) + Math.floor(random() * top)),
    );
    const coded = new Uint8Array(huffmanLength(text));
    huffmanEncode(text, coded, 0);
    const n = huffmanDecode(coded, 0, coded.length, out);
    assert.equal(String.fromCharCode(...out.subarray(0, n)), text, JSON.stringify(text));
  }
});

Deno.test("Huffman: invalid padding and EOS are errors (RFC 7541 §5.2)", () => {
  const out = new Uint8Array(64);
  // "a" is 00011 (5 bits): padded with 111 is valid, with 000 or 101 is not.
  assert.equal(huffmanDecode(Uint8Array.of(0x1f), 0, 1, out), 1);
  assert.equal(huffmanDecode(Uint8Array.of(0x18), 0, 1, out), -1);
  assert.equal(huffmanDecode(Uint8Array.of(0x1d), 0, 1, out), -1);
  // Padding of 8 bits or more (a whole 0xff byte after "a" ... padded).
  assert.equal(huffmanDecode(Uint8Array.of(0x1f, 0xff), 0, 2, out), -1);
  // EOS (30 ones) inside the string.
  assert.equal(huffmanDecode(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0, 4, out), -1);
});

Deno.test("HPACK decoder errors: bad index, late size update, oversize update, truncation", () => {
  const cases = [
    "80", // index 0
    "be", // index 62 with an empty table
    "82 3f e1 1f", // size update after a field
    "3f e2 1f", // size update to 4097 > 4096
    "41 0f 77 77", // string longer than its block
    "ff ff ff ff ff ff 0f", // integer too large
    "41 81 00", // invalid Huffman (zero padding)
  ];
  for (const block of cases) {
    assert.throws(() => new HpackDecoder().decode(hex(block)), HpackError, block);
  }
  // A size update at the start is fine, and can shrink the table to 0.
  assert.deepEqual(new HpackDecoder().decode(hex("20 82")), [":method", "GET"]);
});

Deno.test("HPACK bomb: a list over the limit is dropped, memory stays bounded", () => {
  const decoder = new HpackDecoder(4096, 16 * 1024);
  // One 4000-byte entry, then 10,000 one-byte references to it: 40 MB if materialized.
  const value = "x".repeat(4000 - 32 - 1);
  const literal = new Uint8Array(6 + value.length);
  const rest = value.length - 127; // the length's continuation bytes (RFC 7541 §5.1)
  literal.set([0x40, 0x01, 0x61, 0x7f, 0x80 | (rest & 0x7f), rest >> 7]);
  literal.set(new TextEncoder().encode(value), 6);
  assert.deepEqual(decoder.decode(literal), ["a", value]);
  const bomb = new Uint8Array(10_000).fill(0x80 | 62);
  assert.equal(decoder.decode(bomb), null);
  // The table is intact and the next block decodes.
  assert.deepEqual(decoder.decode(Uint8Array.of(0x80 | 62)), ["a", value]);
});
