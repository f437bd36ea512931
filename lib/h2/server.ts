/**
 * An HTTP/2 server over connections someone else accepted (h2c with prior knowledge: the
 * caller hands over a `Deno.TcpConn` and the bytes it already read, the preface included).
 * It owns its sessions: one coarse sweep timer enforces every deadline, `close` drains them
 * with the graceful two-step GOAWAY, and `stats` counts what happened (limit breaches
 * included). It knows nothing of gRPC: a handler gets each request stream.
 *
 * @module
 */
import { DEFAULT_LIMITS, type H2Limits } from "./_limits.ts";
import { SWEEP_MS } from "../net/mod.ts";
import { type H2Stats, SessionEvents } from "./_events.ts";
import { ByteSlab } from "../bytes.ts";
import { ServerSession } from "./_server_session.ts";
import type { ServerStream } from "./server_stream.ts";

/**
 * Settings of an {@linkcode H2Server}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options: H2ServerOptions = {
 *   handler: (stream) => stream.respond(204, {}, { endStream: true }),
 *   limits: { idleMs: 30_000 },
 * };
 * assert.equal(options.limits?.idleMs, 30_000);
 * ```
 */
export interface H2ServerOptions {
  /** Called once per request stream, as soon as its headers are complete. */
  handler: (stream: ServerStream) => void;
  /** Overrides of {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<H2Limits>;
  /** Where limit breaches and connection errors are logged (default: nowhere). */
  log?: (line: string) => void;
  /** How log lines name this server, e.g. "h2c 127.0.0.1:20000". */
  label?: string;
}

/**
 * Serves HTTP/2 on handed-over connections; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { H2Client } from "./client.ts";
 * const server = new H2Server({
 *   handler(stream) {
 *     stream.respond(200, { "content-type": "text/plain" });
 *     stream.end();
 *     stream.write(new TextEncoder().encode("ignored after end"));
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * void listener.accept().then((conn) => server.serve(conn));
 * const client = new H2Client();
 * const response = await client.request(`http://127.0.0.1:${listener.addr.port}`, { path: "/" });
 * assert.equal(response.status, 200);
 * assert.equal(server.stats.streamsOpened, 1);
 * client.close();
 * await server.close(1000);
 * assert.equal(server.stats.sessionsOpen, 0);
 * listener.close();
 * ```
 */
export class H2Server {
  readonly #options: H2ServerOptions;
  readonly #limits: H2Limits;
  readonly #events: SessionEvents;
  readonly #sessions = new Set<ServerSession>();
  readonly #slab = new ByteSlab();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closing = false;
  #allClosed: (() => void) | undefined;

  constructor(options: H2ServerOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#events = new SessionEvents(options.label ?? "h2", options.log ?? (() => {}));
  }

  /** Counters: sessions, streams, GOAWAYs by reason, connection errors, limit breaches. */
  get stats(): H2Stats {
    return this.#events.stats;
  }

  /**
   * Serves `conn`, whose first bytes (`initial`, usually the sniffed preface) were already
   * read; `done` is called once the connection is closed.
   */
  serve(conn: Deno.TcpConn, initial: Uint8Array = new Uint8Array(0), done?: () => void): void {
    const session = new ServerSession(
      conn,
      this.#limits,
      this.#events,
      this.#slab,
      this.#options.handler,
      () => {
        this.#sessions.delete(session);
        this.#events.stats.sessionsOpen--;
        if (this.#sessions.size === 0) this.#idle();
        done?.();
      },
    );
    this.#sessions.add(session);
    this.#events.stats.sessionsOpened++;
    this.#events.stats.sessionsOpen++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      if (!this.#closing) Deno.unrefTimer(this.#timer);
    }
    session.start(initial);
    if (this.#closing) session.shutdown("shutdown");
  }

  /**
   * Serves every connection `listener` accepts, until it is closed (a caller with its own
   * accept loop uses {@linkcode serve} instead).
   */
  async serveListener(listener: Deno.Listener<Deno.TcpConn>): Promise<void> {
    try {
      for await (const conn of listener) this.serve(conn);
    } catch {
      // The listener was closed.
    }
  }

  /**
   * Graceful shutdown: every session gets GOAWAY (2^31−1, then the real last stream after
   * a PING round trip), open streams get up to `graceMs` to finish, then connections close.
   */
  close(graceMs = 5_000): Promise<void> {
    this.#closing = true;
    // While closing, the sweep (which enforces the grace) keeps the process alive.
    if (this.#timer !== undefined) Deno.refTimer(this.#timer);
    const closeBy = Date.now() + graceMs;
    for (const session of this.#sessions) {
      session.closeBy = closeBy;
      session.shutdown("shutdown");
    }
    if (this.#sessions.size === 0) {
      this.#idle();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#allClosed = resolve);
  }

  #idle() {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const resolve = this.#allClosed;
    this.#allClosed = undefined;
    resolve?.();
  }

  #sweep() {
    const now = Date.now();
    for (const session of [...this.#sessions]) session.sweep(now);
  }
}
