/**
 * An HTTP/2 client (h2c with prior knowledge) that keeps one connection per authority and
 * runs every concurrent request on it as a stream. A request the server did not process
 * (above a GOAWAY's last-stream-id, or refused with REFUSED_STREAM) is retried on a new
 * connection; every other failure is an {@linkcode H2RequestError} that says what happened,
 * including a server that answered in HTTP/1.1.
 *
 * @module
 */
import { DEFAULT_LIMITS, type H2Limits } from "./_limits.ts";
import { SWEEP_MS } from "../net/mod.ts";
import { type H2Stats, SessionEvents } from "./_events.ts";
import { ByteSlab } from "../bytes.ts";
import { ClientSession, type PendingRequest } from "./_client_session.ts";
import { H2RequestError, type H2Response } from "./_client_types.ts";
import type { OutgoingHeaders } from "./_stream.ts";

/**
 * One request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const init: H2RequestInit = { method: "POST", path: "/greet.GreetService/Greet", timeoutMs: 3000 };
 * assert.equal(init.method, "POST");
 * ```
 */
export interface H2RequestInit {
  /** Default: POST with a body, else GET. */
  method?: string;
  /** Path and query. */
  path: string;
  /** Request fields, lowercase names. */
  headers?: OutgoingHeaders;
  body?: Uint8Array;
  /** The whole request (connection, retries, response) must finish within this. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Largest response body accepted (default 16 MiB). */
  maxResponseBytes?: number;
}

/**
 * Settings of an {@linkcode H2Client}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const options: H2ClientOptions = { maxRetries: 2 };
 * assert.equal(options.maxRetries, 2);
 * ```
 */
export interface H2ClientOptions {
  limits?: Partial<H2Limits>;
  /** Retries of requests the server did not process (default 3). */
  maxRetries?: number;
  log?: (line: string) => void;
}

const DEFAULT_MAX_RESPONSE = 16 * 1024 * 1024;

interface Target {
  hostname: string;
  port: number;
  authority: string;
}

function targetOf(origin: string | { host: string; port: number }): Target {
  if (typeof origin !== "string") {
    const host = origin.host.includes(":") ? `[${origin.host}]` : origin.host;
    return { hostname: origin.host, port: origin.port, authority: `${host}:${origin.port}` };
  }
  const url = new URL(origin);
  if (url.protocol !== "http:") {
    throw new TypeError(`h2c needs an http: origin, not ${url.protocol}`);
  }
  const port = Number(url.port || 80);
  return {
    hostname: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    authority: `${url.hostname}:${port}`,
  };
}

/** Watches one request's deadline and abort signal across its attempts. */
class Watch {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort = () => this.#cancel(new H2RequestError("aborted", "request aborted", false));
  #current: { session: ClientSession; request: PendingRequest } | undefined;
  #rejectWait: ((error: H2RequestError) => void) | undefined;
  #error: H2RequestError | undefined;

  constructor(init: H2RequestInit, where: string) {
    if (init.timeoutMs !== undefined) {
      const ms = init.timeoutMs;
      this.#timer = setTimeout(
        () =>
          this.#cancel(
            new H2RequestError("timeout", `request to ${where} exceeded ${ms} ms`, false),
          ),
        ms,
      );
    }
    this.#signal = init.signal;
    if (this.#signal?.aborted) this.#onAbort();
    this.#signal?.addEventListener("abort", this.#onAbort);
  }

  /** `promise`, unless the request is cancelled first. */
  wait<T>(promise: Promise<T>): Promise<T> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise<T>((resolve, reject) => {
      this.#rejectWait = reject;
      promise.then(resolve, reject);
    });
  }

  /** Sends `request` on `session`; its stream is cancelled if the request is. */
  send(session: ClientSession, request: PendingRequest): void {
    if (this.#error) return request.reject(this.#error);
    this.#current = { session, request };
    session.send(request);
  }

  #cancel(error: H2RequestError) {
    if (this.#error) return;
    this.#error = error;
    this.#rejectWait?.(error);
    const current = this.#current;
    if (!current) return;
    const { session, request } = current;
    if (request.stream && !request.stream.closed) session.cancel(request.stream, error);
    else if (session.unqueue(request)) request.reject(error);
  }

  dispose() {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
  }
}

/**
 * A pool of h2c connections, one per authority; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { H2Server } from "./server.ts";
 * const server = new H2Server({
 *   handler: (stream) => {
 *     stream.respond(200, { "content-type": "text/plain" });
 *     stream.end({ "x-stream": String(stream.path) });
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * void (async () => {
 *   for await (const conn of listener) server.serve(conn);
 * })().catch(() => {});
 * const client = new H2Client();
 * const origin = `http://127.0.0.1:${listener.addr.port}`;
 * const responses = await Promise.all(
 *   Array.from({ length: 20 }, (_, i) => client.request(origin, { path: `/${i}` })),
 * );
 * assert.deepEqual(responses.map((r) => r.trailers.get("x-stream")), responses.map((_, i) => `/${i}`));
 * assert.equal(server.stats.sessionsOpened, 1); // all on one connection
 * client.close();
 * await server.close(1000);
 * listener.close();
 * ```
 */
export class H2Client {
  readonly #limits: H2Limits;
  readonly #events: SessionEvents;
  readonly #slab = new ByteSlab();
  readonly #maxRetries: number;
  readonly #live = new Map<string, ClientSession>();
  readonly #connecting = new Map<string, Promise<ClientSession>>();
  readonly #all = new Set<ClientSession>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Counts `close` calls: a connection made across one is dropped. */
  #generation = 0;

  constructor(options: H2ClientOptions = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#events = new SessionEvents("h2 client", options.log ?? (() => {}));
    this.#maxRetries = options.maxRetries ?? 3;
  }

  /** Counters of this client's sessions and errors. */
  get stats(): H2Stats {
    return this.#events.stats;
  }

  /** Sends one request to `origin` (`http://host:port`, or host and port). */
  async request(
    origin: string | { host: string; port: number },
    init: H2RequestInit,
  ): Promise<H2Response> {
    const target = targetOf(origin);
    const fields: OutgoingHeaders = {
      ":method": init.method ?? (init.body ? "POST" : "GET"),
      ":scheme": "http",
      ":authority": target.authority,
      ":path": init.path,
    };
    for (const name in init.headers) fields[name] = init.headers[name];
    const watch = new Watch(init, target.authority);
    try {
      for (let attempt = 0;; attempt++) {
        const session = await watch.wait(this.#session(target));
        try {
          return await watch.wait(
            new Promise<H2Response>((resolve, reject) =>
              watch.send(session, {
                fields,
                body: init.body,
                maxResponseBytes: init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE,
                resolve,
                reject,
              })
            ),
          );
        } catch (error) {
          const retry = error instanceof H2RequestError && error.retryable;
          if (!retry || attempt >= this.#maxRetries) throw error;
        }
      }
    } finally {
      watch.dispose();
    }
  }

  /**
   * Closes every connection (and any still being made); requests in flight fail with
   * `closed`. The client stays usable: later requests connect again.
   */
  close(): void {
    this.#generation++;
    for (const session of [...this.#all]) session.destroy();
    this.#live.clear();
  }

  #session(target: Target): Promise<ClientSession> {
    const live = this.#live.get(target.authority);
    if (live && !live.draining && !live.closed) return Promise.resolve(live);
    let connecting = this.#connecting.get(target.authority);
    if (!connecting) {
      connecting = this.#connect(target).finally(() => this.#connecting.delete(target.authority));
      this.#connecting.set(target.authority, connecting);
    }
    return connecting;
  }

  async #connect(target: Target): Promise<ClientSession> {
    const generation = this.#generation;
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: target.hostname, port: target.port });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new H2RequestError(
        "connect",
        `cannot connect to ${target.authority}: ${reason}`,
        false,
        undefined,
        {
          cause: error,
        },
      );
    }
    if (generation !== this.#generation) {
      conn.close(); // the client was closed while connecting
      throw new H2RequestError(
        "closed",
        `client closed while connecting to ${target.authority}`,
        false,
      );
    }
    const session: ClientSession = new ClientSession(
      conn,
      this.#limits,
      this.#events,
      this.#slab,
      target.authority,
      () => {
        this.#all.delete(session);
        if (this.#live.get(target.authority) === session) this.#live.delete(target.authority);
        this.#events.stats.sessionsOpen--;
        if (this.#all.size === 0 && this.#timer !== undefined) {
          clearInterval(this.#timer);
          this.#timer = undefined;
        }
      },
    );
    this.#all.add(session);
    this.#live.set(target.authority, session);
    this.#events.stats.sessionsOpened++;
    this.#events.stats.sessionsOpen++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        const now = Date.now();
        for (const each of [...this.#all]) each.sweep(now);
      }, SWEEP_MS);
      Deno.unrefTimer(this.#timer);
    }
    session.start();
    return session;
  }
}
