/**
 * The sample's application: the Greet service (`greet.GreetService/Greet`) as an ordinary
 * Triple method spec, served by the provider with the sample's failure rate and delay, and
 * the consumer's call loop that calls it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createClient, serveProvider } from "../triple/mod.ts";
 * import { GREET, greetService } from "./mod.ts";
 * const provider = await serveProvider({
 *   hostname: "127.0.0.1", port: 0, services: [greetService({ failureRate: 0, delayMs: 0 })],
 * });
 * const client = createClient({ timeoutMs: 3000, serialization: "protobuf" });
 * assert.equal(await client.call(GREET, { host: "127.0.0.1", port: provider.port }, "Dubbo"), "Dubbo");
 * client.close();
 * await provider.close();
 * ```
 *
 * @module
 */
export {
  decodeGreetRequest,
  decodeGreetResponse,
  encodeGreetRequest,
  encodeGreetResponse,
  GREET,
  type GreetBehaviour,
  greetService,
} from "./_service.ts";
export {
  type CallLoopOptions,
  type CallStats,
  DEFAULT_SUMMARY_INTERVAL_MS,
  NO_PROVIDER_MESSAGE,
  runCallLoop,
} from "./_call_loop.ts";
export { GreetRequestSchema, GreetResponseSchema, GreetService } from "../gen/greet/greet_pb.ts";
