/**
 * Strict HTTP/1.1 request-head parsing (RFC 9112), rejecting what Node's llhttp or hyper
 * reject: controls (CR, LF, NUL, 0x01...) in field values or the target, whitespace other
 * than SP/HTAB as OWS, obs-fold, missing or duplicate `Host`, duplicate or malformed
 * `Content-Length`, `Transfer-Encoding` with `Content-Length`, on HTTP/1.0, or other than
 * `chunked`. The end of a head is found incrementally ({@linkcode findHeadEnd}), so a
 * head trickled byte by byte is scanned once, not once per read.
 *
 * @module
 */

/**
 * A request the connection answers with `status` and then closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => parseHead("GET / HTTP/2.0"), (e) => e instanceof HttpError && e.status === 505);
 * ```
 */
export class HttpError extends Error {
  /**
   * `status` is one of ours (400, 408, 431, 505, ...), or 0 for "close without an answer";
   * `message` never reaches a head.
   */
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * How the request body is delimited.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const framing: BodyFraming = parseHead("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2").framing;
 * assert.deepEqual(framing, { kind: "length", length: 2 });
 * ```
 */
export type BodyFraming = { kind: "length"; length: number } | { kind: "chunked" };

/**
 * A parsed, validated request head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head: ParsedHead = parseHead("GET /a HTTP/1.1\r\nHost: x");
 * assert.equal(head.headers.get("host"), "x");
 * assert.equal(head.keepAlive, true);
 * ```
 */
export interface ParsedHead {
  method: string;
  /** The request target as sent (visible ASCII only). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Field values by lowercase name; repeated fields joined with ", ". */
  headers: Map<string, string>;
  framing: BodyFraming;
  keepAlive: boolean;
  expectContinue: boolean;
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
/**
 * The request methods llhttp (Node's parser) knows; it refuses any other, and so do we
 * (SPEC "Hostile clients": whatever llhttp rejects).
 */
const METHODS = new Set(
  ("DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH " +
    "SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY " +
    "SUBSCRIBE UNSUBSCRIBE PATCH PURGE MKCALENDAR LINK UNLINK SOURCE QUERY").split(" "),
);
const ANY_VERSION = /^[^ ]+ [^ ]+ HTTP\/(\d)\.(\d)$/;
const OTHER_PROTOCOL = /^[!-~]+ [!-~]+ (?!HTTP\/)[!-~]+$/;
/** A field name (token) followed by ':'. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Index of the CR of the CRLFCRLF ending a head in `bytes`, searching from `from` (the
 * caller passes where the previous search stopped, so no byte is scanned twice), or -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n");
 * assert.equal(findHeadEnd(bytes, 0), 14);
 * ```
 */
export function findHeadEnd(bytes: Uint8Array, from: number): number {
  const last = bytes.length - 3;
  for (let i = Math.max(0, from); i < last; i++) {
    if (bytes[i + 3] === 10 && bytes[i + 2] === 13 && bytes[i + 1] === 10 && bytes[i] === 13) {
      return i;
    }
  }
  return -1;
}

/**
 * Where the next {@linkcode findHeadEnd} may resume after a miss over `length` bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(resumeHeadSearch(10), 7);
 * ```
 */
export function resumeHeadSearch(length: number): number {
  return Math.max(0, length - 3);
}

/**
 * Bytes as a latin1 string (1 char per byte).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(latin1(new Uint8Array([0x47, 0xe9])), "G\u00e9");
 * ```
 */
export function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return text;
}

/**
 * Strips SP and HTAB (the only OWS) from both ends; `trim()` would also strip VT, FF, NBSP.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(trimOws(" \tgzip\t"), "gzip");
 * assert.equal(trimOws("\u00a0x"), "\u00a0x");
 * ```
 */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Any byte a head may not contain: controls other than HTAB (NUL, 0x01, VT, FF, DEL...),
 * and CR or LF other than as a CRLF pair. One scan of the whole head.
 */
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;

/**
 * Parses the head `text` (without its final CRLFCRLF) or throws {@linkcode HttpError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head = parseHead("POST /greet.GreetService/Greet HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked");
 * assert.equal(head.method, "POST");
 * assert.deepEqual(head.framing, { kind: "chunked" });
 * ```
 */
export function parseHead(text: string): ParsedHead {
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = text.length;
  const requestLine = text.slice(0, lineEnd);
  const match = REQUEST_LINE.exec(requestLine);
  if (!match) {
    const version = ANY_VERSION.exec(requestLine);
    if (version && version[1] !== "1" && /^[!-~]+ [!-~]+ /.test(requestLine)) {
      throw new HttpError(505, "only HTTP/1.x is served here");
    }
    // Three tokens whose version is not HTTP at all (h2spec's invalid HTTP/2 preface
    // "INVALID CONNECTION PREFACE"): another protocol, to which an HTTP/1.x answer means
    // nothing; the connection is just closed (status 0).
    if (OTHER_PROTOCOL.test(requestLine)) throw new HttpError(0, "not an HTTP request");
    throw new HttpError(400, "malformed request line");
  }
  if (!METHODS.has(match[1])) throw new HttpError(400, "unknown request method");
  if (FORBIDDEN.test(text)) throw new HttpError(400, "invalid character in the request head");
  const headers = new Map<string, string>();
  let hosts = 0;
  let contentLengths = 0;
  let position = lineEnd + 2;
  while (position < text.length) {
    let next = text.indexOf("\r\n", position);
    if (next < 0) next = text.length;
    const colon = text.indexOf(":", position);
    if (colon <= position || colon >= next) throw new HttpError(400, "malformed header line");
    const name = text.slice(position, colon);
    if (!FIELD_NAME.test(name)) throw new HttpError(400, "malformed header name");
    const raw = text.slice(colon + 1, next);
    position = next + 2;
    const lower = name.toLowerCase();
    if (lower === "host") hosts++;
    else if (lower === "content-length" || lower === "transfer-encoding") {
      if (lower === "content-length") contentLengths++;
      // llhttp allows only SP after a Content-Length or Transfer-Encoding value.
      if (/\t[ \t]*$/.test(raw)) throw new HttpError(400, "whitespace after a framing value");
    }
    const value = trimOws(raw);
    const previous = headers.get(lower);
    headers.set(lower, previous === undefined ? value : `${previous}, ${value}`);
  }
  const minor = match[3] === "0" ? 0 : 1;
  if (hosts > 1) throw new HttpError(400, "more than one Host header");
  if (hosts === 0 && minor === 1) throw new HttpError(400, "missing Host header");
  if (contentLengths > 1) throw new HttpError(400, "more than one Content-Length header");
  const connection = (headers.get("connection") ?? "").toLowerCase();
  const tokens = connection === "" ? [] : connection.split(",").map(trimOws);
  return {
    method: match[1],
    target: match[2],
    minor,
    headers,
    framing: framingOf(headers, minor),
    keepAlive: minor === 0 ? tokens.includes("keep-alive") : !tokens.includes("close"),
    expectContinue: (headers.get("expect") ?? "").toLowerCase() === "100-continue",
  };
}

function framingOf(headers: Map<string, string>, minor: number): BodyFraming {
  const transferEncoding = headers.get("transfer-encoding");
  const contentLength = headers.get("content-length");
  if (transferEncoding !== undefined) {
    if (minor === 0) throw new HttpError(400, "Transfer-Encoding on HTTP/1.0");
    if (contentLength !== undefined) {
      throw new HttpError(400, "both Transfer-Encoding and Content-Length");
    }
    if (transferEncoding.toLowerCase() !== "chunked") {
      throw new HttpError(400, "unsupported Transfer-Encoding");
    }
    return { kind: "chunked" };
  }
  if (contentLength === undefined) return { kind: "length", length: 0 };
  // Leading zeros are allowed (as llhttp does); the value must fit 15 digits.
  if (!/^0*\d{1,15}$/.test(contentLength)) throw new HttpError(400, "invalid Content-Length");
  return { kind: "length", length: Number(contentLength) };
}
