/**
 * The HTTP semantics rules of RFC 9113 §8 for received field lists: pseudo-header fields
 * (which, where, how many), lowercase token names, values without controls,
 * connection-specific fields, `te` other than `trailers`, and content-length. A list that
 * breaks them is malformed: a stream error of type PROTOCOL_ERROR.
 *
 * @module
 */

/** A field name: lowercase token characters only (RFC 9113 §8.2.1, RFC 9110 §5.1). */
const NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Controls other than HTAB are never valid in a value (NUL, CR and LF above all). */
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
/** Connection-specific fields (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Whether `name` and `value` may be sent as a field (lowercase token name, no controls).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isValidField("content-type", "text/plain"), true);
 * assert.equal(isValidField("Content-Type", "text/plain"), false);
 * assert.equal(isValidField("x-a", "b\r\nc: d"), false);
 * ```
 */
export function isValidField(name: string, value: string): boolean {
  return NAME.test(name) && !BAD_VALUE.test(value);
}

/**
 * Connection-specific field names, which HTTP/2 forbids (RFC 9113 §8.2.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isConnectionSpecific("keep-alive"), true);
 * assert.equal(isConnectionSpecific("te"), false);
 * ```
 */
export function isConnectionSpecific(name: string): boolean {
  return CONNECTION_SPECIFIC.has(name);
}

/**
 * A request's pseudo-header fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head = checkRequest([":method", "GET", ":scheme", "http", ":path", "/"]) as RequestPseudo;
 * assert.equal(head.path, "/");
 * ```
 */
export interface RequestPseudo {
  method: string;
  scheme: string;
  path: string;
  authority: string;
}

/** Checks a regular field; returns a problem or undefined. */
function checkField(name: string, value: string): string | undefined {
  if (!NAME.test(name)) return `invalid field name ${JSON.stringify(name.slice(0, 40))}`;
  if (BAD_VALUE.test(value)) return `control character in ${name}`;
  if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
  if (name === "te" && value !== "trailers") return "te other than trailers";
  return undefined;
}

/**
 * Checks a request's field list (RFC 9113 §8.3.1); returns its pseudo-headers, or a
 * description of why it is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(typeof checkRequest([":method", "GET", ":scheme", "http", ":path", "/"]), "object");
 * assert.equal(checkRequest([":method", "GET", ":path", "/"]), "missing :scheme");
 * assert.equal(checkRequest([":method", "GET", ":scheme", "http", ":path", "/", "Host", "x"]),
 *   'invalid field name "Host"');
 * ```
 */
export function checkRequest(fields: readonly string[]): RequestPseudo | string {
  const pseudo = pseudoHeaders(fields, REQUEST_PSEUDO);
  if (typeof pseudo === "string") return pseudo;
  const { ":method": method, ":scheme": scheme, ":path": path, ":authority": authority } = pseudo;
  if (method === undefined || method === "") return "missing :method";
  if (method === "CONNECT") {
    if (scheme !== undefined || path !== undefined) return "CONNECT with :scheme or :path";
    if (!authority) return "CONNECT without :authority";
    return { method, scheme: "", path: "", authority };
  }
  if (scheme === undefined) return "missing :scheme";
  if (path === undefined || path === "") return "missing :path";
  return { method, scheme, path, authority: authority ?? "" };
}

const REQUEST_PSEUDO = [":method", ":scheme", ":path", ":authority"];
const RESPONSE_PSEUDO = [":status"];

/**
 * The pseudo-header fields of a list, by name: only `allowed` names, each at most once,
 * all before the first regular field; regular fields are checked on the way. Or a problem.
 */
function pseudoHeaders(
  fields: readonly string[],
  allowed: readonly string[],
): Partial<Record<string, string>> | string {
  const pseudo: Partial<Record<string, string>> = {};
  let regular = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name.charCodeAt(0) !== 0x3a) {
      regular = true;
      const problem = checkField(name, value);
      if (problem) return problem;
      continue;
    }
    if (regular) return `pseudo-header ${name} after a regular field`;
    if (!allowed.includes(name)) return `unexpected pseudo-header ${name.slice(0, 40)}`;
    if (pseudo[name] !== undefined) return `duplicate ${name}`;
    if (BAD_VALUE.test(value)) return `control character in ${name}`;
    pseudo[name] = value;
  }
  return pseudo;
}

/**
 * Checks a response's field list; returns its status or why it is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(checkResponse([":status", "200", "content-type", "application/grpc"]), 200);
 * assert.equal(checkResponse(["content-type", "text/plain"]), "missing :status");
 * ```
 */
export function checkResponse(fields: readonly string[]): number | string {
  const pseudo = pseudoHeaders(fields, RESPONSE_PSEUDO);
  if (typeof pseudo === "string") return pseudo;
  const status = pseudo[":status"];
  if (status === undefined) return "missing :status";
  if (!/^[1-5]\d\d$/.test(status)) return "invalid :status";
  return Number(status);
}

/**
 * Checks a trailer section: regular fields only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(checkTrailers(["grpc-status", "0"]), undefined);
 * assert.equal(checkTrailers([":status", "200"]), "pseudo-header in trailers");
 * ```
 */
export function checkTrailers(fields: readonly string[]): string | undefined {
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i].charCodeAt(0) === 0x3a) return "pseudo-header in trailers";
    const problem = checkField(fields[i], fields[i + 1]);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * The value of field `name` in a list: repeated fields joined with ", " (cookies with "; ",
 * RFC 9113 §8.2.3); undefined when absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fields = ["accept", "a", "cookie", "x=1", "accept", "b", "cookie", "y=2"];
 * assert.equal(fieldValue(fields, "accept"), "a, b");
 * assert.equal(fieldValue(fields, "cookie"), "x=1; y=2");
 * assert.equal(fieldValue(fields, "host"), undefined);
 * ```
 */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== name) continue;
    if (value === undefined) value = fields[i + 1];
    else value += (name === "cookie" ? "; " : ", ") + fields[i + 1];
  }
  return value;
}

/**
 * The declared content-length: -1 when absent, -2 when invalid or contradictory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(declaredLength(["content-length", "12"]), 12);
 * assert.equal(declaredLength(["content-length", "1", "content-length", "2"]), -2);
 * assert.equal(declaredLength([]), -1);
 * ```
 */
export function declaredLength(fields: readonly string[]): number {
  let length = -1;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== "content-length") continue;
    const value = fields[i + 1];
    if (!/^\d{1,15}$/.test(value)) return -2;
    const parsed = Number(value);
    if (length >= 0 && parsed !== length) return -2;
    length = parsed;
  }
  return length;
}
