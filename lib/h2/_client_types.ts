/**
 * What the HTTP/2 client returns and throws.
 *
 * @module
 */

/**
 * A complete response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const response: H2Response = {
 *   status: 200, headers: new Map([["content-type", "application/grpc"]]),
 *   body: new Uint8Array(0), trailers: new Map([["grpc-status", "0"]]),
 * };
 * assert.equal(response.trailers.get("grpc-status"), "0");
 * ```
 */
export interface H2Response {
  status: number;
  /** Response fields by name (repeated ones joined with ", "), pseudo-headers included. */
  headers: Map<string, string>;
  body: Uint8Array;
  /** Trailer fields (empty when there were none). */
  trailers: Map<string, string>;
}

/**
 * Why a request failed:
 * - `connect`: no connection (refused, unreachable, DNS);
 * - `http1`: the server answered the HTTP/2 preface in HTTP/1.1 (it does not speak h2c);
 * - `goaway` / `refused`: the server did not process the stream (retried automatically);
 * - `reset`: the stream was reset (`code` says why); `protocol`: an HTTP/2 protocol error;
 * - `closed`: the connection was lost; `timeout`, `aborted`, `too-large`: as requested.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const kind: H2ErrorKind = "http1";
 * assert.equal(kind, "http1");
 * ```
 */
export type H2ErrorKind =
  | "connect"
  | "http1"
  | "goaway"
  | "refused"
  | "reset"
  | "protocol"
  | "closed"
  | "timeout"
  | "aborted"
  | "too-large";

/**
 * A failed request; `retryable` when the server is known not to have processed it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new H2RequestError("refused", "stream refused", true);
 * assert.equal(error.retryable, true);
 * assert.equal(error.name, "H2RequestError");
 * ```
 */
export class H2RequestError extends Error {
  constructor(
    readonly kind: H2ErrorKind,
    message: string,
    readonly retryable: boolean,
    /** The RST_STREAM error code, for `reset`. */
    readonly code?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "H2RequestError";
  }
}
