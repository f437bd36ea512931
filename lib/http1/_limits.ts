/**
 * Limits of the HTTP/1.1 server beyond the connection-level ones of `lib/net` (README
 * "Limits and hardening").
 *
 * @module
 */

/** From the first byte of a request head to its end. */
export const HEAD_MS = 10_000;
/** Largest request head (request line and fields) and largest chunked trailer section. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Largest chunk-size line (size and extensions). */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** Reading stops while more than this many response bytes wait to be written. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** Reading stops while more than this many pipelined input bytes wait for a response. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** After an early answer, at most this many request body bytes are read and dropped... */
export const MAX_DRAIN_BYTES = 256 * 1024;
/** ...for at most this long, before the connection is closed. */
export const DRAIN_MS = 2_000;
