import assert from "node:assert/strict";
import { findHeadEnd, HttpError, parseHead, resumeHeadSearch, trimOws } from "./_parse.ts";
import { ChunkedDecoder, InputBuffer } from "./_body.ts";
import { encodeResponse } from "./_response.ts";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
  return undefined;
};

Deno.test("parseHead: a valid head", () => {
  const head = parseHead(
    "POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length:\t3 \r\nX-A: 1\r\nx-a: 2",
  );
  assert.equal(head.method, "POST");
  assert.equal(head.target, "/a?b");
  assert.deepEqual(head.framing, { kind: "length", length: 3 });
  assert.equal(head.headers.get("x-a"), "1, 2");
  assert.equal(head.keepAlive, true);
  assert.deepEqual(
    parseHead("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000007").framing,
    { kind: "length", length: 7 },
  );
});

Deno.test("parseHead: keep-alive rules of 1.0 and 1.1", () => {
  assert.equal(parseHead("GET / HTTP/1.0").keepAlive, false);
  assert.equal(parseHead("GET / HTTP/1.0\r\nConnection: Keep-Alive").keepAlive, true);
  assert.equal(parseHead("GET / HTTP/1.1\r\nHost: a\r\nConnection: x, close").keepAlive, false);
});

Deno.test("parseHead: every vector is refused with 400 (505 for other versions, 0 for another protocol)", () => {
  const cases: [string, number][] = [
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\rb", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\nb", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\0b", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0b1", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\x0c", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \xa01", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\t", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\xa0", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1", 400],
    ["GET / HTTP/1.0\r\nTransfer-Encoding: chunked", 400],
    ["GET /\0 HTTP/1.1\r\nHost: a", 400],
    ["GET / HTTP/1.1", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b", 400],
    ["GET / HTTP/1.1\r\nHost : a", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n X: folded", 400],
    ["GET  / HTTP/1.1\r\nHost: a", 400],
    ["GET /\xff HTTP/1.1\r\nHost: a", 400],
    ["GET / HTTP/2.0\r\nHost: a", 505],
    ["INVALID CONNECTION PREFACE", 0], // not HTTP at all: closed without an answer
    ["GET / SIP/2.0", 0],
    ["NONSENSE", 400],
    ["GET /", 400],
    // Methods llhttp does not know (it matches them case-sensitively).
    ["post / HTTP/1.1\r\nHost: a", 400],
    ["OST / HTTP/1.1\r\nHost: a", 400],
    ["FOO / HTTP/1.1\r\nHost: a", 400],
  ];
  for (const [head, expected] of cases) {
    assert.equal(status(() => parseHead(head)), expected, JSON.stringify(head));
  }
});

Deno.test("trimOws strips only SP and HTAB", () => {
  assert.equal(trimOws(" \t1\t "), "1");
  assert.equal(trimOws("\x0b1\xa0"), "\x0b1\xa0");
});

Deno.test("findHeadEnd resumes where it stopped (linear scan)", () => {
  const text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  let scanned = 0;
  let found = -1;
  for (let n = 1; n <= text.length && found < 0; n++) {
    const view = bytes(text.slice(0, n));
    found = findHeadEnd(view, scanned);
    if (found < 0) scanned = resumeHeadSearch(view.length);
  }
  assert.equal(found, text.length - 4);
});

function decodeAll(wire: string, split = 1): { body: string; done: boolean; calls: number } {
  const input = new InputBuffer();
  const decoder = new ChunkedDecoder();
  let body = "";
  let calls = 0;
  let done = false;
  for (let i = 0; i < wire.length && !done; i += split) {
    input.append(bytes(wire.slice(i, i + split)));
    done = decoder.decode(input, (b) => {
      calls++;
      body += String.fromCharCode(...b);
    });
  }
  return { body, done, calls };
}

Deno.test("ChunkedDecoder: sizes, extensions, trailers, any split", () => {
  const wire = '3;a=b;c=\r\nabc\r\n00A;x="q\\"y";z\r\n0123456789\r\n0\r\nT: v\r\n\r\n';
  for (const split of [1, 2, 7, wire.length]) {
    const { body, done } = decodeAll(wire, split);
    assert.equal(done, true);
    assert.equal(body, "abc0123456789");
  }
});

Deno.test("ChunkedDecoder: 1-byte chunks are delivered coalesced, one array per call", () => {
  const wire = "1\r\nx\r\n".repeat(1000) + "0\r\n\r\n";
  const { body, calls } = decodeAll(wire, wire.length);
  assert.equal(body.length, 1000);
  assert.equal(calls, 1);
});

Deno.test("ChunkedDecoder: every malformed line is refused", () => {
  for (
    const wire of [
      " 1\r\nx\r\n0\r\n\r\n",
      "1 \r\nx\r\n0\r\n\r\n",
      "1\t\r\nx\r\n0\r\n\r\n",
      "1;a\nb\r\nx\r\n0\r\n\r\n",
      "1\nx\r\n0\r\n\r\n",
      "1\r\nxy\r\n0\r\n\r\n",
      "g\r\n",
      "1;\r\nx\r\n",
      "0\r\nT: a\x00b\r\n\r\n",
      "0\r\n\n",
    ]
  ) {
    assert.equal(status(() => decodeAll(wire)), 400, JSON.stringify(wire));
  }
});

Deno.test("InputBuffer: appends after adoption never write into the adopted chunk", () => {
  const input = new InputBuffer();
  const first = bytes("abc");
  input.append(first);
  input.append(bytes("def"));
  assert.equal(String.fromCharCode(...input.view()), "abcdef");
  assert.equal(String.fromCharCode(...first), "abc");
  const taken = input.take(4);
  input.append(bytes("XYZW"));
  assert.equal(String.fromCharCode(...taken), "abcd");
});

Deno.test("encodeResponse refuses unsafe header values with a 500", () => {
  const evil = encodeResponse(
    { status: 200, headers: { "content-type": "a\r\nx-injected: 1" }, body: new Uint8Array(0) },
    { close: false, headOnly: false },
  );
  const text = String.fromCharCode(...evil);
  assert.match(text, /^HTTP\/1\.1 500 /);
  assert.doesNotMatch(text, /x-injected/);
});
