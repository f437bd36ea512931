/**
 * The numbers of lib/h2 in one place: what we advertise in SETTINGS, our flow-control
 * windows, deadlines, and the budgets that turn floods into ENHANCE_YOUR_CALM.
 *
 * @module
 */

/**
 * Settings and bounds of one side of a connection (all have defaults; see
 * {@linkcode DEFAULT_LIMITS}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const limits: H2Limits = { ...DEFAULT_LIMITS, maxConcurrentStreams: 10 };
 * assert.equal(limits.maxConcurrentStreams, 10);
 * ```
 */
export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise (streams the peer may open). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE we advertise: request (or response) bytes in flight per stream. */
  streamWindow: number;
  /** Our connection receive window (raised from 65,535 with WINDOW_UPDATE at start). */
  connectionWindow: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertise and enforce (RFC 9113 §6.5.2 counting). */
  maxHeaderListSize: number;
  /** Largest compressed header block, and most CONTINUATION frames in one. */
  maxHeaderBlock: number;
  maxContinuations: number;
  /** Response (or request) bytes queued per stream beyond which `write` reports back-pressure. */
  streamHighWater: number;
  /** Queued bytes per stream beyond which it is reset (a peer that never opens its window). */
  maxStreamQueued: number;
  /** Queued bytes across a session's streams beyond which the session ends (ENHANCE_YOUR_CALM). */
  maxSessionQueued: number;
  /** Serialized bytes waiting for the socket beyond which reading pauses. */
  outputHighWater: number;
  /** Body bytes a session may hold in streams not yet closed (requests being received). */
  maxSessionBody: number;
  /** Deadlines, ms: preface and first SETTINGS; SETTINGS ACK; idle session (no streams). */
  prefaceMs: number;
  settingsAckMs: number;
  idleMs: number;
  /** A request (or response) body that moves no byte for this long is reset (CANCEL). */
  bodyStallMs: number;
  /** Queued output that the peer's window lets through no byte of for this long: reset. */
  sendStallMs: number;
  /** A graceful GOAWAY waits this long for its PING's ACK before the final GOAWAY. */
  goawayPingMs: number;
  /** After the final GOAWAY or a connection error, how long the peer gets to close. */
  lingerMs: number;
  /** Streams the peer may reset while we still serve them: burst, and refill per second. */
  resetBurst: number;
  resetPerSecond: number;
  /** Frames that cost us work but carry no request (PING, SETTINGS, empty DATA, …). */
  controlBurst: number;
  controlPerSecond: number;
}

/**
 * The defaults: the SPEC's hostile-client rules (10 s preface, 60 s idle, 30 s stalled body,
 * 100 concurrent streams) and windows large enough to keep a busy connection at full speed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_LIMITS.maxConcurrentStreams, 100);
 * assert.equal(DEFAULT_LIMITS.idleMs, 60_000);
 * ```
 */
export const DEFAULT_LIMITS: Readonly<H2Limits> = Object.freeze({
  maxConcurrentStreams: 100,
  streamWindow: 1024 * 1024,
  connectionWindow: 4 * 1024 * 1024,
  maxHeaderListSize: 64 * 1024,
  maxHeaderBlock: 64 * 1024,
  maxContinuations: 32,
  streamHighWater: 64 * 1024,
  maxStreamQueued: 8 * 1024 * 1024,
  maxSessionQueued: 16 * 1024 * 1024,
  outputHighWater: 1024 * 1024,
  maxSessionBody: 32 * 1024 * 1024,
  prefaceMs: 10_000,
  settingsAckMs: 10_000,
  idleMs: 60_000,
  bodyStallMs: 30_000,
  sendStallMs: 30_000,
  goawayPingMs: 1_000,
  lingerMs: 5_000,
  resetBurst: 1_000,
  resetPerSecond: 200,
  controlBurst: 2_000,
  controlPerSecond: 500,
});

/**
 * A token bucket: `take` spends one token, refilled at `perSecond` up to `burst`; false
 * once the bucket is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const budget = new Budget(2, 1, 0);
 * assert.equal(budget.take(0), true);
 * assert.equal(budget.take(0), true);
 * assert.equal(budget.take(0), false); // empty
 * assert.equal(budget.take(1000), true); // one token back after a second
 * ```
 */
export class Budget {
  #tokens: number;
  #burst: number;
  #perMs: number;
  #at: number;

  constructor(burst: number, perSecond: number, now: number) {
    this.#tokens = burst;
    this.#burst = burst;
    this.#perMs = perSecond / 1000;
    this.#at = now;
  }

  /** Spends a token at time `now` (ms); false when none is left. */
  take(now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}
