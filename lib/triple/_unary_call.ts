/**
 * One accepted unary call, from its head to its one reply: the body is collected up to the
 * size limit, the deadline armed, the method invoked with a cancellation signal, and the
 * reply (or error) sent once; the call is observed exactly once. One object per call (no
 * closures): this is the provider's hot path.
 *
 * @module
 */
import type { Exchange, Reply, ReplySink, RequestHead } from "../net/mod.ts";
import type { CallEnd } from "../observe.ts";
import { type Code, RpcError } from "./_errors.ts";
import { errorReply, successReply, unwrapMessage } from "./_replies.ts";
import type { ContentType } from "./_content_type.ts";
import { type Answer, type CallContext, invokeUnary, type UnaryMethod } from "./_method.ts";
import { readTimeout } from "./_timeout.ts";
import { concat } from "../bytes.ts";

/** Largest accepted request message; bigger bodies get `resource_exhausted`. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * What the handler learned from a call's head that its body's handling needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseContentType } from "./_content_type.ts";
 * import type { UnaryMethod } from "./_method.ts";
 * const text = { typeName: "example.Text", encode: (t: string) => new TextEncoder().encode(t), decode: (b: Uint8Array) => new TextDecoder().decode(b) };
 * const echo: UnaryMethod<string, string> = {
 *   kind: "unary", service: "example.Echo", method: "Echo", request: text, response: text, handle: (t) => t,
 * };
 * const info: CallInfo = {
 *   type: parseContentType("application/grpc+json")!,
 *   method: echo,
 *   gzipped: false,
 *   gzipOk: true,
 * };
 * assert.equal(info.type.serialization, "json");
 * ```
 */
export interface CallInfo {
  type: ContentType;
  method: UnaryMethod;
  /** The request message is gzipped (Content-Encoding / grpc-encoding). */
  gzipped: boolean;
  /** The peer accepts a gzipped response. */
  gzipOk: boolean;
}

/**
 * Whether a call's deadline (`at`, a `performance.now()` time, of a `ms` timeout) is all but
 * spent, so that a cancel now is the caller's timeout: within 50 ms or a quarter of the
 * timeout, the head start the caller's clock has over ours.
 */
function deadlineSpent(deadline: { at: number; ms: number } | undefined): boolean {
  if (deadline === undefined) return false;
  return deadline.at - performance.now() <= Math.max(50, deadline.ms / 4);
}

/**
 * One unary call being served: the server's {@linkcode Exchange}, the handler's
 * {@linkcode CallContext} and the method's {@linkcode Answer}. `onEnd` runs once the call has
 * ended, after its reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseContentType } from "./_content_type.ts";
 * import type { UnaryMethod } from "./_method.ts";
 * const text = { typeName: "example.Text", encode: (t: string) => new TextEncoder().encode(t), decode: (b: Uint8Array) => new TextDecoder().decode(b) };
 * const echo: UnaryMethod<string, string> = {
 *   kind: "unary", service: "example.Echo", method: "Echo", request: text, response: text, handle: (t) => t,
 * };
 * const sent: number[] = [];
 * const info = {
 *   type: parseContentType("application/json")!,
 *   method: echo,
 *   gzipped: false,
 *   gzipOk: false,
 * };
 * const head = {
 *   method: "POST", path: "/x", http2: false, contentLength: undefined, header: () => undefined,
 * };
 * const call = new UnaryCall(head, { send: (reply) => sent.push(reply.status) }, info, () => {}, () => {});
 * call.data(new TextEncoder().encode("x"));
 * call.end();
 * assert.deepEqual(sent, [200]);
 * assert.equal(call.done, true);
 * ```
 */
export class UnaryCall implements Exchange, CallContext, Answer {
  #sink: ReplySink;
  #info: CallInfo;
  #observe: CallEnd;
  #onEnd: () => void;
  #limit: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #done = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #deadline: { at: number; ms: number } | undefined;
  #cancel: AbortController | undefined;

  /** Accepts the call whose head is `head`; a bad timeout or length is answered at once. */
  constructor(
    head: RequestHead,
    sink: ReplySink,
    info: CallInfo,
    observe: CallEnd,
    onEnd: () => void,
  ) {
    this.#sink = sink;
    this.#info = info;
    this.#observe = observe;
    this.#onEnd = onEnd;
    this.#limit = MAX_MESSAGE_BYTES + (info.type.protocol === "grpc" ? 5 : 0);
    this.#checkHead(head);
  }

  /** True once the reply was sent or the call abandoned. */
  get done(): boolean {
    return this.#done;
  }

  /** Aborted when the call ends without the handler's answer; made on first use. */
  get signal(): AbortSignal {
    return (this.#cancel ??= new AbortController()).signal;
  }

  /** More request body; past the limit the call fails with `resource_exhausted`. */
  data(chunk: Uint8Array): void {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      this.fail(
        new RpcError("resource_exhausted", `message larger than ${MAX_MESSAGE_BYTES} bytes`),
      );
      return;
    }
    this.#chunks.push(chunk);
  }

  /** The body is complete: invoke the method. */
  end(): void {
    if (this.#done) return;
    const chunks = this.#chunks;
    const body = chunks.length === 1 ? chunks[0] : concat(chunks, this.#size);
    this.#chunks = [];
    const { type, gzipped, method } = this.#info;
    let message: Uint8Array;
    try {
      message = unwrapMessage(body, type.protocol, gzipped, MAX_MESSAGE_BYTES);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      return this.fail(error);
    }
    invokeUnary(method, message, type.serialization, this, this);
  }

  /**
   * The peer went away. A caller that gives up as its deadline passes cancels a moment before
   * our own timer fires (its clock started first): that counts as the timeout it is, like
   * dubbo-go's deadline_exceeded, and only an earlier cancel as canceled.
   */
  abort(): void {
    this.#finish(deadlineSpent(this.#deadline) ? "deadline_exceeded" : "canceled", undefined);
  }

  /** The method's answer: the successful reply. */
  reply(bytes: Uint8Array): void {
    const { protocol, responseType } = this.#info.type;
    this.#finish(null, successReply(protocol, responseType, bytes, this.#info.gzipOk));
  }

  /**
   * The call fails with `error`'s code and message; the metrics classify it by
   * `error.metricCode` (`biz_error` for a handler's failure).
   */
  fail(error: RpcError): void {
    const { protocol, responseType } = this.#info.type;
    const reply = errorReply(protocol, responseType, error.code, error.message);
    this.#finish(error.code, reply, error.metricCode);
  }

  #finish(code: Code | null, reply: Reply | undefined, recorded: string | null = code) {
    if (this.#done) return;
    this.#done = true;
    this.#chunks = [];
    clearTimeout(this.#timer);
    // Ended without the handler's answer (deadline, cancel, too large): stop its work.
    if (code !== null) this.#cancel?.abort("the call ended");
    if (reply) this.#sink.send(reply);
    try {
      this.#observe(recorded);
    } finally {
      this.#onEnd();
    }
  }

  /** Checks the timeout headers and declared length, and arms the deadline. */
  #checkHead(head: RequestHead) {
    const timeout = readTimeout(head.header);
    if (!timeout.ok) return this.fail(new RpcError("invalid_argument", timeout.message));
    if (head.contentLength !== undefined && head.contentLength > this.#limit) {
      const message = `message larger than ${MAX_MESSAGE_BYTES} bytes`;
      return this.fail(new RpcError("resource_exhausted", message));
    }
    const ms = timeout.ms;
    if (ms === undefined) return;
    if (ms <= 0) return this.fail(new RpcError("deadline_exceeded", "deadline exceeded"));
    this.#deadline = { at: performance.now() + ms, ms };
    this.#timer = setTimeout(
      () => this.fail(new RpcError("deadline_exceeded", `deadline of ${ms}ms exceeded`)),
      ms,
    );
  }
}
