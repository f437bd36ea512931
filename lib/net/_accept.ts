/**
 * The accept loop shared by the Triple port and the scrape port: holds at most
 * `maxConnections` connections (one over the limit is closed at once, before file
 * descriptors run out), and when they run out anyway (EMFILE/ENFILE) backs off instead
 * of spinning, logging one line per episode. It never throws: a failed accept is retried.
 *
 * @module
 */
import { ACCEPT_BACKOFF_MS } from "./_limits.ts";
import { errorText } from "../error_text.ts";

/**
 * Settings of {@linkcode acceptLoop}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * let closing = false;
 * const loop = acceptLoop(listener, {
 *   maxConnections: 10, label: "example port", log: console.error, closing: () => closing,
 *   serve: (conn, release) => {
 *     conn.close();
 *     release();
 *   },
 * });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * assert.equal(await client.read(new Uint8Array(1)), null); // served: closed at once
 * client.close();
 * closing = true;
 * closeQuietly(listener);
 * await loop.done;
 * ```
 */
export interface AcceptOptions {
  /** Connections held at once; past it new ones are closed at once. */
  maxConnections: number;
  /** What the log lines call this port, e.g. `Triple port 127.0.0.1:20000`. */
  label: string;
  /** Where the episode lines go. */
  log: (line: string) => void;
  /** True once the listener is being closed on purpose. */
  closing: () => boolean;
  /** Takes an accepted connection; calls `release` exactly once when it is closed. */
  serve: (conn: Deno.TcpConn, release: () => void) => void;
}

/**
 * A running accept loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * let closing = false;
 * const loop = acceptLoop(listener, {
 *   maxConnections: 10, label: "example port", log: console.error, closing: () => closing,
 *   serve: (conn, release) => {
 *     conn.close();
 *     release();
 *   },
 * });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * assert.equal(await client.read(new Uint8Array(1)), null); // served: closed at once
 * client.close();
 * closing = true;
 * closeQuietly(listener);
 * await loop.done;
 * assert.equal(loop.open(), 0);
 * ```
 */
export interface AcceptLoop {
  /** Connections held now. */
  open(): number;
  /** Resolves when the loop ended (listener closed). */
  readonly done: Promise<void>;
}

/** A quiet period that ends an out-of-descriptors episode (and allows its next log line). */
const EPISODE_MS = 30_000;

/**
 * True for "too many open files" (process or system).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isFdExhaustion(new Error("Too many open files (os error 24)")), true);
 * assert.equal(isFdExhaustion(new Error("refused")), false);
 * ```
 */
export function isFdExhaustion(error: unknown): boolean {
  const text = errorText(error);
  const code = (error as { code?: string } | null)?.code;
  return code === "EMFILE" || code === "ENFILE" ||
    /os error 2[34]\b|too many open files/i.test(text);
}

/**
 * Accepts from `listener` until it is closed; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * let closing = false;
 * const loop = acceptLoop(listener, {
 *   maxConnections: 10, label: "example port", log: console.error, closing: () => closing,
 *   serve: (conn, release) => {
 *     conn.close();
 *     release();
 *   },
 * });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * assert.equal(await client.read(new Uint8Array(1)), null); // served: closed at once
 * client.close();
 * closing = true;
 * closeQuietly(listener);
 * await loop.done;
 * ```
 */
export function acceptLoop(listener: Deno.TcpListener, options: AcceptOptions): AcceptLoop {
  let open = 0;
  let refusedInEpisode = 0;
  let lastFailure = -Infinity;
  const done = (async () => {
    let backoff = 0;
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (options.closing() || error instanceof Deno.errors.BadResource) return;
        if (!isFdExhaustion(error)) continue; // e.g. the peer reset before accept
        // One line per episode; an episode ends after a quiet EPISODE_MS without failures.
        const now = Date.now();
        if (now - lastFailure > EPISODE_MS) {
          options.log(
            `${options.label}: out of file descriptors (${open} connections open); ` +
              `accept paused, retrying with back-off`,
          );
        }
        lastFailure = now;
        backoff = Math.min(
          backoff === 0 ? ACCEPT_BACKOFF_MS.first : backoff * 2,
          ACCEPT_BACKOFF_MS.max,
        );
        await new Promise((resolve) => setTimeout(resolve, backoff));
        continue;
      }
      backoff = 0;
      if (options.closing()) {
        closeQuietly(conn);
        continue;
      }
      if (open >= options.maxConnections) {
        if (refusedInEpisode++ === 0) {
          options.log(
            `${options.label}: ${open} connections open (--max-connections); ` +
              `closing new ones until some close`,
          );
        }
        closeQuietly(conn);
        continue;
      }
      open++;
      let released = false;
      options.serve(conn, () => {
        if (released) return;
        released = true;
        open--;
        if (open < options.maxConnections * 0.9) refusedInEpisode = 0;
      });
    }
  })();
  return { open: () => open, done };
}

/**
 * Closes `closer`, ignoring "already closed".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(listener);
 * closeQuietly(listener); // already closed: no throw
 * assert.throws(() => listener.close()); // what closeQuietly swallowed
 * ```
 */
export function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}
