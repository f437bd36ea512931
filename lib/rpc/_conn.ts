/**
 * Native `Deno.Conn` plumbing for the provider: a byte-stream driver for our HTTP/1.1
 * codec (reads and writes straight on the `Deno.Conn`, writes queued while one is in
 * flight are coalesced into one), and a `node:stream` Duplex over a `Deno.Conn` so an
 * h2c connection can be handed to a `node:http2` server with `emit("connection")`.
 *
 * Why not `node:net`: under load its per-response socket write cost about half of the
 * provider's CPU on HTTP/1.1; native reads/writes roughly double throughput
 * (bench/README.md, RPC section).
 *
 * @module
 */
import { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import { allocBytes, concat } from "../bytes.ts";
import { SWEEP_MS } from "./_limits.ts";

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

/** Writes all of `bytes` to `conn`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/**
 * Fires the deadlines of all open streams from one coarse interval timer (a timer per
 * connection per request would cost more than the request).
 */
const sweeper = {
  streams: new Set<ConnStream>(),
  timer: undefined as ReturnType<typeof setInterval> | undefined,
  add(stream: ConnStream) {
    this.streams.add(stream);
    if (this.timer === undefined) {
      const timer = setInterval(() => this.sweep(), SWEEP_MS);
      Deno.unrefTimer(timer);
      this.timer = timer;
    }
  },
  delete(stream: ConnStream) {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  },
  sweep() {
    const now = Date.now();
    for (const stream of this.streams) stream.checkDeadline(now);
  },
};

/**
 * Drives one `Deno.Conn` for a {@linkcode StreamHandler}: a read loop (pausable for
 * back-pressure), a write queue that coalesces writes issued while one is in flight and
 * reports its backlog, half-close after the queue drains, and one deadline at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const echoed = listener.accept().then((conn) =>
 *   new Promise<void>((done) => {
 *     const stream = new ConnStream(conn, { lingerMs: 1000, highWater: 1024 });
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

  /**
   * Wraps `conn`; call {@linkcode start} once a handler is attached. `highWater`: backlog
   * above which {@linkcode StreamHandler.writable} is owed once it drains.
   */
  constructor(conn: Deno.TcpConn, options: { lingerMs: number; highWater: number }) {
    this.#conn = conn;
    this.#lingerMs = options.lingerMs;
    this.#highWater = options.highWater;
    conn.setNoDelay(true);
  }

  /** Attaches the handler, then reads until the peer or we close. */
  start(handler: StreamHandler): void {
    this.#handler = handler;
    sweeper.add(this);
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
        const chunk = allocBytes(n);
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
    sweeper.delete(this);
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

/**
 * A `node:stream` Duplex over `conn` that first yields `initial` (bytes already read,
 * e.g. the sniffed HTTP/2 preface), for `http2Server.emit("connection", duplex)`.
 * `activity.at` is set whenever a byte moves (the session guard's idle clock). When the
 * peer closes its side (a plain FIN, what `curl --http2-prior-knowledge` does), what is
 * queued is flushed and the socket closed within `lingerMs`: HTTP/2 has no use for a
 * half-open connection, and waiting for the session to notice leaked it in CLOSE-WAIT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepted = listener.accept();
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const duplex = connDuplex(await accepted, new TextEncoder().encode("early "), { at: 0 }, 100);
 * const chunks: string[] = [];
 * duplex.on("data", (chunk: Uint8Array) => chunks.push(new TextDecoder().decode(chunk)));
 * await client.write(new TextEncoder().encode("late"));
 * client.close();
 * await new Promise((done) => duplex.on("close", done));
 * assert.equal(chunks.join(""), "early late");
 * listener.close();
 * ```
 */
export function connDuplex(
  conn: Deno.TcpConn,
  initial: Uint8Array,
  activity: { at: number } = { at: 0 },
  lingerMs = 5000,
): Duplex {
  conn.setNoDelay(true);
  activity.at = Date.now();
  let reading = false;
  let closed = false;
  let linger: ReturnType<typeof setTimeout> | undefined;
  const closeConn = () => {
    if (closed) return;
    closed = true;
    clearTimeout(linger);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const write = (bytes: Uint8Array, done: (error?: Error | null) => void) => {
    writeAll(conn, bytes).then(() => {
      activity.at = Date.now();
      done();
    }, (error) => done(error));
  };
  const peerClosed = () => {
    duplex.push(null);
    // Flush and close our side, and never wait longer than the linger for the session.
    linger = setTimeout(() => duplex.destroy(), lingerMs);
    duplex.end();
  };
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      void (async () => {
        const buffer = new Uint8Array(READ_BYTES);
        try {
          for (;;) {
            const n = await conn.read(buffer);
            if (n === null) return peerClosed();
            activity.at = Date.now();
            if (!duplex.push(Buffer.from(buffer.slice(0, n)))) {
              reading = false;
              return;
            }
          }
        } catch (error) {
          if (!closed) duplex.destroy(error as Error);
        }
      })();
    },
    write(chunk: Uint8Array, _encoding, done) {
      write(chunk, done);
    },
    writev(chunks: { chunk: Uint8Array }[], done) {
      const parts = chunks.map((c) => c.chunk);
      write(concat(parts), done);
    },
    final(done) {
      conn.closeWrite().then(() => {
        done();
        // Both sides are done once the peer has closed too.
        if (duplex.readableEnded) duplex.destroy();
      }, () => done());
    },
    destroy(error, done) {
      closeConn();
      done(error);
    },
  });
  if (initial.length > 0) duplex.unshift(Buffer.from(initial));
  return duplex;
}
