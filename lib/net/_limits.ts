/**
 * Connection-level limits and deadlines, shared by every server on a socket (HTTP/1.1,
 * HTTP/2, the scrape port), which treat every byte as hostile. The README's "Limits and
 * hardening" table lists them with the HTTP/1.1 and HTTP/2 ones.
 *
 * @module
 */

/** From accept to the first byte (HTTP/1.1) or the full HTTP/2 preface. */
export const FIRST_BYTES_MS = 10_000;
/** From the end of a request head to the end of its body. */
export const BODY_MS = 30_000;
/** Idle keep-alive: after a response, until the next request's first byte. */
export const IDLE_MS = 60_000;
/** How long a closing connection waits for the peer to close its side. */
export const LINGER_MS = 5_000;
/** Granularity of the deadline sweep (deadlines fire at most this late). */
export const SWEEP_MS = 500;
/** Connections held at once per port unless `--max-connections` says otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** First and largest pause of the accept loop when file descriptors run out. */
export const ACCEPT_BACKOFF_MS = { first: 20, max: 1_000 } as const;
