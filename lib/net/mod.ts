/**
 * The socket layer every server here stands on, whatever the HTTP version: the accept loop
 * (connection cap, back-off when file descriptors run out), the `Deno.Conn` driver
 * ({@linkcode ConnStream}, deadlines checked by a server's {@linkcode DeadlineSweep}), the
 * HTTP/2-preface sniffer that lets one port serve HTTP/1.1 and h2c, connection limits, and
 * the request/reply contract ({@linkcode Handler}) a server hands each request to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptLoop, closeQuietly, sniffHttp2 } from "./mod.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * let closing = false;
 * const protocols: string[] = [];
 * const loop = acceptLoop(listener, {
 *   maxConnections: 10, label: "example port", log: console.error, closing: () => closing,
 *   serve: (conn, release) => {
 *     sniffHttp2(conn, 1000).then((seen) => protocols.push(seen.http2 ? "h2c" : "http/1"))
 *       .finally(() => {
 *         closeQuietly(conn);
 *         release();
 *       });
 *   },
 * });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
 * assert.equal(await client.read(new Uint8Array(1)), null); // sniffed, then closed
 * client.close();
 * closing = true;
 * closeQuietly(listener);
 * await loop.done;
 * assert.deepEqual(protocols, ["http/1"]);
 * ```
 *
 * @module
 */
export { type AcceptLoop, acceptLoop, type AcceptOptions, closeQuietly } from "./_accept.ts";
export { ConnStream, DeadlineSweep, type StreamHandler } from "./_conn_stream.ts";
export { type Sniffed, sniffHttp2 } from "./_sniff.ts";
export {
  ANSWERED,
  type ConnectionServer,
  type Exchange,
  type Handler,
  type Reply,
  type ReplyHead,
  type ReplySink,
  type RequestHead,
  type StreamedReply,
} from "./_exchange.ts";
export {
  BODY_MS,
  DEFAULT_MAX_CONNECTIONS,
  FIRST_BYTES_MS,
  IDLE_MS,
  LINGER_MS,
  SWEEP_MS,
} from "./_limits.ts";
