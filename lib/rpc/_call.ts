/**
 * The transport-independent core of the provider: given one request's head, decide
 * (reject at once, or accept and read the body), run the greet business logic with
 * its deadline, and produce exactly one reply. HTTP/1.1 and HTTP/2 adapters feed it.
 *
 * @module
 */
import type { CallEnd, CallObserver, CallTarget } from "../observe.ts";
import { type Code, RpcError } from "./errors.ts";
import { acceptsGzip, isGzip, isSupportedEncoding } from "./compression.ts";
import {
  connectError,
  errorReply,
  type Protocol,
  type Reply,
  successReply,
  unwrapMessage,
} from "./_replies.ts";
import { invokeUnary, pathsOf, type UnaryMethod } from "./methods.ts";
import { readTimeout } from "./_deadline.ts";
import { concat } from "../bytes.ts";
import {
  type Codec,
  decodeGreetRequestName,
  encodeGreetResponse,
  GREET_METHOD,
  GREET_SERVICE,
} from "./greet.ts";
import { errorText } from "../error_text.ts";
import type { Exchange, ReplySink, RequestHead } from "./_exchange.ts";

/**
 * Largest accepted request message; bigger bodies get `resource_exhausted`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(MAX_MESSAGE_BYTES, 4 * 1024 * 1024);
 * ```
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The content types the provider accepts, listed in `Accept-Post` on a 415.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(ACCEPTED_CONTENT_TYPES.split(", ").includes("application/grpc+proto"));
 * ```
 */
export const ACCEPTED_CONTENT_TYPES =
  "application/json, application/proto, application/grpc, application/grpc+proto, application/grpc+json";

export type { Reply } from "./_replies.ts";
export type { Exchange, ReplySink, RequestHead } from "./_exchange.ts";

/**
 * Business and routing settings of the provider core.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CALLS } from "../observe.ts";
 * const settings: CallSettings = { failureRate: 0, delayMs: 0, group: "", version: "", observer: NO_CALLS };
 * assert.equal(new CallCore(settings).inFlight(), 0);
 * ```
 */
export interface CallSettings {
  failureRate: number;
  delayMs: number;
  group: string;
  version: string;
  observer: CallObserver;
  /** Source of randomness in [0, 1); tests may pin it. */
  random?: () => number;
  /** Extra unary methods served next to Greet (health, metadata, ...). */
  methods?: readonly UnaryMethod[];
}

interface ContentType {
  protocol: Protocol;
  codec: Codec;
  /** The response's content type, from a fixed set (never the request's text). */
  responseType: string;
}

function parseContentType(value: string | undefined): ContentType | undefined {
  if (value === undefined) return undefined;
  const [base, ...params] = value.toLowerCase().split(";").map((part) => part.trim());
  switch (base) {
    case "application/json": {
      const charset = params.find((p) => p.startsWith("charset="));
      if (charset && charset !== "charset=utf-8") return undefined;
      return { protocol: "connect", codec: "json", responseType: "application/json" };
    }
    case "application/proto":
      return { protocol: "connect", codec: "proto", responseType: "application/proto" };
    case "application/grpc":
      return { protocol: "grpc", codec: "proto", responseType: "application/grpc" };
    case "application/grpc+proto":
      return { protocol: "grpc", codec: "proto", responseType: "application/grpc+proto" };
    case "application/grpc+json":
      return { protocol: "grpc", codec: "json", responseType: "application/grpc+json" };
    default:
      return undefined;
  }
}

/** A method the core routes to: Greet (observed) or an extra unary method. */
type Route = { kind: "greet" } | { kind: "extra"; method: UnaryMethod };

/** What `#accept` learned from the head that the body's handling needs. */
interface CallContext {
  type: ContentType;
  route: Route;
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

/** An exchange already answered at open time; ignores the rest of the body. */
const FINISHED: Exchange = { done: true, data() {}, end() {}, abort() {} };

const GREET: Route = { kind: "greet" };

function routeMethod(path: string, extra: ReadonlyMap<string, Route>): Route | undefined {
  const query = path.indexOf("?");
  const bare = query < 0 ? path : path.slice(0, query);
  const prefix = `/${GREET_SERVICE}/`;
  if (bare.startsWith(prefix)) {
    const method = bare.slice(prefix.length);
    // dubbo-go also routes the method name with a lower-case first letter.
    if (method === GREET_METHOD || method === "greet") return GREET;
  }
  return extra.get(bare);
}

/**
 * The provider's request core. `open` is called once per request with its head; it
 * either answers right away (405, 415, 404, ...) or returns an exchange to feed the
 * body into. Every accepted call is observed exactly once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CALLS } from "../observe.ts";
 * const core = new CallCore({ failureRate: 0, delayMs: 0, group: "", version: "", observer: NO_CALLS });
 * const replies: Reply[] = [];
 * const exchange = core.open({
 *   method: "POST", path: "/greet.GreetService/Greet", http2: false, contentLength: undefined,
 *   header: (name) => name === "content-type" ? "application/json" : undefined,
 * }, { send: (reply) => replies.push(reply) });
 * exchange.data(new TextEncoder().encode('{"name":"core"}'));
 * exchange.end();
 * await core.idle();
 * assert.equal(new TextDecoder().decode(replies[0].body), '{"greeting":"core"}');
 * ```
 */
export class CallCore {
  #settings: CallSettings;
  /** What every accepted call is observed as: Greet is the only routed method. */
  #target: CallTarget;
  #random: () => number;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #extra = new Map<string, Route>();

  /** Creates the core with business and routing settings. */
  constructor(settings: CallSettings) {
    this.#settings = settings;
    this.#target = {
      interface: GREET_SERVICE,
      method: GREET_METHOD,
      group: settings.group,
      version: settings.version,
    };
    this.#random = settings.random ?? Math.random;
    for (const method of settings.methods ?? []) {
      for (const path of pathsOf(method)) this.#extra.set(path, { kind: "extra", method });
    }
  }

  /** Accepted calls that have not been answered yet. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when no call is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Starts one exchange; see {@linkcode Exchange}. */
  open(head: RequestHead, sink: ReplySink): Exchange {
    if (head.method !== "POST") {
      const reply = connectError(
        "unimplemented",
        `HTTP method ${head.method} is not allowed; use POST`,
        405,
      );
      reply.headers["allow"] = "POST";
      sink.send(reply);
      return FINISHED;
    }
    const rawType = head.header("content-type");
    const type = parseContentType(rawType);
    if (!type || (type.protocol === "grpc" && !head.http2)) {
      const reason = type
        ? "gRPC needs HTTP/2 (h2c prior knowledge); over HTTP/1.1 use application/json or application/proto"
        : `unsupported content type ${JSON.stringify(rawType ?? "")}`;
      const reply = connectError("internal", `${reason}; accepted: ${ACCEPTED_CONTENT_TYPES}`, 415);
      reply.headers["accept-post"] = ACCEPTED_CONTENT_TYPES;
      sink.send(reply);
      return FINISHED;
    }
    const contentType = type.responseType;
    const reject = (code: Code, message: string): Exchange => {
      sink.send(errorReply(type.protocol, contentType, code, message));
      return FINISHED;
    };
    const route = routeMethod(head.path, this.#extra);
    if (!route) {
      const path = head.path.split("?")[0];
      return reject("unimplemented", `unknown service or method ${JSON.stringify(path)}`);
    }
    const grpc = type.protocol === "grpc";
    const encoding = head.header(grpc ? "grpc-encoding" : "content-encoding");
    if (!isSupportedEncoding(encoding)) {
      const reply = errorReply(
        type.protocol,
        contentType,
        "unimplemented",
        "unsupported compression; accepted: gzip, identity",
      );
      reply.headers[grpc ? "grpc-accept-encoding" : "accept-encoding"] = "gzip";
      sink.send(reply);
      return FINISHED;
    }
    const context: CallContext = {
      type,
      route,
      gzipped: isGzip(encoding),
      gzipOk: acceptsGzip(head.header(grpc ? "grpc-accept-encoding" : "accept-encoding")),
    };
    if (route.kind === "extra") return this.#accept(head, sink, context, () => {});
    const { group, version } = this.#settings;
    const wantGroup = head.header("tri-service-group") ?? "";
    const wantVersion = head.header("tri-service-version") ?? "";
    if (wantGroup !== group || wantVersion !== version) {
      return reject(
        "unimplemented",
        `no implementation found for service group ${
          JSON.stringify(wantGroup)
        } and service version ${JSON.stringify(wantVersion)}`,
      );
    }
    const end = this.#settings.observer.start(this.#target);
    return this.#accept(head, sink, context, end);
  }

  #accept(head: RequestHead, sink: ReplySink, context: CallContext, observe: CallEnd): Exchange {
    const { protocol, responseType: contentType } = context.type;
    const limit = MAX_MESSAGE_BYTES + (protocol === "grpc" ? 5 : 0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    let done = false;
    let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
    let deadline: { at: number; ms: number } | undefined;
    let delayTimer: ReturnType<typeof setTimeout> | undefined;
    this.#inFlight++;

    const finish = (code: Code | null, reply: Reply | undefined) => {
      if (done) return;
      done = true;
      chunks.length = 0;
      clearTimeout(deadlineTimer);
      clearTimeout(delayTimer);
      if (reply) sink.send(reply);
      try {
        observe(code);
      } finally {
        this.#callEnded();
      }
    };
    const fail = (code: Code, message: string) =>
      finish(code, errorReply(protocol, contentType, code, message));

    const exchange: Exchange = {
      get done() {
        return done;
      },
      data: (chunk) => {
        if (done) return;
        size += chunk.length;
        if (size > limit) {
          fail("resource_exhausted", `message larger than ${MAX_MESSAGE_BYTES} bytes`);
          return;
        }
        chunks.push(chunk);
      },
      end: () => {
        if (done) return;
        const body = chunks.length === 1 ? chunks[0] : concat(chunks, size);
        chunks.length = 0;
        this.#handle(body, context, fail, finish, (timer) => {
          delayTimer = timer;
        });
      },
      // A caller that gives up as its deadline passes cancels a moment before our own timer
      // fires (its clock started first): count that as the timeout it is, like dubbo-go's
      // deadline_exceeded, and only an earlier cancel as canceled.
      abort: () => finish(deadlineSpent(deadline) ? "deadline_exceeded" : "canceled", undefined),
    };

    const timeout = readTimeout(head.header);
    if (!timeout.ok) {
      fail("invalid_argument", timeout.message);
      return exchange;
    }
    if (head.contentLength !== undefined && head.contentLength > limit) {
      fail("resource_exhausted", `message larger than ${MAX_MESSAGE_BYTES} bytes`);
      return exchange;
    }
    if (timeout.ms !== undefined) {
      const ms = timeout.ms;
      if (ms <= 0) {
        fail("deadline_exceeded", "deadline exceeded");
        return exchange;
      }
      deadline = { at: performance.now() + ms, ms };
      deadlineTimer = setTimeout(
        () => fail("deadline_exceeded", `deadline of ${ms}ms exceeded`),
        ms,
      );
    }
    return exchange;
  }

  #handle(
    body: Uint8Array,
    context: CallContext,
    fail: (code: Code, message: string) => void,
    finish: (code: Code | null, reply: Reply) => void,
    setDelayTimer: (timer: ReturnType<typeof setTimeout>) => void,
  ) {
    const { protocol, codec, responseType } = context.type;
    let message: Uint8Array;
    try {
      message = unwrapMessage(body, protocol, context.gzipped, MAX_MESSAGE_BYTES);
    } catch (error) {
      if (error instanceof RpcError) return fail(error.code, error.message);
      throw error;
    }
    const reply = (bytes: Uint8Array) =>
      finish(null, successReply(protocol, responseType, bytes, context.gzipOk));
    if (context.route.kind === "extra") {
      invokeUnary(context.route.method, message, codec).then(
        reply,
        (error: RpcError) => fail(error.code, error.message),
      );
      return;
    }
    let name: string;
    try {
      name = decodeGreetRequestName(message, codec);
    } catch (error) {
      return fail("invalid_argument", `cannot decode greet.GreetRequest: ${errorText(error)}`);
    }
    // The sample fails before its business delay.
    if (this.#random() < this.#settings.failureRate) return fail("unknown", "random error");
    const respond = () => reply(encodeGreetResponse(name, codec));
    const { delayMs } = this.#settings;
    if (delayMs > 0) setDelayTimer(setTimeout(respond, delayMs));
    else respond();
  }

  #callEnded() {
    this.#inFlight--;
    if (this.#inFlight === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
