/**
 * The metrics the metrics benches measure: `methods` registered targets of a provider,
 * each with 20 recorded calls (1 in 7 failing) so that windows and quantiles have work.
 *
 * @module
 */
import type { CallTarget } from "../lib/observe.ts";
import { createMetrics, type DubboMetrics, type PromClientRegistry } from "../lib/metrics/mod.ts";

/** `count` targets: 10 methods per interface. */
export function benchTargets(count: number): CallTarget[] {
  return Array.from({ length: count }, (_, i) => ({
    interface: `bench.Service${Math.floor(i / 10)}`,
    method: `Method${i % 10}`,
    group: "",
    version: "",
  }));
}

/** A provider's metrics with `methods` targets, each recorded 20 times. */
export function recordedMetrics(
  methods: number,
  registries: PromClientRegistry[] = [],
): DubboMetrics {
  const metrics = createMetrics({
    side: "provider",
    app: "bench",
    appVersion: "1.0.0",
    hostname: "bench-host",
    ip: "10.0.0.1",
    services: benchTargets(methods),
    registries,
  });
  for (const target of metrics.targets) {
    for (let i = 0; i < 20; i++) metrics.calls.start(target)(i % 7 === 0 ? "unknown" : null);
  }
  return metrics;
}
