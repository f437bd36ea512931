/**
 * A `node:stream` Duplex over a `Deno.Conn`, so that a connection the provider accepted and
 * sniffed can be handed to a `node:http2` server with `emit("connection")`. node:http2 glue:
 * goes when lib/h2's own HTTP/2 replaces it.
 *
 * @module
 */
import { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import { concat } from "../bytes.ts";

/** Read buffer size; each read is copied out, so the buffer is reused. */
const READ_BYTES = 64 * 1024;

/** Writes all of `bytes` to `conn`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
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
