/**
 * Exporting the metrics: pull (a scrape endpoint, always on) and push (to a Prometheus
 * Pushgateway, unless disabled).
 *
 * {@linkcode startExporters} starts both from a program's config; `serveMetrics` and
 * `startPusher` are the two halves.
 *
 * @module
 */
export {
  type ScrapeEndpoint,
  type ScrapeOptions,
  serveMetrics,
  wantsOpenMetrics,
} from "./scrape.ts";
export { type Pusher, type PusherOptions, startPusher } from "./push.ts";
export { type Exporters, startExporters } from "./start.ts";
