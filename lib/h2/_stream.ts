/**
 * The state one HTTP/2 stream carries inside a session (RFC 9113 §5.1): which sides have
 * ended, both flow-control windows, the output queued while a window is shut, and request
 * or response body bytes held while the application pauses reading. The session drives it;
 * server and client streams extend it with their events.
 *
 * @module
 */

/**
 * Outgoing header fields: lowercase name → value (pseudo-headers first, in insertion order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fields: OutgoingHeaders = { ":status": "200", "content-type": "application/grpc" };
 * assert.equal(Object.keys(fields)[0], ":status");
 * ```
 */
export type OutgoingHeaders = Record<string, string>;

/**
 * One stream's state; the events are no-ops here, overridden by server and client streams.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const stream = new Stream(1, 65_535, 65_535, 0);
 * assert.equal(stream.open, true);
 * stream.remoteEnded = stream.localEnded = true;
 * assert.equal(stream.open, false);
 * ```
 */
export class Stream {
  /** END_STREAM received (or the stream was reset). */
  remoteEnded = false;
  /** END_STREAM sent (or the stream was reset). */
  localEnded = false;
  /** Removed from its session. */
  closed = false;
  /** The first HEADERS went out. */
  headersSent = false;
  /** We reset it (frames that were already in flight are then ignored). */
  resetByUs = false;

  /** Bytes the peer may still send on this stream, and consumed bytes not yet given back. */
  recvWindow: number;
  recvUnacked = 0;
  /** Body bytes received so far, and the declared content-length (-1: none). */
  received = 0;
  expectedLength = -1;
  /** When the last body byte arrived (or the stream opened): the stall clock. */
  lastReceiveAt: number;
  /** Reading paused by the application: chunks held until it resumes. */
  paused = false;
  held: Uint8Array[] = [];
  heldBytes = 0;
  heldEnd = false;
  heldTrailers: string[] | undefined = undefined;

  /** Bytes we may still send; chunks waiting for it; the offset into the first one. */
  sendWindow: number;
  queue: Uint8Array[] = [];
  queueOffset = 0;
  queued = 0;
  /** END_STREAM (with trailers, if any) to send once the queue is empty. */
  endQueued = false;
  trailers: OutgoingHeaders | undefined = undefined;
  /** In the session's ready list. */
  inReady = false;
  /** Since when queued output has been blocked by a shut window (0: not blocked). */
  stalledSince = 0;
  /** The application was told `write` is over the high-water mark; owe it `drained`. */
  owesDrain = false;

  constructor(readonly id: number, recvWindow: number, sendWindow: number, now: number) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
    this.lastReceiveAt = now;
  }

  /** Neither side has ended. */
  get open(): boolean {
    return !this.remoteEnded || !this.localEnded;
  }

  /** A body chunk arrived (a copy the stream may keep). */
  receiveData(_chunk: Uint8Array): void {}
  /** END_STREAM arrived, with trailers when `fields` is given (flat name/value list). */
  receiveEnd(_trailers: string[] | undefined): void {}
  /** The stream ended abnormally: reset by either side (`code`), or the connection was lost. */
  aborted(_code: number, _byPeer: boolean): void {}
  /** The queued output fell back under the high-water mark. */
  drained(): void {}
  /** The stream is over and gone from its session (after any other event), either way. */
  finished(): void {}
}
