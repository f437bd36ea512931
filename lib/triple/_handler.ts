/**
 * The Triple handler, transport-independent: given one request's head, it decides (reject
 * at once, or accept and read the body), routes by path to a method spec, runs it with its
 * deadline and cancellation signal, and produces exactly one reply (whole, or streamed for
 * streaming methods where the transport can stream). HTTP/1.1 and HTTP/2 servers feed it.
 *
 * Which methods are the application's services (observed by the metrics, routed by group and
 * version) and which are the provider's own (health, reflection, metadata) is what it is
 * given; it knows no method by name.
 *
 * @module
 */
import {
  ANSWERED,
  type Exchange,
  type Handler,
  type ReplySink,
  type RequestHead,
} from "../net/mod.ts";
import type { CallEnd, CallObserver, CallTarget } from "../observe.ts";
import type { Code } from "./_errors.ts";
import { acceptsGzip, isGzip, isSupportedEncoding } from "./_compression.ts";
import { connectError, errorReply } from "./_replies.ts";
import { ACCEPTED_CONTENT_TYPES, parseContentType } from "./_content_type.ts";
import {
  callTarget,
  type Method,
  pathOf,
  pathsOf,
  type StreamCall,
  type StreamingMethod,
  type UnaryMethod,
} from "./_method.ts";
import { serveStreaming } from "./_streaming.ts";
import { type CallInfo, UnaryCall } from "./_unary_call.ts";

/**
 * What a {@linkcode TripleHandler} serves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NO_CALLS } from "../observe.ts";
 * const options: TripleHandlerOptions = { services: [], internal: [], group: "", version: "", observer: NO_CALLS };
 * assert.equal(new TripleHandler(options).inFlight(), 0);
 * ```
 */
export interface TripleHandlerOptions {
  /**
   * The application's unary methods: each call is observed (target: the spec's service and
   * method, with `group` and `version`), and a request for another group or version is
   * `unimplemented`.
   */
  services: readonly UnaryMethod[];
  /** The provider's own methods (health, reflection, metadata): not observed, any group. */
  internal: readonly Method[];
  /** Service group the services are exported with. */
  group: string;
  /** Service version the services are exported with. */
  version: string;
  /** Records every call to a service. */
  observer: CallObserver;
}

/** A unary method the handler routes to, and what its calls are observed as (services only). */
interface Route {
  method: UnaryMethod;
  target: CallTarget | undefined;
}

/** The observation of a call nobody observes. */
const NOT_OBSERVED: CallEnd = () => {};

function bare(path: string): string {
  const query = path.indexOf("?");
  return query < 0 ? path : path.slice(0, query);
}

/**
 * The provider's request handler; see the module doc. Every accepted call to a service is
 * observed exactly once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { NO_CALLS } from "../observe.ts";
 * import { unaryMethod } from "./_protobuf.ts";
 * import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "../gen/grpc/health/v1/health_pb.ts";
 * const check = unaryMethod({
 *   service: "grpc.health.v1.Health", method: "Check",
 *   input: HealthCheckRequestSchema, output: HealthCheckResponseSchema,
 *   handler: () => create(HealthCheckResponseSchema, { status: 1 }),
 * });
 * const handler = new TripleHandler({ services: [check], internal: [], group: "", version: "", observer: NO_CALLS });
 * const replies: { status: number; body: Uint8Array }[] = [];
 * const exchange = handler.open({
 *   method: "POST", path: "/grpc.health.v1.Health/check", http2: false, contentLength: undefined,
 *   header: (name) => name === "content-type" ? "application/json" : undefined,
 * }, { send: (reply) => replies.push(reply) });
 * exchange.data(new TextEncoder().encode("{}"));
 * exchange.end();
 * await handler.idle();
 * assert.equal(new TextDecoder().decode(replies[0].body), '{"status":"SERVING"}');
 * ```
 */
export class TripleHandler implements Handler {
  #options: TripleHandlerOptions;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #unary = new Map<string, Route>();
  #streaming = new Map<string, StreamingMethod>();
  #streamCalls = new Set<StreamCall>();
  #streamsEnded = false;

  /** A handler for the methods of `options`. */
  constructor(options: TripleHandlerOptions) {
    this.#options = options;
    const { group, version } = options;
    for (const method of options.services) {
      const target = callTarget(method, group, version);
      for (const path of pathsOf(method)) this.#unary.set(path, { method, target });
    }
    for (const method of options.internal) {
      if (method.kind === "streaming") this.#streaming.set(pathOf(method), method);
      else for (const path of pathsOf(method)) this.#unary.set(path, { method, target: undefined });
    }
  }

  /** Accepted unary calls that have not been answered yet. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when no unary call is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Ends every open streaming call with `unavailable` and `message` (their last frames still
   * reach the clients), and refuses new ones: the shutdown step after NOT_SERVING.
   */
  endStreams(message: string): void {
    this.#streamsEnded = true;
    for (const call of this.#streamCalls) call.end("unavailable", message);
  }

  /** Starts one exchange; see lib/net's `Exchange`. */
  open(head: RequestHead, sink: ReplySink): Exchange {
    if (head.method !== "POST") {
      const reply = connectError(
        "unimplemented",
        `HTTP method ${head.method} is not allowed; use POST`,
        405,
      );
      reply.headers["allow"] = "POST";
      sink.send(reply);
      return ANSWERED;
    }
    const streaming = sink.stream && this.#streaming.get(head.path);
    if (streaming) return this.#openStreaming(streaming, head, sink.stream!);
    const rawType = head.header("content-type");
    const type = parseContentType(rawType);
    if (!type || (type.protocol === "grpc" && !head.http2)) {
      const reason = type
        ? "gRPC needs HTTP/2 (h2c prior knowledge); over HTTP/1.1 use application/json or application/proto"
        : `unsupported content type ${JSON.stringify(rawType ?? "")}`;
      const reply = connectError("internal", `${reason}; accepted: ${ACCEPTED_CONTENT_TYPES}`, 415);
      reply.headers["accept-post"] = ACCEPTED_CONTENT_TYPES;
      sink.send(reply);
      return ANSWERED;
    }
    const reject = (code: Code, message: string, headers: Record<string, string> = {}) => {
      const reply = errorReply(type.protocol, type.responseType, code, message);
      Object.assign(reply.headers, headers);
      sink.send(reply);
      return ANSWERED;
    };
    const route = this.#unary.get(bare(head.path));
    if (!route) {
      return reject(
        "unimplemented",
        `unknown service or method ${JSON.stringify(bare(head.path))}`,
      );
    }
    const grpc = type.protocol === "grpc";
    const encoding = head.header(grpc ? "grpc-encoding" : "content-encoding");
    if (!isSupportedEncoding(encoding)) {
      return reject("unimplemented", "unsupported compression; accepted: gzip, identity", {
        [grpc ? "grpc-accept-encoding" : "accept-encoding"]: "gzip",
      });
    }
    const info: CallInfo = {
      type,
      method: route.method,
      gzipped: isGzip(encoding),
      gzipOk: acceptsGzip(head.header(grpc ? "grpc-accept-encoding" : "accept-encoding")),
    };
    if (!route.target) return this.#accept(head, sink, info, NOT_OBSERVED);
    const { group, version } = this.#options;
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
    return this.#accept(head, sink, info, this.#options.observer.start(route.target));
  }

  #openStreaming(
    method: StreamingMethod,
    head: RequestHead,
    stream: NonNullable<ReplySink["stream"]>,
  ): Exchange {
    if (this.#streamsEnded) {
      stream({ status: 200, headers: { "content-type": "application/grpc+proto" } })
        .end({ "grpc-status": "14" });
      return ANSWERED;
    }
    const served = serveStreaming(
      method,
      head,
      stream,
      () => this.#streamCalls.delete(served.call),
    );
    if (!served.call.ended) this.#streamCalls.add(served.call);
    return served.exchange;
  }

  #accept(head: RequestHead, sink: ReplySink, info: CallInfo, observe: CallEnd): Exchange {
    this.#inFlight++;
    return new UnaryCall(head, sink, info, observe, this.#callEnded);
  }

  /** One accepted call has ended (bound: passed to every call). */
  #callEnded = () => {
    this.#inFlight--;
    if (this.#inFlight === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  };
}
