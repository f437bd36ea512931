/**
 * Limits and deadlines of the provider's and the scrape endpoint's connections,
 * which treat every byte as hostile. One place, so the README's "Limits and hardening" table and
 * the code cannot drift apart.
 *
 * @module
 */

/**
 * From accept to the first byte (HTTP/1.1) or the full HTTP/2 preface.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(FIRST_BYTES_MS, 10_000);
 * ```
 */
export const FIRST_BYTES_MS = 10_000;
/**
 * From the first byte of a request head to its end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(HEAD_MS, 10_000);
 * ```
 */
export const HEAD_MS = 10_000;
/**
 * From the end of a request head to the end of its body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(BODY_MS, 30_000);
 * ```
 */
export const BODY_MS = 30_000;
/**
 * Idle keep-alive: after a response, until the next request's first byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(IDLE_MS, 60_000);
 * ```
 */
export const IDLE_MS = 60_000;
/**
 * How long a closing connection waits for the peer to close its side.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(LINGER_MS, 5_000);
 * ```
 */
export const LINGER_MS = 5_000;
/**
 * Granularity of the deadline sweep (deadlines fire at most this late).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(SWEEP_MS, 500);
 * ```
 */
export const SWEEP_MS = 500;

/**
 * Largest request head (request line and fields) and largest chunked trailer section.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_HEAD_BYTES, 64 * 1024);
 * ```
 */
export const MAX_HEAD_BYTES = 64 * 1024;
/**
 * Largest chunk-size line (size and extensions).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_CHUNK_LINE_BYTES, 4096);
 * ```
 */
export const MAX_CHUNK_LINE_BYTES = 4096;
/**
 * Reading stops while more than this many response bytes wait to be written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_OUTPUT_BYTES, 1024 * 1024);
 * ```
 */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/**
 * Reading stops while more than this many pipelined input bytes wait for a response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_INPUT_BYTES, 1024 * 1024);
 * ```
 */
export const MAX_INPUT_BYTES = 1024 * 1024;
/**
 * After an error answer, at most this many request body bytes are read and dropped...
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_DRAIN_BYTES, 256 * 1024);
 * ```
 */
export const MAX_DRAIN_BYTES = 256 * 1024;
/**
 * ...for at most this long, before the connection is closed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(DRAIN_MS, 2_000);
 * ```
 */
export const DRAIN_MS = 2_000;

/**
 * Connections held at once per port unless `--max-connections` says otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_MAX_CONNECTIONS, 10_000);
 * ```
 */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/**
 * First and largest pause of the accept loop when file descriptors run out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(ACCEPT_BACKOFF_MS.first < ACCEPT_BACKOFF_MS.max);
 * ```
 */
export const ACCEPT_BACKOFF_MS = { first: 20, max: 1_000 } as const;

/**
 * Concurrent streams an HTTP/2 client may open (SETTINGS_MAX_CONCURRENT_STREAMS).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(H2_MAX_CONCURRENT_STREAMS, 100);
 * ```
 */
export const H2_MAX_CONCURRENT_STREAMS = 100;
/**
 * Request body bytes one HTTP/2 session may hold across its open streams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(H2_MAX_SESSION_BODY_BYTES, 32 * 1024 * 1024);
 * ```
 */
export const H2_MAX_SESSION_BODY_BYTES = 32 * 1024 * 1024;
/**
 * Response bytes one HTTP/2 session may have queued (a peer that never opens its window).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(H2_MAX_QUEUED_RESPONSE_BYTES, 8 * 1024 * 1024);
 * ```
 */
export const H2_MAX_QUEUED_RESPONSE_BYTES = 8 * 1024 * 1024;
/**
 * `maxSessionMemory` of the node:http2 server, MiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(H2_MAX_SESSION_MEMORY_MB, 32);
 * ```
 */
export const H2_MAX_SESSION_MEMORY_MB = 32;
