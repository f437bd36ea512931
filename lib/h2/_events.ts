/**
 * What sessions report: counters of sessions, streams, GOAWAYs by reason, connection
 * errors by code and limit breaches by name, plus one log line per breach or error, so
 * that every hostile-client rule can be observed from a test or an operator's log.
 *
 * @module
 */
import { errorCodeName } from "./frame.ts";

/**
 * Counters of one server or client, readable at any time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const events = new SessionEvents("h2 test", (line) => lines.push(line));
 * events.limit(undefined, "PING flood");
 * assert.equal(events.stats.limits["PING flood"], 1);
 * assert.match(lines[0], /PING flood/);
 * ```
 */
export class SessionEvents {
  /** The counters (plain data, safe to serialize). */
  readonly stats: H2Stats = {
    sessionsOpened: 0,
    sessionsOpen: 0,
    streamsOpened: 0,
    streamsOpen: 0,
    goaways: {},
    peerGoaways: 0,
    connectionErrors: {},
    limits: {},
  };
  #label: string;
  #log: (line: string) => void;

  constructor(label: string, log: (line: string) => void) {
    this.#label = label;
    this.#log = log;
  }

  /** A session sent GOAWAY for `reason` (shutdown, idle, peer closed, …). */
  goaway(reason: string): void {
    this.stats.goaways[reason] = (this.stats.goaways[reason] ?? 0) + 1;
  }

  /** A session ended with a connection error of `code`. */
  connectionError(_session: unknown, code: number, detail: string): void {
    const name = errorCodeName(code);
    this.stats.connectionErrors[name] = (this.stats.connectionErrors[name] ?? 0) + 1;
    this.#log(
      `${this.#label}: connection error: ${
        detail.startsWith(name) ? detail : `${name}: ${detail}`
      }`,
    );
  }

  /** A limit was breached (`what` names it); the session answers as the limit says. */
  limit(_session: unknown, what: string): void {
    this.stats.limits[what] = (this.stats.limits[what] ?? 0) + 1;
    this.#log(`${this.#label}: limit breached: ${what}`);
  }
}

/**
 * The counters of {@linkcode SessionEvents}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stats: H2Stats = {
 *   sessionsOpened: 1, sessionsOpen: 0, streamsOpened: 3, streamsOpen: 0,
 *   goaways: { idle: 1 }, peerGoaways: 0, connectionErrors: {}, limits: {},
 * };
 * assert.equal(stats.goaways.idle, 1);
 * ```
 */
export interface H2Stats {
  sessionsOpened: number;
  sessionsOpen: number;
  streamsOpened: number;
  streamsOpen: number;
  /** GOAWAYs sent, by reason. */
  goaways: Record<string, number>;
  /** Sessions the peer ended with GOAWAY. */
  peerGoaways: number;
  /** Connection errors we answered (or hit), by error code name. */
  connectionErrors: Record<string, number>;
  /** Limit breaches, by name (e.g. "rapid reset", "PING flood", "stalled request body"). */
  limits: Record<string, number>;
}
