/**
 * Our own HTTP/2 (RFC 9113, HPACK RFC 7541) on `Deno.Conn`: a server for h2c connections
 * handed over by an accept loop, and a client that keeps one connection per authority.
 * General-purpose: it knows nothing of gRPC or Triple.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { H2Client, H2Server } from "./mod.ts";
 * const server = new H2Server({ handler: (stream) => stream.respond(204, {}, { endStream: true }) });
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * void listener.accept().then((conn) => server.serve(conn));
 * const client = new H2Client();
 * const response = await client.request(`http://127.0.0.1:${listener.addr.port}`, { path: "/" });
 * assert.equal(response.status, 204);
 * client.close();
 * await server.close(1000);
 * listener.close();
 * ```
 *
 * @module
 */
export { H2Server, type H2ServerOptions } from "./server.ts";
export {
  createH2ConnectionServer,
  type H2ConnectionOptions,
  type H2ConnectionServer,
} from "./exchange.ts";
export { ServerStream } from "./server_stream.ts";
export { H2Client, type H2ClientOptions, type H2RequestInit } from "./client.ts";
export { type H2ErrorKind, H2RequestError, type H2Response } from "./_client_types.ts";
export { DEFAULT_LIMITS, type H2Limits } from "./_limits.ts";
export type { H2Stats } from "./_events.ts";
export type { OutgoingHeaders } from "./_stream.ts";
export { ErrorCode, errorCodeName, PREFACE } from "./frame.ts";
