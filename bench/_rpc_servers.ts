/**
 * One server under test for bench/rpc_bench.ts, run in its own process so the load
 * generator never shares an event loop, heap or JIT with it.
 *
 * Usage: `deno run -A bench/_rpc_servers.ts <kind> [port]` where kind is
 * - `bare`: a bare `Deno.serve` JSON echo (the baseline),
 * - `provider`: our provider whose observer can be switched at run time between the
 *   no-op observer (metrics off) and lib/metrics recording every call (metrics on).
 *   Switching inside one process compares on and off on the same heap, code and
 *   sockets: separate but identical provider processes differed by up to ±5 % on
 *   this machine, as much as the effect being measured.
 *
 * Prints one JSON line `{"kind":…,"port":…}`. Then reads commands from stdin, one per
 * line: `noop` or `metrics` switch the observer and answer `ok`; end of stdin stops.
 *
 * @module
 */
import type { CallObserver } from "../lib/observe.ts";
import { NO_CALLS } from "../lib/observe.ts";
import { callTarget, serveProvider } from "../lib/triple/mod.ts";
import { GREET, greetService } from "../lib/greet/mod.ts";
import { createMetrics } from "../lib/metrics/mod.ts";

/** The server kinds this script can start. */
export const SERVER_KINDS = ["bare", "provider"] as const;
/** One server kind. */
export type ServerKind = typeof SERVER_KINDS[number];
/** The observers the `provider` kind switches between. */
export const OBSERVERS = ["noop", "metrics"] as const;
/** One observer name. */
export type ObserverName = typeof OBSERVERS[number];

/** A running server. */
interface Running {
  port: number;
  /** Switches the observer (provider only). */
  use(observer: ObserverName): void;
  stop(): Promise<void>;
}

/** Starts one server; resolves once it listens. */
async function start(kind: ServerKind, port: number): Promise<Running> {
  if (kind === "bare") {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen() {} },
      async (request) => {
        const { name } = await request.json();
        return Response.json({ greeting: name });
      },
    );
    return {
      port: server.addr.port,
      use() {
        throw new Error("the bare server has no observer");
      },
      stop: () => server.shutdown(),
    };
  }
  const observers: Record<ObserverName, CallObserver> = {
    noop: NO_CALLS,
    metrics: createMetrics({
      side: "provider",
      app: "bench",
      appVersion: "1.0.0",
      hostname: "bench-host",
      ip: "127.0.0.1",
      services: [callTarget(GREET)],
    }).calls,
  };
  let active = observers.noop;
  const provider = await serveProvider({
    hostname: "127.0.0.1",
    port,
    services: [greetService({ failureRate: 0, delayMs: 0 })],
    observer: { start: (target) => active.start(target) },
  });
  return {
    port: provider.port,
    use(observer) {
      active = observers[observer];
    },
    stop: () => provider.close(100),
  };
}

if (import.meta.main) {
  const [kind, portArg = "0"] = Deno.args;
  if (!(SERVER_KINDS as readonly string[]).includes(kind)) {
    console.error(`usage: _rpc_servers.ts <${SERVER_KINDS.join("|")}> [port]`);
    Deno.exit(2);
  }
  const server = await start(kind as ServerKind, Number(portArg));
  console.log(JSON.stringify({ kind, port: server.port }));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const command = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!(OBSERVERS as readonly string[]).includes(command)) {
        console.error(`_rpc_servers.ts: unknown command ${JSON.stringify(command)}`);
        Deno.exit(2);
      }
      server.use(command as ObserverName);
      console.log("ok");
    }
  }
  await server.stop();
}
