/**
 * Tells an HTTP/2 connection (prior knowledge: it opens with the client preface) from an
 * HTTP/1.x one by its first bytes, so that one port serves both.
 *
 * @module
 */
import { closeQuietly } from "./_accept.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * What {@linkcode sniffHttp2} saw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seen: Sniffed = { http2: false, initial: new TextEncoder().encode("GET / HTTP/1.1\r\n") };
 * assert.equal(seen.initial.length, 16);
 * ```
 */
export interface Sniffed {
  /** The connection opened with the HTTP/2 preface. */
  http2: boolean;
  /** The bytes read so far, to be fed to the server that takes the connection. */
  initial: Uint8Array;
}

/**
 * Reads just enough of a new connection to tell the HTTP/2 preface from HTTP/1.x. Rejects if
 * the peer leaves (or fails) first; a peer silent for `timeoutMs`, or stuck inside a partial
 * preface, has its connection closed and the promise rejected.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const conn = await listener.accept();
 * await client.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
 * assert.equal((await sniffHttp2(conn, 1000)).http2, true);
 * await client.write(new TextEncoder().encode("GET"));
 * client.close();
 * conn.close();
 * listener.close();
 * ```
 */
export async function sniffHttp2(conn: Deno.TcpConn, timeoutMs: number): Promise<Sniffed> {
  const timer = setTimeout(() => closeQuietly(conn), timeoutMs);
  try {
    const buffer = new Uint8Array(4096);
    let seen = 0;
    for (;;) {
      const n = await conn.read(buffer.subarray(seen));
      if (n === null) throw new Error("closed before the first request");
      seen += n;
      const compared = Math.min(seen, PREFACE.length);
      let prefixMatches = true;
      for (let i = 0; i < compared; i++) {
        if (buffer[i] !== PREFACE[i]) {
          prefixMatches = false;
          break;
        }
      }
      if (prefixMatches && seen < PREFACE.length) continue; // need more bytes
      return { http2: prefixMatches, initial: buffer.slice(0, seen) };
    }
  } finally {
    clearTimeout(timer);
  }
}
