/**
 * The `Deno.Conn` driver a byte-stream protocol (our HTTP/1.1) runs on: reads and writes
 * straight on the `Deno.Conn`, writes queued while one is in flight coalesced into one,
 * back-pressure, and one deadline at a time, checked by the server's
 * {@linkcode DeadlineSweep}.
 *
 * Why not `node:net`: under load its per-response socket write cost about half of the
 * provider's CPU on HTTP/1.1; native reads/writes roughly double throughput
 * (bench/README.md, RPC section).
 *
 * @module
 */
import { type ByteSlab, concat } from "../bytes.ts";

/** Read buffer size; each read is copied out, so the buffer is reused. */
const READ_BYTES = 64 * 1024;

/**
 * What a byte-stream protocol handler gets told about its connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const received: string[] = [];
 * const handler: StreamHandler = {
 *   receive: (chunk) => received.push(new TextDecoder().decode(chunk)),
 *   peerEnded() {}, timeout() {}, writable() {}, closed() {},
 * };
 * handler.receive(new TextEncoder().encode("GET"));
 * assert.deepEqual(received, ["GET"]);
 * ```
 */
export interface StreamHandler {
  /** Bytes arrived (a fresh copy the handler may keep). */
  receive(chunk: Uint8Array): void;
  /** The peer closed its sending side. */
  peerEnded(): void;
  /** The deadline set with {@linkcode ConnStream.deadline} passed. */
  timeout(): void;
  /** The write backlog fell back under the limit given to {@linkcode ConnStream}. */
  writable(): void;
  /** The connection is gone (after {@linkcode ConnStream.destroy} or an I/O error). */
  closed(): void;
}

/**
 * Fires the deadlines of a server's connections from one coarse interval timer (a timer per
 * connection per request would cost more than the request). Each server owns one; the timer
 * runs only while a connection is registered, and never keeps the process alive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const sweep = new DeadlineSweep(10);
 * let fired = 0;
 * const connection = { checkDeadline: (now: number) => fired += now > 0 ? 1 : 0 };
 * sweep.add(connection);
 * await new Promise((done) => setTimeout(done, 50));
 * sweep.delete(connection);
 * assert.ok(fired > 0);
 * assert.equal(sweep.size, 0);
 * ```
 */
export class DeadlineSweep {
  #connections = new Set<{ checkDeadline(now: number): void }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #everyMs: number;

  /** A sweep every `everyMs` milliseconds. */
  constructor(everyMs: number) {
    this.#everyMs = everyMs;
  }

  /** Connections registered. */
  get size(): number {
    return this.#connections.size;
  }

  /** Checks `connection` on every sweep until {@linkcode delete}. */
  add(connection: { checkDeadline(now: number): void }): void {
    this.#connections.add(connection);
    if (this.#timer === undefined) {
      const timer = setInterval(() => this.#sweep(), this.#everyMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Stops checking `connection`. */
  delete(connection: { checkDeadline(now: number): void }): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #sweep() {
    const now = Date.now();
    for (const connection of this.#connections) connection.checkDeadline(now);
  }
}

/**
 * Drives one `Deno.Conn` for a {@linkcode StreamHandler}: a read loop (pausable for
 * back-pressure), a write queue that coalesces writes issued while one is in flight and
 * reports its backlog, half-close after the queue drains, and one deadline at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteSlab } from "../bytes.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const echoed = listener.accept().then((conn) =>
 *   new Promise<void>((done) => {
 *     const stream = new ConnStream(conn, {
 *       lingerMs: 1000, highWater: 1024, sweep: new DeadlineSweep(500), slab: new ByteSlab(),
 *     });
 *     const handler: StreamHandler = {
 *       receive(chunk) {
 *         stream.write(chunk);
 *         stream.end();
 *       },
 *       timeout() {},
 *       peerEnded() {},
 *       writable() {},
 *       closed: done,
 *     };
 *     stream.start(handler);
 *   })
 * );
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("ping"));
 * const buffer = new Uint8Array(4);
 * let read = 0;
 * while (read < 4) read += (await client.read(buffer.subarray(read))) ?? 4;
 * assert.equal(new TextDecoder().decode(buffer), "ping");
 * client.close();
 * await echoed;
 * listener.close();
 * ```
 */
export class ConnStream {
  #conn: Deno.TcpConn;
  #handler: StreamHandler | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #inFlight = 0;
  #writing = false;
  #ending = false;
  #writeEnded = false;
  #readEnded = false;
  #closed = false;
  #paused = false;
  #resumeReading: (() => void) | undefined;
  #deadlineAt = 0;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerMs: number;
  #highWater: number;
  #overHighWater = false;
  #sweep: DeadlineSweep;
  /** Where this connection's input chunks (and its owner's small buffers) come from. */
  readonly slab: ByteSlab;

  /**
   * Wraps `conn`; call {@linkcode start} once a handler is attached. `highWater`: backlog
   * above which {@linkcode StreamHandler.writable} is owed once it drains; `sweep` and `slab`:
   * the server's deadline sweep and byte slab.
   */
  constructor(
    conn: Deno.TcpConn,
    options: { lingerMs: number; highWater: number; sweep: DeadlineSweep; slab: ByteSlab },
  ) {
    this.#conn = conn;
    this.#lingerMs = options.lingerMs;
    this.#highWater = options.highWater;
    this.#sweep = options.sweep;
    this.slab = options.slab;
    conn.setNoDelay(true);
  }

  /** Attaches the handler, then reads until the peer or we close. */
  start(handler: StreamHandler): void {
    this.#handler = handler;
    this.#sweep.add(this);
    void this.#readLoop();
  }

  async #readLoop() {
    const buffer = new Uint8Array(READ_BYTES);
    try {
      for (;;) {
        if (this.#paused) {
          await new Promise<void>((resume) => this.#resumeReading = resume);
          if (this.#closed) return;
        }
        const n = await this.#conn.read(buffer);
        if (this.#closed) return;
        if (n === null) break;
        const chunk = this.slab.alloc(n);
        chunk.set(buffer.subarray(0, n));
        this.#handler!.receive(chunk);
      }
    } catch {
      this.destroy();
      return;
    }
    this.#readEnded = true;
    if (this.#writeEnded) this.destroy();
    else this.#handler!.peerEnded();
  }

  /** Calls {@linkcode StreamHandler.timeout} once `ms` from now; 0 clears the deadline. */
  deadline(ms: number): void {
    this.#deadlineAt = ms > 0 ? Date.now() + ms : 0;
  }

  /** Called by the sweep. */
  checkDeadline(now: number): void {
    if (this.#deadlineAt === 0 || now < this.#deadlineAt || this.#closed) return;
    this.#deadlineAt = 0;
    this.#handler!.timeout();
  }

  /** Response bytes queued or being written. */
  backlog(): number {
    return this.#queued + this.#inFlight;
  }

  /** Stops reading until {@linkcode resume} (back-pressure). */
  pause(): void {
    this.#paused = true;
  }

  /** Resumes reading after {@linkcode pause}. */
  resume(): void {
    this.#paused = false;
    const resume = this.#resumeReading;
    this.#resumeReading = undefined;
    resume?.();
  }

  /** Queues `bytes`; writes issued while another is in flight go out together. */
  write(bytes: Uint8Array): void {
    if (this.#closed || this.#ending) return;
    if (this.#writing) {
      this.#queue.push(bytes);
      this.#queued += bytes.length;
      if (this.backlog() > this.#highWater) this.#overHighWater = true;
    } else {
      this.#send(bytes);
    }
  }

  // Plain promise callbacks rather than async functions: one promise per write.
  #send(bytes: Uint8Array) {
    this.#writing = true;
    this.#inFlight = bytes.length;
    if (bytes.length > this.#highWater) this.#overHighWater = true;
    this.#conn.write(bytes).then(
      (written) => this.#sent(bytes, written),
      () => this.destroy(),
    );
  }

  #sent(bytes: Uint8Array, written: number) {
    if (this.#closed) return;
    if (written < bytes.length) return this.#send(bytes.subarray(written));
    this.#writing = false;
    this.#inFlight = 0;
    if (this.#queue.length > 0) {
      const parts = this.#queue;
      const next = parts.length === 1 ? parts[0] : concat(parts, this.#queued);
      this.#queue = [];
      this.#queued = 0;
      return this.#send(next);
    }
    if (this.#ending) return void this.#closeWrite();
    if (this.#overHighWater) {
      this.#overHighWater = false;
      this.#handler!.writable();
    }
  }

  /** Sends what is queued, then closes our side; the peer gets `lingerMs` to close its side. */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.#ending = true;
    if (!this.#writing) void this.#closeWrite();
  }

  async #closeWrite() {
    if (this.#writeEnded) return;
    this.#writeEnded = true;
    try {
      await this.#conn.closeWrite();
    } catch {
      this.destroy();
      return;
    }
    if (this.#readEnded) {
      this.destroy();
      return;
    }
    // Do not wait forever for a peer that never closes its side.
    this.#lingerTimer = setTimeout(() => this.destroy(), this.#lingerMs);
  }

  /** Closes the connection now. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sweep.delete(this);
    clearTimeout(this.#lingerTimer);
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#resumeReading?.();
    this.#handler?.closed();
  }
}
