/**
 * Exporting the metrics: pull (a scrape endpoint, always on) and push (to a Prometheus
 * Pushgateway, unless disabled).
 *
 * @example
 * ```ts
 * const endpoint = await serveMetrics({ hostname: "0.0.0.0", port: 9099, path: "/prometheus", metrics });
 * const pusher = startPusher({ pushgateway, instance: `${ip}:${endpoint.port}`, intervalMs: 10_000, metrics });
 * // shutdown:
 * await pusher.stop();
 * await endpoint.close();
 * ```
 *
 * @module
 */
export {
  handleScrape,
  type ScrapeEndpoint,
  type ScrapeOptions,
  serveMetrics,
  wantsOpenMetrics,
} from "./scrape.ts";
export { type Pusher, type PusherOptions, startPusher } from "./push.ts";
export { type Exporters, startExporters } from "./start.ts";
