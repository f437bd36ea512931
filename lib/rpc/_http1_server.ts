/**
 * The hardened HTTP/1.1 server both ports use: the provider hands it connections after
 * sniffing (h2c goes elsewhere), and the scrape endpoint runs it on its own listener
 * ({@linkcode serveHttp1}) instead of `Deno.serve`, whose accept loop crashes the
 * process when file descriptors run out. Limits: `_limits.ts`.
 *
 * @module
 */
import { ConnStream } from "./_conn.ts";
import { Http1Connection, type Http1Core } from "./_http1.ts";
import { acceptLoop, closeQuietly } from "./_accept.ts";
import { DEFAULT_MAX_CONNECTIONS, LINGER_MS, MAX_OUTPUT_BYTES } from "./_limits.ts";

/**
 * Serves HTTP/1.1 on `conn` (after `initial`, bytes already read); `onClosed` runs once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectError } from "./_replies.ts";
 * import type { Http1Core } from "./_http1.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const core: Http1Core = {
 *   open(_head, sink) {
 *     sink.send(connectError("not_found", "nothing here"));
 *     return { done: true, data() {}, end() {}, abort() {} };
 *   },
 * };
 * const served = listener.accept().then((conn) =>
 *   new Promise<void>((done) => serveHttp1Conn(conn, core, new Uint8Array(0), done))
 * );
 * const response = await fetch(`http://127.0.0.1:${listener.addr.port}/`, {
 *   headers: { connection: "close" },
 * });
 * assert.equal(response.status, 404);
 * await response.body?.cancel();
 * await served;
 * listener.close();
 * ```
 */
export function serveHttp1Conn(
  conn: Deno.TcpConn,
  core: Http1Core,
  initial: Uint8Array,
  onClosed: () => void,
): Http1Connection {
  const stream = new ConnStream(conn, { lingerMs: LINGER_MS, highWater: MAX_OUTPUT_BYTES });
  const connection = new Http1Connection(stream, core, initial);
  stream.start({
    receive: (chunk) => connection.receive(chunk),
    peerEnded: () => connection.peerEnded(),
    timeout: () => connection.timeout(),
    writable: () => connection.writable(),
    closed: () => {
      onClosed();
      connection.closed();
    },
  });
  return connection;
}

/**
 * Settings of {@linkcode serveHttp1}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectError } from "./_replies.ts";
 * const server = serveHttp1({
 *   hostname: "127.0.0.1", port: 0, label: "example",
 *   core: {
 *     open(_head, sink) {
 *       sink.send(connectError("not_found", "nothing here"));
 *       return { done: true, data() {}, end() {}, abort() {} };
 *     },
 *   },
 * });
 * const response = await fetch(`http://127.0.0.1:${server.port}/`);
 * assert.equal(response.status, 404);
 * await response.body?.cancel();
 * await server.close();
 * ```
 */
export interface Http1ServerOptions {
  hostname: string;
  port: number;
  core: Http1Core;
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
 * import { connectError } from "./_replies.ts";
 * const server = serveHttp1({
 *   hostname: "127.0.0.1", port: 0, label: "example",
 *   core: {
 *     open(_head, sink) {
 *       sink.send(connectError("not_found", "nothing here"));
 *       return { done: true, data() {}, end() {}, abort() {} };
 *     },
 *   },
 * });
 * const response = await fetch(`http://127.0.0.1:${server.port}/`);
 * assert.equal(response.status, 404);
 * await response.body?.cancel();
 * await server.close();
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
 * Listens on `hostname:port` and serves `core`; throws when the port cannot be bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { connectError } from "./_replies.ts";
 * const server = serveHttp1({
 *   hostname: "127.0.0.1", port: 0, label: "example",
 *   core: {
 *     open(_head, sink) {
 *       sink.send(connectError("not_found", "nothing here"));
 *       return { done: true, data() {}, end() {}, abort() {} };
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
  const open = new Map<Deno.TcpConn, Http1Connection>();
  let closing = false;
  let idle: (() => void) | undefined;
  const loop = acceptLoop(listener, {
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    label: `${options.label} port ${options.hostname}:${port}`,
    log: options.log ?? ((line) => console.error(line)),
    closing: () => closing,
    serve: (conn, release) => {
      const connection = serveHttp1Conn(conn, options.core, new Uint8Array(0), () => {
        open.delete(conn);
        release();
        if (open.size === 0) idle?.();
      });
      open.set(conn, connection);
    },
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
        for (const connection of open.values()) connection.shutdown();
        if (open.size > 0) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          await new Promise<void>((done) => {
            idle = done;
            timer = setTimeout(done, graceMs);
          });
          clearTimeout(timer);
        }
        for (const conn of open.keys()) closeQuietly(conn);
        open.clear();
      })();
      return closed;
    },
  };
}
