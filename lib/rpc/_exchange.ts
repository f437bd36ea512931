/**
 * The contract between a transport (HTTP/1.1 connection, h2c stream, scrape endpoint) and
 * what answers its requests: the request head, one reply, and the body in between.
 *
 * @module
 */
import type { Reply } from "./_replies.ts";

/**
 * What a transport knows once a request's head has arrived.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head: RequestHead = {
 *   method: "POST", path: "/greet.GreetService/Greet", http2: false, contentLength: 2,
 *   header: (name) => name === "content-type" ? "application/json" : undefined,
 * };
 * assert.equal(head.header("content-type"), "application/json");
 * ```
 */
export interface RequestHead {
  method: string;
  /** Request target, possibly with a query string. */
  path: string;
  /** Header value by lowercase name. */
  header(name: string): string | undefined;
  /** Whether the request came over HTTP/2 (gRPC needs it). */
  http2: boolean;
  /** Declared body length, if any. */
  contentLength: number | undefined;
}

/**
 * The transport's half of one exchange: where the single reply goes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Reply } from "./_replies.ts";
 * const replies: Reply[] = [];
 * const sink: ReplySink = { send: (reply) => replies.push(reply) };
 * sink.send({ status: 204, headers: {}, body: new Uint8Array(0) });
 * assert.equal(replies.length, 1);
 * ```
 */
export interface ReplySink {
  send(reply: Reply): void;
}

/**
 * The core's half of one exchange, driven by the transport.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const exchange: Exchange = { done: true, data() {}, end() {}, abort() {} };
 * assert.equal(exchange.done, true); // a transport drops further body bytes
 * ```
 */
export interface Exchange {
  /** True once the reply has been sent (or the call was abandoned): body bytes can be dropped. */
  readonly done: boolean;
  /** More request body. */
  data(chunk: Uint8Array): void;
  /** The request body is complete. */
  end(): void;
  /** The peer went away before the reply. */
  abort(): void;
}
