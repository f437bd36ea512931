/**
 * Our provider on an ephemeral loopback port for RPC tests, serving Greet (failure 0, delay
 * 0 unless overridden), closed when the test body ends, also when it fails.
 *
 * @module
 */
import type { Endpoint } from "../../lib/endpoint.ts";
import { type Provider, type ProviderOptions, serveProvider } from "../../lib/triple/mod.ts";
import { type GreetBehaviour, greetService } from "../../lib/greet/mod.ts";

/** Any provider option, and how Greet behaves. */
export type TestProviderOptions =
  & Partial<Omit<ProviderOptions, "services">>
  & Partial<GreetBehaviour>;

/** Runs `body` against a fresh provider, then closes it. */
export async function withProvider(
  options: TestProviderOptions,
  body: (provider: Provider, endpoint: Endpoint) => Promise<void>,
): Promise<void> {
  const { failureRate = 0, delayMs = 0, random, ...rest } = options;
  const provider = await serveProvider({
    hostname: "127.0.0.1",
    port: 0,
    services: [greetService({ failureRate, delayMs, random })],
    ...rest,
  });
  try {
    await body(provider, { host: "127.0.0.1", port: provider.port });
  } finally {
    await provider.close(1000);
  }
}
