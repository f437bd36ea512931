/**
 * The `node:http2` glue the Triple layer uses until lib/h2's own HTTP/2 (RFC 9113 on
 * `Deno.Conn`) replaces it, and this file with it: an h2c server for connections the
 * provider sniffed ({@linkcode createNodeH2Server}) and an h2c client with one pooled
 * session per endpoint ({@linkcode NodeH2Client}).
 *
 * @module
 */
import http2 from "node:http2";
import type { Buffer } from "node:buffer";
import type { ConnectionServer, Handler } from "../net/mod.ts";
import { type Endpoint, endpointKey } from "../endpoint.ts";
import { concat } from "../bytes.ts";
import { errorText } from "../error_text.ts";
import { NodeH2Server } from "./_node_server.ts";

/**
 * An h2c server answering every stream with `handler` (whole and streamed replies), for
 * connections another listener accepted; `onClosed` hears of each connection once it has
 * closed. It owns its sessions and drains them on `close(graceMs)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * const server = createNodeH2Server({
 *   open(head, sink) {
 *     sink.send({ status: 200, headers: {}, body: new TextEncoder().encode(head.path) });
 *     return ANSWERED;
 *   },
 * });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * listener.accept().then((conn) => server.serve(conn, new Uint8Array(0)));
 * const client = new NodeH2Client();
 * const response = await client.request({ host: "127.0.0.1", port: listener.addr.port }, {
 *   path: "/echo", headers: {}, body: new Uint8Array(0), timeoutMs: 1000, maxBodyBytes: 100,
 * });
 * assert.equal(new TextDecoder().decode(response.body), "/echo");
 * client.close();
 * await server.close(1000);
 * listener.close();
 * ```
 */
export function createNodeH2Server(
  handler: Handler,
  onClosed?: (conn: Deno.TcpConn) => void,
): ConnectionServer {
  return new NodeH2Server(handler, onClosed);
}

/**
 * One POST request of {@linkcode NodeH2Client}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const request: H2Request = {
 *   path: "/", headers: { "content-type": "text/plain" }, body: new Uint8Array(1),
 *   timeoutMs: 1000, maxBodyBytes: 1024,
 * };
 * assert.equal(request.headers["content-type"], "text/plain");
 * ```
 */
export interface H2Request {
  path: string;
  /** Request headers (lowercase names); `:method` is POST. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** The request is cancelled (RST_STREAM CANCEL) and fails with `timeout` after this. */
  timeoutMs: number;
  /** A longer response body fails with `too_large` (the stream is cancelled). */
  maxBodyBytes: number;
}

/**
 * A response: status, headers and trailers (first value of each field), the body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const response: H2Response = { status: 200, headers: {}, trailers: { "grpc-status": "0" }, body: new Uint8Array(0) };
 * assert.equal(response.trailers?.["grpc-status"], "0");
 * ```
 */
export interface H2Response {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string> | undefined;
  body: Uint8Array;
}

/**
 * Why a request failed: the deadline passed, the body was too large, or the connection or
 * stream failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new H2RequestError("timeout", "call to h:1 exceeded its 5ms deadline");
 * assert.equal(error.reason, "timeout");
 * ```
 */
export class H2RequestError extends Error {
  /** Creates the error; `message` names the endpoint. */
  constructor(
    readonly reason: "timeout" | "too_large" | "connection",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "H2RequestError";
  }
}

function firstValues(headers: http2.IncomingHttpHeaders | undefined) {
  if (!headers) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value[0] : String(value);
  }
  return out;
}

/**
 * h2c (prior knowledge) requests over `node:http2`, one pooled session per endpoint, reused
 * by every request until it fails, is closed, or receives GOAWAY.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr;
 * listener.close(); // nobody listens: the request fails as a connection failure
 * const client = new NodeH2Client();
 * await assert.rejects(
 *   client.request({ host: "127.0.0.1", port }, {
 *     path: "/", headers: {}, body: new Uint8Array(0), timeoutMs: 1000, maxBodyBytes: 10,
 *   }),
 *   (error) => error instanceof H2RequestError && error.reason === "connection",
 * );
 * client.close();
 * ```
 */
export class NodeH2Client {
  #sessions = new Map<string, http2.ClientHttp2Session>();

  #session(endpoint: Endpoint): http2.ClientHttp2Session {
    const key = endpointKey(endpoint);
    const existing = this.#sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    const session = http2.connect(`http://${host}:${endpoint.port}`);
    const forget = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    session.on("error", forget);
    session.on("close", forget);
    session.on("goaway", forget);
    this.#sessions.set(key, session);
    return session;
  }

  /** Sends one POST; resolves once the stream closed, rejects with an {@linkcode H2RequestError}. */
  request(endpoint: Endpoint, request: H2Request): Promise<H2Response> {
    const where = endpointKey(endpoint);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error: H2RequestError | undefined, value?: H2Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value!);
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.#session(endpoint).request({
          ":method": "POST",
          ":path": request.path,
          ...request.headers,
        });
      } catch (error) {
        settle(new H2RequestError("connection", `${where}: ${errorText(error)}`));
        return;
      }
      const timer = setTimeout(() => {
        const message = `call to ${where} exceeded its ${request.timeoutMs}ms deadline`;
        settle(new H2RequestError("timeout", message));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, request.timeoutMs);
      let headers: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      const chunks: Uint8Array[] = [];
      let size = 0;
      stream.on("response", (h) => headers = h);
      stream.on("trailers", (t) => trailers = t);
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxBodyBytes) {
          settle(new H2RequestError("too_large", `${where}: response body too large`));
          stream.close(http2.constants.NGHTTP2_CANCEL);
          return;
        }
        chunks.push(chunk);
      });
      stream.on("error", (error: Error) => {
        settle(new H2RequestError("connection", `${where}: ${error.message}`, { cause: error }));
      });
      stream.on("close", () => {
        if (!headers) {
          settle(new H2RequestError("connection", `${where}: stream closed without a response`));
          return;
        }
        settle(undefined, {
          status: Number(headers[":status"]),
          headers: firstValues(headers)!,
          trailers: firstValues(trailers),
          body: concat(chunks, size),
        });
      });
      stream.end(request.body);
    });
  }

  /** Closes every pooled session. */
  close(): void {
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }
}
