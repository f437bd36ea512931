/**
 * RPC error codes (Connect's names, as dubbo-go's Triple uses them) and their
 * mappings to HTTP statuses (dubbo-go `tripleCodeToHTTP`) and gRPC status numbers.
 *
 * @module
 */

/** The Connect error codes, in gRPC-number order (index + 1 = gRPC status). */
export const CODES = [
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
] as const;

/**
 * A Connect error code such as `unknown` or `deadline_exceeded`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const code: Code = "deadline_exceeded";
 * assert.equal(httpStatusOf(code), 408);
 * ```
 */
export type Code = typeof CODES[number];

/**
 * A failed call, carrying the Connect code both sides agree on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new RpcError("unknown", "random error");
 * assert.equal(error.code, "unknown");
 * assert.equal(error.message, "random error");
 * assert.equal(new RpcError("unknown", "x", { business: true }).metricCode, "biz_error");
 * ```
 */
export class RpcError extends Error {
  /** The Connect code (`unknown`, `unavailable`, ...). */
  readonly code: Code;
  /**
   * The application's handler failed (not the framework or the transport): what
   * dubbo-go's handlers return as plain errors and send as its code 17 (CodeBizError), and
   * what Java's services throw. Dubbo's metrics count it as `business_failed`.
   */
  readonly business: boolean;

  /** Creates an error; `message` is the peer-visible text. */
  constructor(code: Code, message: string, options?: ErrorOptions & { business?: boolean }) {
    super(message, options);
    this.name = "RpcError";
    this.code = code;
    this.business = options?.business ?? false;
  }

  /** The code the call metrics classify by: `biz_error` for a business failure. */
  get metricCode(): string {
    return this.business ? "biz_error" : this.code;
  }

  /** `"<code>: <message>"`, the way connect-go and dubbo-go print errors. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

const HTTP_STATUS: Record<Code, number> = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 408,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 404,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

/**
 * HTTP status for an error response of Triple/Connect unary (dubbo-go's table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(httpStatusOf("unavailable"), 503);
 * ```
 */
export function httpStatusOf(code: Code): number {
  return HTTP_STATUS[code];
}

/**
 * The gRPC status number of a code (`unknown` → 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(grpcStatusOf("unknown"), 2);
 * ```
 */
export function grpcStatusOf(code: Code): number {
  return CODES.indexOf(code) + 1;
}

/**
 * The code of a gRPC status number; `undefined` for 0 (OK) and unknown numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(codeOfGrpcStatus(14), "unavailable");
 * assert.equal(codeOfGrpcStatus(0), undefined);
 * ```
 */
export function codeOfGrpcStatus(status: number): Code | undefined {
  return CODES[status - 1];
}

/**
 * Whether a string is one of the Connect codes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isCode("internal"), true);
 * assert.equal(isCode("oops"), false);
 * ```
 */
export function isCode(value: unknown): value is Code {
  return typeof value === "string" && (CODES as readonly string[]).includes(value);
}

/**
 * The code a client infers from an HTTP status when the error body carries none
 * (the Connect table quoted by the Triple spec and dubbo-go's `tripleHTTPToCode`),
 * except 429, which is `resource_exhausted` here: every Dubbo peer sends
 * `resource_exhausted` as 429, and Connect's `unavailable` would make it retryable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(codeOfHttpStatus(429), "resource_exhausted");
 * assert.equal(codeOfHttpStatus(418), "unknown");
 * ```
 */
export function codeOfHttpStatus(status: number): Code {
  return CONNECT_HTTP_CODES[status] ?? "unknown";
}

/** HTTP statuses both tables read the same way. */
const SHARED_HTTP_CODES: Readonly<Record<number, Code>> = {
  401: "unauthenticated",
  403: "permission_denied",
  404: "unimplemented",
  502: "unavailable",
  503: "unavailable",
  504: "unavailable",
};

/** Connect's table, with 429 as `resource_exhausted` (see {@linkcode codeOfHttpStatus}). */
const CONNECT_HTTP_CODES: Readonly<Record<number, Code>> = {
  ...SHARED_HTTP_CODES,
  400: "invalid_argument",
  408: "deadline_exceeded",
  409: "aborted",
  412: "failed_precondition",
  413: "resource_exhausted",
  429: "resource_exhausted", // dubbo-go and Java send it as 429; it must not look retryable
  431: "resource_exhausted",
};

/** gRPC's table for a response without `grpc-status`. */
const GRPC_HTTP_CODES: Readonly<Record<number, Code>> = {
  ...SHARED_HTTP_CODES,
  400: "internal",
  429: "unavailable",
};

/**
 * dubbo-go's status code for a business error (`CodeBizError`), sent as `code_17` in a
 * Triple error body and as grpc-status 17; we read it as `unknown`, marked business.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(errorFromBody(500, '{"code":"code_17","message":"random error"}').business, true);
 * assert.equal(BIZ_ERROR, 17);
 * ```
 */
export const BIZ_ERROR = 17;

/**
 * The code named by an error body's `code` string: a Connect code, or dubbo-go's
 * `code_N` for non-canonical numbers (`code_17`, its business error, and any other
 * number outside 1..16 become `unknown`). `undefined` when `value` is no code at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(codeOfName("not_found"), "not_found");
 * assert.equal(codeOfName("code_17"), "unknown");
 * assert.equal(codeOfName(42), undefined);
 * ```
 */
export function codeOfName(value: unknown): Code | undefined {
  if (typeof value !== "string") return undefined;
  if (isCode(value)) return value;
  const numbered = /^code_(\d{1,10})$/.exec(value);
  if (!numbered) return undefined;
  return codeOfGrpcStatus(Number(numbered[1])) ?? "unknown";
}

/**
 * Reads a unary error body in any Dubbo peer's shape, keeping the peer's message:
 * `{"code":"<connect code>"}` (dubbo-go, Connect, us), `{"status":<gRPC number>}`
 * (dubbo-js, us), `{"status":"<HTTP status>"}` (Dubbo Java's HTTP/1 Triple). Without
 * a recognisable code the HTTP status decides; without a message the text says
 * `HTTP <status>` plus the start of the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = errorFromBody(500, '{"code":"unknown","message":"random error"}');
 * assert.equal(error.toString(), "unknown: random error");
 * assert.equal(errorFromBody(503, "down").message, "HTTP 503: down");
 * ```
 */
export function errorFromBody(httpStatus: number, text: string): RpcError {
  let body: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed;
  } catch {
    // not JSON: fall back to the HTTP status
  }
  let code = codeOfName(body?.code);
  const status = body?.status;
  const business = body?.code === `code_${BIZ_ERROR}` || status === BIZ_ERROR;
  if (code === undefined && typeof status === "number" && Number.isInteger(status)) {
    code = status === 0 ? "unknown" : codeOfGrpcStatus(status) ?? "unknown";
  }
  if (code === undefined && typeof status === "string" && /^\d{3}$/.test(status)) {
    code = codeOfHttpStatus(Number(status));
  }
  code ??= codeOfHttpStatus(httpStatus);
  const message = typeof body?.message === "string"
    ? body.message
    : `HTTP ${httpStatus}${text ? `: ${text.slice(0, 200)}` : ""}`;
  return new RpcError(code, message, { business });
}

/**
 * The code of a failed gRPC response (the gRPC HTTP/2 rule): a trailers-only
 * response's `grpc-status` wins over a non-200 HTTP status, except 408, which stays
 * `deadline_exceeded` (Dubbo Java answers an expired deadline with 408 and status 1).
 * Without `grpc-status`, the gRPC table for HTTP statuses applies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(codeOfGrpcFailure(200, "8"), "resource_exhausted");
 * assert.equal(codeOfGrpcFailure(503, undefined), "unavailable");
 * ```
 */
export function codeOfGrpcFailure(httpStatus: number, grpcStatus: string | undefined): Code {
  if (httpStatus === 408) return "deadline_exceeded";
  if (grpcStatus !== undefined && /^\d{1,3}$/.test(grpcStatus)) {
    return codeOfGrpcStatus(Number(grpcStatus)) ?? "unknown";
  }
  return GRPC_HTTP_CODES[httpStatus] ?? "unknown";
}
