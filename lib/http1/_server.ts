/**
 * The hardened HTTP/1.1 server: {@linkcode Http1Connections} serves connections someone else
 * accepted (the provider's port, after sniffing), {@linkcode serveHttp1} runs it on its own
 * listener (the scrape endpoint) instead of `Deno.serve`, whose accept loop crashes the
 * process when file descriptors run out. Limits: lib/net's and `_limits.ts`.
 *
 * @module
 */
import {
  acceptLoop,
  closeQuietly,
  type ConnectionServer,
  ConnStream,
  DeadlineSweep,
  DEFAULT_MAX_CONNECTIONS,
  type Handler,
  LINGER_MS,
  SWEEP_MS,
} from "../net/mod.ts";
import { Http1Connection } from "./_connection.ts";
import { ByteSlab } from "../bytes.ts";
import { MAX_OUTPUT_BYTES } from "./_limits.ts";

/**
 * The HTTP/1.1 connections of one server: it serves each connection it is given with
 * `handler`, checks their deadlines with its own sweep, and drains them on
 * {@linkcode Http1Connections.close}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * const connections = new Http1Connections({
 *   open(_head, sink) {
 *     sink.send({ status: 404, headers: {}, body: new TextEncoder().encode("nothing here") });
 *     return ANSWERED;
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * listener.accept().then((conn) => connections.serve(conn, new Uint8Array(0)));
 * const response = await fetch(`http://127.0.0.1:${listener.addr.port}/`);
 * assert.equal(response.status, 404);
 * assert.equal(await response.text(), "nothing here");
 * await connections.close(1000);
 * assert.equal(connections.connections(), 0);
 * listener.close();
 * ```
 */
export class Http1Connections implements ConnectionServer {
  #handler: Handler;
  #sweep = new DeadlineSweep(SWEEP_MS);
  readonly #slab = new ByteSlab();
  #open = new Map<Deno.TcpConn, Http1Connection>();
  #closing = false;
  #closed: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  /** Serves requests with `handler`. */
  constructor(handler: Handler) {
    this.#handler = handler;
  }

  /**
   * Serves HTTP/1.1 on `conn`, after `initial` (bytes already read); `done` is called once
   * the connection has closed.
   */
  serve(conn: Deno.TcpConn, initial: Uint8Array, done?: () => void): void {
    if (this.#closing) {
      closeQuietly(conn);
      done?.();
      return;
    }
    const stream = new ConnStream(conn, {
      lingerMs: LINGER_MS,
      highWater: MAX_OUTPUT_BYTES,
      sweep: this.#sweep,
      slab: this.#slab,
    });
    const connection = new Http1Connection(stream, this.#handler, initial);
    this.#open.set(conn, connection);
    stream.start({
      receive: (chunk) => connection.receive(chunk),
      peerEnded: () => connection.peerEnded(),
      timeout: () => connection.timeout(),
      writable: () => connection.writable(),
      closed: () => {
        this.#open.delete(conn);
        done?.();
        connection.closed();
        if (this.#open.size === 0) this.#idle?.();
      },
    });
  }

  /** Connections open now. */
  connections(): number {
    return this.#open.size;
  }

  /** Closes idle connections now, the rest after their response, or all after `graceMs`. */
  close(graceMs: number): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      for (const connection of this.#open.values()) connection.shutdown();
      if (this.#open.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((done) => {
          this.#idle = done;
          timer = setTimeout(done, graceMs);
        });
        clearTimeout(timer);
      }
      for (const conn of this.#open.keys()) closeQuietly(conn);
    })();
    return this.#closed;
  }
}

/**
 * Settings of {@linkcode serveHttp1}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * const options: Http1ServerOptions = {
 *   hostname: "127.0.0.1", port: 0, label: "example", maxConnections: 1,
 *   handler: {
 *     open(head, sink) {
 *       sink.send({ status: 200, headers: {}, body: new TextEncoder().encode(head.method) });
 *       return ANSWERED;
 *     },
 *   },
 * };
 * const server = serveHttp1(options);
 * const response = await fetch(`http://127.0.0.1:${server.port}/`, { method: "DELETE" });
 * assert.equal(await response.text(), "DELETE");
 * await server.close();
 * ```
 */
export interface Http1ServerOptions {
  hostname: string;
  port: number;
  handler: Handler;
  /** Connections held at once (default 10000). */
  maxConnections?: number;
  /** Names the port in log lines and errors, e.g. `metrics`. */
  label: string;
  /** Where the accept loop's episode lines go (default stderr). */
  log?: (line: string) => void;
}

/**
 * A running {@linkcode serveHttp1}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * const server: Http1Server = serveHttp1({
 *   hostname: "127.0.0.1", port: 0, label: "example",
 *   handler: {
 *     open(_head, sink) {
 *       sink.send({ status: 204, headers: {}, body: new Uint8Array(0) });
 *       return ANSWERED;
 *     },
 *   },
 * });
 * const held = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
 * await held.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
 * await held.read(new Uint8Array(1024)); // the 204: the connection is open and idle
 * assert.equal(server.connections(), 1);
 * await server.close(); // an idle keep-alive connection is closed at once
 * assert.equal(await held.read(new Uint8Array(1)), null);
 * held.close();
 * ```
 */
export interface Http1Server {
  readonly port: number;
  /** Connections open now. */
  connections(): number;
  /** Stops accepting, closes idle connections, the rest after their response (or `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

/**
 * Listens on `hostname:port` and serves `handler`; throws when the port cannot be bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * const server = serveHttp1({
 *   hostname: "127.0.0.1", port: 0, label: "example",
 *   handler: {
 *     open(_head, sink) {
 *       sink.send({ status: 404, headers: {}, body: new TextEncoder().encode("nothing here") });
 *       return ANSWERED;
 *     },
 *   },
 * });
 * const response = await fetch(`http://127.0.0.1:${server.port}/`);
 * assert.equal(response.status, 404);
 * await response.body?.cancel();
 * await server.close();
 * ```
 */
export function serveHttp1(options: Http1ServerOptions): Http1Server {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const port = (listener.addr as Deno.NetAddr).port;
  const connections = new Http1Connections(options.handler);
  let closing = false;
  const loop = acceptLoop(listener, {
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    label: `${options.label} port ${options.hostname}:${port}`,
    log: options.log ?? ((line) => console.error(line)),
    closing: () => closing,
    serve: (conn, release) => connections.serve(conn, new Uint8Array(0), release),
  });
  let closed: Promise<void> | undefined;
  return {
    port,
    connections: () => loop.open(),
    close(graceMs = 2000) {
      closed ??= (async () => {
        closing = true;
        closeQuietly(listener);
        await loop.done;
        await connections.close(graceMs);
      })();
      return closed;
    },
  };
}
