/**
 * Our HTTP/1.1 server on lib/net: strict parsing (RFC 9112), `Content-Length` and chunked
 * bodies, keep-alive and pipelining, a deadline for every phase and a bound for every buffer
 * (README "Limits and hardening"). {@linkcode serveHttp1} runs it on its own listener (the
 * scrape endpoint); {@linkcode Http1Connections} serves connections another listener
 * accepted (the provider's port, shared with h2c). Either owns its connections and drains
 * them on `close(graceMs)`. HTTP/1.1 cannot stream a reply: a handler sends one whole
 * reply per request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANSWERED } from "../net/mod.ts";
 * import { serveHttp1 } from "./mod.ts";
 * const server = serveHttp1({
 *   hostname: "127.0.0.1", port: 0, label: "example",
 *   handler: {
 *     open(head, sink) {
 *       sink.send({
 *         status: 200,
 *         headers: { "content-type": "text/plain" },
 *         body: new TextEncoder().encode(`you asked for ${head.path}`),
 *       });
 *       return ANSWERED;
 *     },
 *   },
 * });
 * const response = await fetch(`http://127.0.0.1:${server.port}/hello`);
 * assert.equal(await response.text(), "you asked for /hello");
 * await server.close();
 * ```
 *
 * @module
 */
export {
  Http1Connections,
  type Http1Server,
  type Http1ServerOptions,
  serveHttp1,
} from "./_server.ts";
