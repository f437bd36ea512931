/**
 * Closed-loop load generators for bench/rpc_bench.ts: a fixed number of keep-alive
 * requests in flight for a fixed time, returning completed requests per second.
 *
 * Both speak the wire protocol directly over `Deno.connect` with pre-encoded requests and
 * minimal response readers, so the generator costs far less CPU than the servers it
 * measures (with `fetch` as the generator, the client was the bottleneck: bare
 * `Deno.serve` looked 4× slower on HTTP/1.1 and 3× slower on h2c than it is).
 *
 * @module
 */
import { concat } from "../lib/bytes.ts";

/** How hard and how long to drive one target. */
export interface LoadShape {
  /** Requests in flight (HTTP/1.1: one per connection). */
  concurrency: number;
  /** Measuring time in seconds. */
  seconds: number;
}

/** What one load run achieved. */
export interface LoadResult {
  /** Completed requests (all answered 200). */
  requests: number;
  /** Wall-clock seconds the run took. */
  seconds: number;
}

const encoder = new TextEncoder();
const CRLFCRLF = [13, 10, 13, 10];

/** Index of `\r\n\r\n` in `bytes[from, to)`, or -1. */
function headEnd(bytes: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 3 < to; i++) {
    if (
      bytes[i] === CRLFCRLF[0] && bytes[i + 1] === CRLFCRLF[1] &&
      bytes[i + 2] === CRLFCRLF[2] && bytes[i + 3] === CRLFCRLF[3]
    ) return i;
  }
  return -1;
}

/** `content-length` of a response head (ASCII), or throws. */
function contentLengthOf(head: string): number {
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!match) throw new Error(`response without content-length: ${JSON.stringify(head)}`);
  return Number(match[1]);
}

/** One keep-alive connection doing request/response round trips until `end`. */
async function http1Connection(
  port: number,
  request: Uint8Array,
  end: number,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let buffer = new Uint8Array(16 * 1024);
  let filled = 0;
  let completed = 0;
  const decoder = new TextDecoder();
  const readMore = async () => {
    if (filled === buffer.length) {
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) throw new Error(`server on port ${port} closed the connection`);
    filled += n;
  };
  try {
    while (performance.now() < end) {
      let written = 0;
      while (written < request.length) written += await conn.write(request.subarray(written));
      let at = -1;
      while ((at = headEnd(buffer, 0, filled)) < 0) await readMore();
      const head = decoder.decode(buffer.subarray(0, at + 2));
      if (!head.startsWith("HTTP/1.1 200 ")) {
        throw new Error(`port ${port} answered ${JSON.stringify(head.split("\r\n")[0])}`);
      }
      const total = at + 4 + contentLengthOf(head);
      while (filled < total) await readMore();
      buffer.copyWithin(0, total, filled);
      filled -= total;
      completed++;
    }
  } finally {
    conn.close();
  }
  return completed;
}

/**
 * Drives `POST path` with a JSON `body` over raw HTTP/1.1 keep-alive connections.
 * Rejects on any non-200 answer or dropped connection.
 */
export async function loadHttp1(
  port: number,
  path: string,
  body: string,
  shape: LoadShape,
): Promise<LoadResult> {
  const bodyBytes = encoder.encode(body);
  const head = `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n` +
    `content-type: application/json\r\ncontent-length: ${bodyBytes.length}\r\n\r\n`;
  const request = new Uint8Array([...encoder.encode(head), ...bodyBytes]);
  const start = performance.now();
  const end = start + shape.seconds * 1000;
  const counts = await Promise.all(
    Array.from({ length: shape.concurrency }, () => http1Connection(port, request, end)),
  );
  const seconds = (performance.now() - start) / 1000;
  return { requests: counts.reduce((a, b) => a + b, 0), seconds };
}

// HTTP/2 frame types and flags used by the h2c generator (RFC 9113).
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const H2_PREFACE = encoder.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** Our receive window: large, so small responses never wait for WINDOW_UPDATE. */
const RECEIVE_WINDOW = 1 << 30;
/** HPACK static-table entry `:status: 200`, which servers send as one indexed byte. */
const STATUS_200 = 0x88;

function frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (payload.length << 8) | type);
  out[4] = flags;
  view.setUint32(5, stream);
  out.set(payload, 9);
  return out;
}

/** HPACK literal without indexing, name from the static table (no Huffman). */
function literal(nameIndex: number, value: string): number[] {
  const bytes = [...encoder.encode(value)];
  if (bytes.length > 126) throw new Error("header value too long for this encoder");
  const name = nameIndex < 15 ? [nameIndex] : [15, nameIndex - 15];
  return [...name, bytes.length, ...bytes];
}

/** Request header block: POST, http, :path, :authority, content-type, content-length. */
function requestHeaderBlock(port: number, path: string, bodyLength: number): Uint8Array {
  return new Uint8Array([
    0x83, // :method POST
    0x86, // :scheme http
    ...literal(4, path),
    ...literal(1, `127.0.0.1:${port}`),
    ...literal(31, "application/json"),
    ...literal(28, String(bodyLength)),
  ]);
}

/** A load generator for one transport: `loadHttp1` or `loadH2c`, bound to a body. */
export type Drive = (port: number, shape: LoadShape) => Promise<LoadResult>;

/**
 * Drives `POST path` with a JSON `body` over one h2c (prior knowledge) connection with
 * `concurrency` streams in flight: a minimal hand-written HTTP/2 client (static HPACK
 * request headers, frame reader that only looks at frame types, flags and the `:status`
 * byte). Rejects on any non-200 status, stream reset or GOAWAY.
 */
export async function loadH2c(
  port: number,
  path: string,
  body: string,
  shape: LoadShape,
): Promise<LoadResult> {
  const start = performance.now();
  const end = start + shape.seconds * 1000;
  let completed = 0;
  // A graceful GOAWAY (the provider closes a session after a number of streams) ends one
  // connection; the load goes on over a new one, as a real client's would.
  do {
    completed += await h2cSession(port, path, body, shape.concurrency, end);
  } while (performance.now() < end);
  return { requests: completed, seconds: (performance.now() - start) / 1000 };
}

/**
 * One h2c connection keeping `concurrency` requests in flight until `end` (or until the
 * server's graceful GOAWAY); returns the requests completed on it.
 */
async function h2cSession(
  port: number,
  path: string,
  body: string,
  concurrency: number,
  end: number,
): Promise<number> {
  const bodyBytes = encoder.encode(body);
  const block = requestHeaderBlock(port, path, bodyBytes.length);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let nextStream = 1;
  let sendWindow = 65535; // connection-level, raised by the server's WINDOW_UPDATEs
  const open = new Set<number>();
  let draining = false;
  const request = (): Uint8Array => {
    if (sendWindow < bodyBytes.length) {
      throw new Error(`port ${port}: server did not open its HTTP/2 flow-control window`);
    }
    sendWindow -= bodyBytes.length;
    const stream = nextStream;
    nextStream += 2;
    open.add(stream);
    return concat([
      frame(HEADERS, END_HEADERS, stream, block),
      frame(DATA, END_STREAM, stream, bodyBytes),
    ]);
  };
  const settings = new Uint8Array(12);
  new DataView(settings.buffer).setUint16(0, 0x2); // ENABLE_PUSH = 0
  new DataView(settings.buffer).setUint16(6, 0x4); // INITIAL_WINDOW_SIZE
  new DataView(settings.buffer).setUint32(8, RECEIVE_WINDOW);
  const increment = new Uint8Array(4);
  new DataView(increment.buffer).setUint32(0, RECEIVE_WINDOW - 65535);

  let completed = 0;
  let received = 0; // DATA payload bytes since our last connection WINDOW_UPDATE
  const statusSeen = new Set<number>();
  let buffer = new Uint8Array(64 * 1024);
  let filled = 0;
  const writeAll = async (bytes: Uint8Array) => {
    let written = 0;
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
  };
  try {
    const first: Uint8Array[] = [
      H2_PREFACE,
      frame(SETTINGS, 0, 0, settings),
      frame(WINDOW_UPDATE, 0, 0, increment),
    ];
    while (open.size < concurrency) first.push(request());
    await writeAll(concat(first));
    while (open.size > 0) {
      if (filled === buffer.length) {
        const bigger = new Uint8Array(buffer.length * 2);
        bigger.set(buffer);
        buffer = bigger;
      }
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) throw new Error(`server on port ${port} closed the connection`);
      filled += n;
      const out: Uint8Array[] = [];
      const view = new DataView(buffer.buffer);
      let at = 0;
      while (filled - at >= 9) {
        const length = view.getUint32(at) >>> 8;
        if (filled - at < 9 + length) break;
        const type = buffer[at + 3];
        const flags = buffer[at + 4];
        const stream = view.getUint32(at + 5) & 0x7fffffff;
        const payload = at + 9;
        let ended = false;
        if (type === HEADERS) {
          if (!statusSeen.has(stream)) {
            const block = payload + (flags & PADDED ? 1 : 0) + (flags & PRIORITY ? 5 : 0);
            if (buffer[block] !== STATUS_200) {
              throw new Error(`port ${port}: stream ${stream} answered without :status 200`);
            }
            statusSeen.add(stream);
          }
          ended = (flags & END_STREAM) !== 0;
        } else if (type === DATA) {
          received += length;
          ended = (flags & END_STREAM) !== 0;
        } else if (type === SETTINGS && !(flags & ACK)) {
          out.push(frame(SETTINGS, ACK, 0, new Uint8Array(0)));
        } else if (type === PING && !(flags & ACK)) {
          out.push(frame(PING, ACK, 0, buffer.slice(payload, payload + 8)));
        } else if (type === WINDOW_UPDATE && stream === 0) {
          sendWindow += view.getUint32(payload) & 0x7fffffff;
        } else if (type === RST_STREAM) {
          throw new Error(`port ${port}: stream ${stream} reset (${view.getUint32(payload)})`);
        } else if (type === GOAWAY) {
          const code = view.getUint32(payload + 4);
          if (code !== 0) throw new Error(`port ${port}: GOAWAY (${code})`);
          // Streams above the last one the server took will never be answered.
          const last = view.getUint32(payload) & 0x7fffffff;
          for (const id of open) if (id > last) open.delete(id);
          draining = true;
        }
        if (ended && open.delete(stream)) {
          statusSeen.delete(stream);
          completed++;
          if (!draining && performance.now() < end) out.push(request());
        }
        at += 9 + length;
      }
      buffer.copyWithin(0, at, filled);
      filled -= at;
      if (received > RECEIVE_WINDOW / 2) {
        const update = new Uint8Array(4);
        new DataView(update.buffer).setUint32(0, received);
        out.push(frame(WINDOW_UPDATE, 0, 0, update));
        received = 0;
      }
      if (out.length > 0 && !(draining && open.size === 0)) await writeAll(concat(out));
    }
  } finally {
    conn.close();
  }
  return completed;
}
