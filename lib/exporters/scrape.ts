/**
 * The pull side: `GET <path>` on the metrics port answers the Prometheus text format,
 * or OpenMetrics when the `Accept` header asks for it. Served in push mode too.
 *
 * @module
 */
import type { DubboMetrics } from "../metrics/mod.ts";
import { errorText } from "../error_text.ts";
import { ANSWERED } from "../net/mod.ts";
import type { Exchange, Handler, Reply, ReplySink, RequestHead } from "../net/mod.ts";
import { type Http1Server, serveHttp1 } from "../http1/mod.ts";

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

/**
 * True when `accept` prefers OpenMetrics (present with a non-zero q-value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(wantsOpenMetrics("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"), true);
 * assert.equal(wantsOpenMetrics("application/openmetrics-text;q=0"), false);
 * assert.equal(wantsOpenMetrics(null), false);
 * ```
 */
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

/** Connections the scrape port holds at once (Prometheus needs one or two). */
const MAX_SCRAPE_CONNECTIONS = 1024;

const TEXT = "text/plain; charset=utf-8";
const encoder = new TextEncoder();

function textReply(status: number, text: string, extra: Record<string, string> = {}): Reply {
  return { status, headers: { "content-type": TEXT, ...extra }, body: encoder.encode(text) };
}

/** The scrape endpoint's request handler: no request value reaches a response head. */
function scrapeHandler(path: string, metrics: DubboMetrics): Handler {
  return {
    open(head: RequestHead, sink: ReplySink): Exchange {
      const query = head.path.indexOf("?");
      const pathname = query < 0 ? head.path : head.path.slice(0, query);
      if (pathname !== path) {
        sink.send(textReply(404, `not found; metrics are at ${path}\n`));
        return ANSWERED;
      }
      if (head.method !== "GET" && head.method !== "HEAD") {
        sink.send(textReply(405, "method not allowed; use GET\n", { allow: "GET, HEAD" }));
        return ANSWERED;
      }
      let done = false;
      metrics.render(wantsOpenMetrics(head.header("accept") ?? null)).then(
        ({ body, contentType }) => {
          if (done) return;
          done = true;
          sink.send({
            status: 200,
            headers: { "content-type": contentType },
            body: encoder.encode(body),
          });
        },
        (error) => {
          if (done) return;
          done = true;
          sink.send(textReply(500, `cannot render metrics: ${errorText(error)}\n`));
        },
      );
      return {
        get done() {
          return done;
        },
        data() {},
        end() {},
        abort() {
          done = true;
        },
      };
    },
  };
}

/**
 * Serves the metrics at `path`; everything else is 404, other methods 405. Runs on the
 * provider's hardened HTTP/1.1 server (deadlines, limits, fd back-off: README "Limits and
 * hardening"). Throws a clear `Error` when the port cannot be bound (busy or not permitted).
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
  let server: Http1Server;
  try {
    server = serveHttp1({
      hostname,
      port,
      handler: scrapeHandler(path, metrics),
      maxConnections: MAX_SCRAPE_CONNECTIONS,
      label: "metrics",
    });
  } catch (error) {
    const where = `${hostname}:${port}`;
    const message = error instanceof Deno.errors.AddrInUse
      ? `metrics port ${where} is already in use (choose another --metrics-port)`
      : `cannot serve metrics on ${where}: ${errorText(error)}`;
    return Promise.reject(new Error(message));
  }
  return Promise.resolve({
    port: server.port,
    close: () => server.close(),
  });
}
