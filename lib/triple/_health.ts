/**
 * `grpc.health.v1.Health`: `Check` (Kubernetes gRPC probes, grpc-health-probe) and
 * `Watch` (every dubbo-go consumer opens it on each provider). The provider is
 * SERVING while it serves and NOT_SERVING once {@linkcode HealthState.setServing}
 * turns it off, the first shutdown step, so traffic leaves before the port closes.
 *
 * The overall server (service `""`) and every service the provider serves share the one state; any other name is `not_found` for `Check` and
 * `SERVICE_UNKNOWN` for `Watch`, as the health protocol asks.
 *
 * @module
 */
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthCheckResponseSchema,
} from "../gen/grpc/health/v1/health_pb.ts";
import { create } from "@bufbuild/protobuf";
import { RpcError } from "./_errors.ts";
import type { StreamingMethod, UnaryMethod } from "./_method.ts";
import { streamingMethod, unaryMethod } from "./_protobuf.ts";

/** The health service's full name. */
export const HEALTH_SERVICE = "grpc.health.v1.Health";

/**
 * The serving flag shared by `Check` and `Watch`, with change listeners.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const state = new HealthState();
 * const seen: boolean[] = [];
 * state.subscribe(() => seen.push(state.serving));
 * state.setServing(false);
 * state.setServing(false); // no change, no call
 * assert.deepEqual(seen, [false]);
 * ```
 */
export class HealthState {
  #serving = true;
  #listeners = new Set<() => void>();

  /** Whether the provider currently reports SERVING. */
  get serving(): boolean {
    return this.#serving;
  }

  /** Switches SERVING/NOT_SERVING; open `Watch` calls are told at once. */
  setServing(serving: boolean): void {
    if (serving === this.#serving) return;
    this.#serving = serving;
    for (const listener of [...this.#listeners]) listener();
  }

  /** Calls `listener` on every change until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * `Check` and `Watch` over `state`; `services` are the names that report its status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { invokeUnary } from "./_method.ts";
 * const state = new HealthState();
 * const { check } = healthMethods(state, ["pkg.Service"]);
 * const context = { signal: new AbortController().signal };
 * const ask = () =>
 *   new Promise<string>((answer, fail) =>
 *     invokeUnary(check, new TextEncoder().encode('{"service":"pkg.Service"}'), "json", context, {
 *       reply: (bytes) => answer(new TextDecoder().decode(bytes)),
 *       fail,
 *     })
 *   );
 * assert.equal(await ask(), '{"status":"SERVING"}');
 * state.setServing(false);
 * assert.equal(await ask(), '{"status":"NOT_SERVING"}');
 * ```
 */
export function healthMethods(
  state: HealthState,
  services: readonly string[],
): { check: UnaryMethod; watch: StreamingMethod } {
  const known = new Set(["", ...services]);
  const statusOf = (service: string) =>
    !known.has(service)
      ? ServingStatus.SERVICE_UNKNOWN
      : state.serving
      ? ServingStatus.SERVING
      : ServingStatus.NOT_SERVING;
  const check = unaryMethod({
    service: HEALTH_SERVICE,
    method: "Check",
    input: HealthCheckRequestSchema,
    output: HealthCheckResponseSchema,
    handler(request) {
      if (!known.has(request.service)) {
        throw new RpcError("not_found", `unknown service ${JSON.stringify(request.service)}`);
      }
      return create(HealthCheckResponseSchema, { status: statusOf(request.service) });
    },
  });
  const watch = streamingMethod({
    service: HEALTH_SERVICE,
    method: "Watch",
    input: HealthCheckRequestSchema,
    output: HealthCheckResponseSchema,
    open(call) {
      let unsubscribe: (() => void) | undefined;
      return {
        message(request) {
          if (unsubscribe) return; // one request per Watch
          let last: ServingStatus | undefined;
          const report = () => {
            const status = statusOf(request.service);
            if (status === last) return;
            last = status;
            call.send(create(HealthCheckResponseSchema, { status }));
          };
          unsubscribe = state.subscribe(report);
          report();
        },
        end() {},
        closed() {
          unsubscribe?.();
        },
      };
    },
  });
  return { check, watch };
}
