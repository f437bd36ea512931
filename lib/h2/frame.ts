/**
 * HTTP/2 wire constants (RFC 9113 §4–§7): frame types, flags, error codes, settings, the
 * client preface, window and frame size bounds, and the error type that carries an error
 * code to the connection (stream 0) or to one stream.
 *
 * @module
 */

/**
 * Frame types (RFC 9113 §6).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(FrameType.CONTINUATION, 9);
 * ```
 */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/**
 * Frame flags (RFC 9113 §6); ACK shares END_STREAM's bit on SETTINGS and PING.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(Flag.END_HEADERS, 0x4);
 * ```
 */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/**
 * Error codes (RFC 9113 §7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(ErrorCode.ENHANCE_YOUR_CALM, 0xb);
 * ```
 */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const ERROR_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

/**
 * The name of an error code, e.g. for a log line; unknown codes as hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(errorCodeName(0x7), "REFUSED_STREAM");
 * assert.equal(errorCodeName(0xff), "0xff");
 * ```
 */
export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/**
 * SETTINGS parameters (RFC 9113 §6.5.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(Setting.INITIAL_WINDOW_SIZE, 0x4);
 * ```
 */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/**
 * The client connection preface (RFC 9113 §3.4), followed by a SETTINGS frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(new TextDecoder().decode(PREFACE), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
 * ```
 */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * Bytes of a frame header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(FRAME_HEADER_BYTES, 9);
 * ```
 */
export const FRAME_HEADER_BYTES = 9;

/**
 * The largest flow-control window, 2^31−1 (RFC 9113 §6.9.1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_WINDOW, 2147483647);
 * ```
 */
export const MAX_WINDOW = 2 ** 31 - 1;

/**
 * The initial window of every connection and stream until SETTINGS say otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_WINDOW, 65_535);
 * ```
 */
export const DEFAULT_WINDOW = 65_535;

/**
 * Frame size bounds: every peer accepts 2^14; SETTINGS_MAX_FRAME_SIZE may be up to 2^24−1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(FRAME_SIZE.min < FRAME_SIZE.max);
 * ```
 */
export const FRAME_SIZE = { min: 16_384, max: 2 ** 24 - 1 } as const;

/**
 * An HTTP/2 error: a connection error when `streamId` is 0 (answered with GOAWAY), else a
 * stream error (answered with RST_STREAM on that stream).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "window overflow", 3);
 * assert.equal(error.message, "FLOW_CONTROL_ERROR on stream 3: window overflow");
 * assert.equal(new H2Error(ErrorCode.PROTOCOL_ERROR, "bad").streamId, 0);
 * ```
 */
export class H2Error extends Error {
  constructor(readonly code: number, detail: string, readonly streamId = 0) {
    super(`${errorCodeName(code)}${streamId ? ` on stream ${streamId}` : ""}: ${detail}`);
    this.name = "H2Error";
  }
}
