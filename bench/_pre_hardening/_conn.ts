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
import { allocBytes, concat as concatBytes } from "../../lib/bytes.ts";

/** Read buffer size; each read is copied out, so the buffer is reused. */
const READ_BYTES = 64 * 1024;

/** What a byte-stream protocol handler gets told about its connection. */
export interface StreamHandler {
  /** Bytes arrived (a fresh copy the handler may keep). */
  receive(chunk: Uint8Array): void;
  /** The peer closed its sending side. */
  peerEnded(): void;
  /** Nothing was read or written for the idle timeout. */
  idleTimeout(): void;
  /** The connection is gone (after {@linkcode ConnStream.destroy} or an I/O error). */
  closed(): void;
}

/** Writes all of `bytes` to `conn`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/**
 * Drives one `Deno.Conn` for a {@linkcode StreamHandler}: a read loop (pausable for
 * back-pressure), a write queue that coalesces writes issued while one is in flight,
 * half-close after the queue drains, and an idle timer.
 */
export class ConnStream {
  #conn: Deno.TcpConn;
  #handler: StreamHandler | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #ending = false;
  #writeEnded = false;
  #readEnded = false;
  #closed = false;
  #paused = false;
  #resumeReading: (() => void) | undefined;
  #idleMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #lastActivity = 0;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerMs: number;

  /** Wraps `conn`; call {@linkcode start} once a handler is attached. */
  constructor(conn: Deno.TcpConn, options: { idleMs: number; lingerMs: number }) {
    this.#conn = conn;
    this.#idleMs = options.idleMs;
    this.#lingerMs = options.lingerMs;
    conn.setNoDelay(true);
  }

  /** Attaches the handler, then reads until the peer or we close. */
  start(handler: StreamHandler): void {
    this.#handler = handler;
    this.#lastActivity = Date.now();
    this.#armIdle(this.#idleMs);
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
        this.#lastActivity = Date.now();
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
    } else {
      this.#send(bytes);
    }
  }

  // Plain promise callbacks rather than async functions: one promise per write.
  #send(bytes: Uint8Array) {
    this.#writing = true;
    this.#conn.write(bytes).then(
      (written) => this.#sent(bytes, written),
      () => this.destroy(),
    );
  }

  #sent(bytes: Uint8Array, written: number) {
    if (this.#closed) return;
    this.#lastActivity = Date.now();
    if (written < bytes.length) return this.#send(bytes.subarray(written));
    this.#writing = false;
    if (this.#queue.length > 0) {
      const parts = this.#queue;
      const next = parts.length === 1 ? parts[0] : concatBytes(parts, this.#queued);
      this.#queue = [];
      this.#queued = 0;
      return this.#send(next);
    }
    if (this.#ending) void this.#closeWrite();
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
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#lingerTimer);
    this.#queue = [];
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#resumeReading?.();
    this.#handler?.closed();
  }

  #armIdle(ms: number) {
    this.#idleTimer = setTimeout(() => {
      if (this.#closed) return;
      const idleFor = Date.now() - this.#lastActivity;
      if (idleFor >= this.#idleMs) {
        this.#lastActivity = Date.now();
        this.#handler!.idleTimeout();
        if (!this.#closed) this.#armIdle(this.#idleMs);
      } else {
        this.#armIdle(this.#idleMs - idleFor);
      }
    }, ms);
  }
}

/**
 * A `node:stream` Duplex over `conn` that first yields `initial` (bytes already read,
 * e.g. the sniffed HTTP/2 preface), for `http2Server.emit("connection", duplex)`.
 */
export function connDuplex(conn: Deno.TcpConn, initial: Uint8Array): Duplex {
  conn.setNoDelay(true);
  let reading = false;
  let closed = false;
  const closeConn = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
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
            if (n === null) {
              duplex.push(null);
              return;
            }
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
      writeAll(conn, chunk).then(() => done(), (error) => done(error));
    },
    writev(chunks: { chunk: Uint8Array }[], done) {
      const parts = chunks.map((c) => c.chunk);
      const bytes = concatBytes(parts, parts.reduce((n, p) => n + p.length, 0));
      writeAll(conn, bytes).then(() => done(), (error) => done(error));
    },
    final(done) {
      conn.closeWrite().then(() => done(), () => done());
    },
    destroy(error, done) {
      closeConn();
      done(error);
    },
  });
  if (initial.length > 0) duplex.unshift(Buffer.from(initial));
  return duplex;
}
