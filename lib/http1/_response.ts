/**
 * HTTP/1.1 response heads. Header names and values come from our own code, never from a
 * request; this module still refuses to write any name that is not a token or any value
 * with a control character (CR, LF, NUL...), answering 500 instead, so no bug upstream can
 * turn into header injection or a forged second response.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import type { Reply } from "../net/mod.ts";
import { type ByteSlab, writeAscii } from "../bytes.ts";

const SAFE_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;
const encoder = new TextEncoder();

/** `HTTP/1.1 100 Continue`, for `Expect: 100-continue`. */
export const CONTINUE: Uint8Array = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

/**
 * How to frame one response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const framing: ResponseFraming = { close: false, headOnly: true };
 * const bytes = encodeResponse({ status: 200, headers: {}, body: new Uint8Array(3) }, framing);
 * assert.match(new TextDecoder().decode(bytes), /content-length: 3\r\n\r\n$/);
 * ```
 */
export interface ResponseFraming {
  /** Say `connection: close`. */
  close: boolean;
  /** A response to HEAD: the head says the body's length, the body is left out. */
  headOnly: boolean;
}

/** True when every header of `reply` is safe to write. */
function safe(reply: Reply): boolean {
  if (!Number.isInteger(reply.status) || reply.status < 200 || reply.status > 599) return false;
  for (const name in reply.headers) {
    if (!SAFE_NAME.test(name) || !SAFE_VALUE.test(reply.headers[name])) return false;
  }
  return true;
}

/**
 * The bytes of `reply` (head, then body unless `headOnly`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeResponse(
 *   { status: 404, headers: { "content-type": "text/plain" }, body: new TextEncoder().encode("no") },
 *   { close: true, headOnly: false },
 * );
 * assert.equal(
 *   new TextDecoder().decode(bytes),
 *   "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nno",
 * );
 * ```
 */
export function encodeResponse(
  reply: Reply,
  framing: ResponseFraming,
  slab?: ByteSlab,
): Uint8Array {
  if (!safe(reply)) {
    return errorResponse(500, "internal error: refused to write an unsafe response header");
  }
  let head = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? "Status"}\r\n`;
  for (const name in reply.headers) head += `${name}: ${reply.headers[name]}\r\n`;
  head += `content-length: ${reply.body.length}\r\n`;
  if (framing.close) head += "connection: close\r\n";
  head += "\r\n";
  const bodyLength = framing.headOnly ? 0 : reply.body.length;
  const size = head.length + bodyLength;
  const bytes = slab ? slab.alloc(size) : new Uint8Array(size);
  writeAscii(head, bytes, 0);
  if (bodyLength > 0) bytes.set(reply.body, head.length);
  return bytes;
}

/**
 * A connection-level error: a fixed JSON body (`message` is ours, JSON-escaped) and
 * `connection: close`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(new TextDecoder().decode(errorResponse(408, "too slow")), /^HTTP\/1\.1 408 Request Timeout\r\n/);
 * ```
 */
export function errorResponse(status: number, message: string): Uint8Array {
  const body = encoder.encode(JSON.stringify({
    code: status >= 500 ? "internal" : status === 408 ? "deadline_exceeded" : "invalid_argument",
    message,
  }));
  const head = encoder.encode(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
