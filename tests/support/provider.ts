/**
 * Our provider on an ephemeral loopback port for RPC tests (failure 0, delay 0 unless
 * overridden), closed when the test body ends, also when it fails.
 *
 * @module
 */
import {
  type Endpoint,
  type Provider,
  type ProviderOptions,
  serveProvider,
} from "../../lib/rpc/mod.ts";

/** Runs `body` against a fresh provider, then closes it. */
export async function withProvider(
  options: Partial<ProviderOptions>,
  body: (provider: Provider, endpoint: Endpoint) => Promise<void>,
): Promise<void> {
  const provider = await serveProvider({
    hostname: "127.0.0.1",
    port: 0,
    failureRate: 0,
    delayMs: 0,
    ...options,
  });
  try {
    await body(provider, { host: "127.0.0.1", port: provider.port });
  } finally {
    await provider.close(1000);
  }
}
