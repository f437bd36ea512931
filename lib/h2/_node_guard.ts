/**
 * Bounds for the node:http2 server (README "Limits and hardening"): its SETTINGS
 * (`MAX_CONCURRENT_STREAMS` 100, session memory), and a {@linkcode SessionGuard} per server
 * that caps the request-body bytes a session's open streams hold, caps the response bytes
 * queued for a peer that never opens its flow-control window, cancels streams whose body
 * stalls, and ends idle sessions with GOAWAY. One coarse sweep timer checks every session of
 * its server. node:http2 glue: goes when lib/h2's own HTTP/2 replaces it.
 *
 * @module
 */
import type http2 from "node:http2";
import { BODY_MS, IDLE_MS, LINGER_MS, SWEEP_MS } from "../net/mod.ts";

/** Concurrent streams an HTTP/2 client may open (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const H2_MAX_CONCURRENT_STREAMS = 100;
/** Request body bytes one HTTP/2 session may hold across its open streams. */
export const H2_MAX_SESSION_BODY_BYTES = 32 * 1024 * 1024;
/** Response bytes one HTTP/2 session may have queued (a peer that never opens its window). */
export const H2_MAX_QUEUED_RESPONSE_BYTES = 8 * 1024 * 1024;
/** `maxSessionMemory` of the node:http2 server, MiB. */
export const H2_MAX_SESSION_MEMORY_MB = 32;

/**
 * `http2.createServer` options with our limits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(h2ServerOptions().settings?.maxConcurrentStreams, 100);
 * ```
 */
export function h2ServerOptions(): http2.ServerOptions {
  return {
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
    settings: { maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS },
  };
}

/**
 * When the transport under a session last moved a byte (see `connDuplex`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const activity: Activity = { at: 0 };
 * activity.at = Date.now(); // what connDuplex does whenever a byte moves
 * assert.ok(activity.at > 0);
 * ```
 */
export interface Activity {
  at: number;
}

/** RST_STREAM / GOAWAY codes (RFC 9113 §7). */
const CANCEL = 0x8;
const ENHANCE_YOUR_CALM = 0xb;

interface StreamState {
  stream: http2.ServerHttp2Stream;
  body: number;
  started: number;
}

interface SessionState {
  session: http2.ServerHttp2Session;
  activity: Activity;
  streams: Set<StreamState>;
  body: number;
  closingSince: number;
}

/**
 * Guards the sessions of one node:http2 server; see the module doc. The sweep timer runs
 * only while a session is guarded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import http2 from "node:http2";
 * import { connDuplex } from "./_node_duplex.ts";
 * const server = http2.createServer(h2ServerOptions());
 * const guard = new SessionGuard();
 * const activity: Activity = { at: 0 };
 * server.on("session", (session: http2.ServerHttp2Session) => guard.session(session, activity));
 * server.on("stream", (stream: http2.ServerHttp2Stream) => {
 *   guard.stream(stream);
 *   stream.respond({ ":status": 204 }, { endStream: true });
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = listener.accept().then((conn) =>
 *   new Promise<void>((done) => {
 *     const duplex = connDuplex(conn, new Uint8Array(0), activity);
 *     duplex.on("close", done);
 *     server.emit("connection", duplex);
 *   })
 * );
 * const client = http2.connect(`http://127.0.0.1:${listener.addr.port}`);
 * const request = client.request({ ":path": "/" });
 * const headers = await new Promise<http2.IncomingHttpHeaders>((done) => request.on("response", done));
 * assert.equal(headers[":status"], 204);
 * assert.equal(guard.size, 1);
 * assert.ok(activity.at > 0);
 * request.resume();
 * client.close();
 * await served;
 * assert.equal(guard.size, 0);
 * listener.close();
 * ```
 */
export class SessionGuard {
  #sessions = new Set<SessionState>();
  #byKey = new WeakMap<http2.ServerHttp2Session, SessionState>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Sessions guarded now. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Starts guarding `session`, whose transport reports into `activity`. */
  session(session: http2.ServerHttp2Session, activity: Activity): void {
    const state: SessionState = {
      session,
      activity,
      streams: new Set(),
      body: 0,
      closingSince: 0,
    };
    this.#sessions.add(state);
    this.#byKey.set(session, state);
    session.once("close", () => {
      this.#sessions.delete(state);
      if (this.#sessions.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    });
    if (this.#timer === undefined) {
      const interval = setInterval(() => this.#sweep(), SWEEP_MS);
      Deno.unrefTimer(interval);
      this.#timer = interval;
    }
  }

  /**
   * Counts `stream`'s request body against its session's cap. One `data` listener per
   * stream (the cheapest hook under Deno's node:http2); ended and closed streams are found
   * and released by the sweep.
   */
  stream(stream: http2.ServerHttp2Stream): void {
    const state = this.#byKey.get(stream.session as http2.ServerHttp2Session);
    if (!state) return;
    const entry: StreamState = { stream, body: 0, started: Date.now() };
    state.streams.add(entry);
    stream.on("data", (chunk: Uint8Array) => {
      entry.body += chunk.length;
      state.body += chunk.length;
      if (state.body > H2_MAX_SESSION_BODY_BYTES) reset(stream, ENHANCE_YOUR_CALM);
    });
  }

  #sweep() {
    const now = Date.now();
    for (const state of this.#sessions) checkSession(state, now);
  }
}

function reset(stream: http2.ServerHttp2Stream, code: number) {
  try {
    stream.close(code);
  } catch {
    stream.destroy();
  }
}

function checkSession(state: SessionState, now: number) {
  const { session } = state;
  if (state.closingSince > 0) {
    if (now - state.closingSince > LINGER_MS) session.destroy();
    return;
  }
  let queued = 0;
  for (const entry of state.streams) {
    const { stream } = entry;
    if (stream.closed || stream.destroyed) {
      state.body -= entry.body;
      state.streams.delete(entry);
      continue;
    }
    queued += stream.writableLength ?? 0;
    if (!stream.readableEnded && now - entry.started > BODY_MS) reset(stream, CANCEL);
  }
  if (queued > H2_MAX_QUEUED_RESPONSE_BYTES) {
    goAway(state, ENHANCE_YOUR_CALM, now);
  } else if (state.streams.size === 0 && now - state.activity.at > IDLE_MS) {
    goAway(state, 0, now);
  }
}

function goAway(state: SessionState, code: number, now: number) {
  state.closingSince = now;
  try {
    if (code === 0) state.session.close();
    else state.session.goaway(code);
  } catch {
    state.session.destroy();
  }
  if (code !== 0) state.session.destroy();
}
