/**
 * Triple RPC for the greet sample: a provider serving HTTP/1.1 and h2c on one port
 * (Triple/Connect unary and gRPC), a consumer, and the client's call loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createConsumer, serveProvider } from "./mod.ts";
 * const provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 0, failureRate: 0, delayMs: 0,
 * });
 * const consumer = createConsumer({ timeoutMs: 3000, serialization: "protobuf" });
 * assert.equal(await consumer.greet({ host: "127.0.0.1", port: provider.port }, "Dubbo"), "Dubbo");
 * consumer.close();
 * await provider.close();
 * ```
 *
 * @module
 */
export { GREET_METHOD, GREET_PATH, GREET_SERVICE, GREET_TARGET, GreetService } from "./greet.ts";
export { type Code, CODES, RpcError } from "./errors.ts";
export { MAX_MESSAGE_BYTES } from "./_call.ts";
export {
  DEFAULT_GRACE_MS,
  type Provider,
  type ProviderOptions,
  serveProvider,
} from "./provider.ts";
export {
  type Consumer,
  type ConsumerOptions,
  createConsumer,
  type Endpoint,
  endpointKey,
  TRI_PROTOCOL_VERSION,
} from "./consumer.ts";
export { pathOf, type UnaryMethod, unaryMethod } from "./methods.ts";
export { HEALTH_SERVICE } from "./health.ts";
export {
  type CallLoopOptions,
  type CallStats,
  DEFAULT_SUMMARY_INTERVAL_MS,
  NO_PROVIDER_MESSAGE,
  runCallLoop,
} from "./call_loop.ts";
