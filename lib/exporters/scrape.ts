/**
 * The pull side: `GET <path>` on the metrics port answers the Prometheus text format,
 * or OpenMetrics when the `Accept` header asks for it. Served in push mode too.
 *
 * @module
 */
import type { DubboMetrics } from "../metrics/mod.ts";
import { errorText } from "../error_text.ts";

/** A running scrape endpoint. */
export interface ScrapeEndpoint {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stops listening and waits for in-flight scrapes. */
  close(): Promise<void>;
}

/** Where to serve and what. */
export interface ScrapeOptions {
  /** Address to bind, e.g. `0.0.0.0` or `127.0.0.1`. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Path, e.g. `/prometheus`. */
  path: string;
  metrics: DubboMetrics;
}

/** True when `accept` prefers OpenMetrics (present with a non-zero q-value). */
export function wantsOpenMetrics(accept: string | null): boolean {
  if (!accept) return false;
  for (const part of accept.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "application/openmetrics-text") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** Answers one request for the scrape endpoint. */
async function handleScrape(
  request: Request,
  path: string,
  metrics: DubboMetrics,
): Promise<Response> {
  const pathname = new URL(request.url).pathname;
  if (pathname !== path) {
    return new Response(`not found; metrics are at ${path}\n`, {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed; use GET\n", {
      status: 405,
      headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
    });
  }
  try {
    const { body, contentType } = await metrics.render(
      wantsOpenMetrics(request.headers.get("accept")),
    );
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": contentType },
    });
  } catch (error) {
    return new Response(`cannot render metrics: ${errorText(error)}\n`, {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}

/**
 * Serves the metrics at `path`; everything else is 404, other methods 405.
 * Throws a clear `Error` when the port cannot be bound (busy or not permitted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMetrics } from "../metrics/mod.ts";
 * const metrics = createMetrics({
 *   side: "provider", app: "a", appVersion: "1", hostname: "h", ip: "127.0.0.1", services: [],
 * });
 * const endpoint = await serveMetrics({ hostname: "127.0.0.1", port: 0, path: "/prometheus", metrics });
 * const response = await fetch(`http://127.0.0.1:${endpoint.port}/prometheus`);
 * assert.match(await response.text(), /^dubbo_application_info_total\{/m);
 * await endpoint.close();
 * ```
 */
export function serveMetrics(options: ScrapeOptions): Promise<ScrapeEndpoint> {
  const { hostname, port, path, metrics } = options;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port, onListen: () => {} },
      (request) => handleScrape(request, path, metrics),
    );
  } catch (error) {
    const where = `${hostname}:${port}`;
    const message = error instanceof Deno.errors.AddrInUse
      ? `metrics port ${where} is already in use (choose another --metrics-port)`
      : `cannot serve metrics on ${where}: ${errorText(error)}`;
    return Promise.reject(new Error(message));
  }
  let closing: Promise<void> | undefined;
  return Promise.resolve({
    port: server.addr.port,
    close: () => closing ??= server.shutdown(),
  });
}
