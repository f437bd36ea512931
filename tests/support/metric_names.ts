/**
 * The metric families our server and client export, written out by hand (names and
 * types as dubbo-go exports them) so tests pin them independently of lib/metrics.
 *
 * @module
 */

/** A Prometheus metric type. */
export type MetricType = "counter" | "gauge" | "histogram";

const RT_SINCE_START = ["sum", "last", "min", "max", "avg"];

/** The per-method call counters of one side, without the `dubbo_<side>_` prefix. */
export const CALL_COUNTERS: readonly string[] = [
  "requests_total",
  "requests_succeed_total",
  "requests_failed_total",
  "requests_timeout_total",
  "requests_limit_total",
  "requests_failed_service_unavailable_total",
  "requests_business_failed_total",
  "requests_unknown_failed_total",
];

/** The per-method families of one side, with their types. */
export function rpcFamilies(side: "provider" | "consumer"): Record<string, MetricType> {
  const families: Record<string, MetricType> = {};
  for (const counter of CALL_COUNTERS) {
    families[`dubbo_${side}_${counter}`] = "counter";
    families[`dubbo_${side}_${counter}_aggregate`] = "gauge";
  }
  families[`dubbo_${side}_requests_processing_total`] = "gauge";
  families[`dubbo_${side}_qps_total`] = "gauge";
  for (const suffix of [...RT_SINCE_START, "p50", "p90", "p95", "p99"]) {
    families[`dubbo_${side}_rt_milliseconds_${suffix}`] = "gauge";
  }
  for (const stat of ["avg", "min", "max"]) {
    families[`dubbo_${side}_rt_${stat}_milliseconds_aggregate`] = "gauge";
  }
  families[`dubbo_${side}_rt_seconds`] = "histogram";
  return families;
}

/** The registry families (dubbo-go's registry collector), with their types. */
export const REGISTRY_FAMILIES: Readonly<Record<string, MetricType>> = {
  dubbo_registry_register_requests_total: "counter",
  dubbo_registry_register_requests_succeed_total: "counter",
  dubbo_registry_register_requests_failed_total: "counter",
  dubbo_registry_subscribe_num_total: "counter",
  dubbo_registry_subscribe_num_succeed_total: "counter",
  dubbo_registry_subscribe_num_failed_total: "counter",
  dubbo_registry_notify_requests_total: "counter",
  dubbo_registry_notify_num_last: "gauge",
  ...Object.fromEntries(
    RT_SINCE_START.flatMap((s) => [
      [`dubbo_register_rt_milliseconds_${s}`, "gauge"],
      [`dubbo_notify_rt_milliseconds_${s}`, "gauge"],
    ]),
  ),
};

/** Application-level discovery families (dubbo-go 3.3's registry and metadata sets). */
export const APP_REGISTRY_FAMILIES: Readonly<Record<string, MetricType>> = Object.fromEntries([
  ...[
    "dubbo_registry_register_service",
    "dubbo_registry_subscribe_service_num",
    "dubbo_metadata_subscribe_num",
  ].flatMap((prefix) =>
    ["total", "succeed_total", "failed_total"].map((s) => [`${prefix}_${s}`, "counter"])
  ),
  ...[
    "dubbo_register_service_rt_milliseconds",
    "dubbo_subscribe_service_rt_milliseconds",
    "dubbo_subscribe_rt_milliseconds",
  ].flatMap((prefix) => RT_SINCE_START.map((s) => [`${prefix}_${s}`, "gauge"])),
]);

/** Families every program has besides the RPC and registry ones. */
export const PROGRAM_FAMILIES: Readonly<Record<string, MetricType>> = {
  dubbo_application_info_total: "counter",
  job_pushed_at_seconds: "gauge",
  dubbo_metrics_push_failed_total: "counter",
  process_start_time_seconds: "gauge",
  process_resident_memory_bytes: "gauge",
};

/** lib/metrics/process.ts: the runtime families (prom-client's names, plus deno_version_info). */
export const RUNTIME_FAMILIES: Readonly<Record<string, MetricType>> = {
  ...Object.fromEntries(
    ["user_", "system_", ""].map((part) => [`process_cpu_${part}seconds_total`, "counter"]),
  ),
  ...Object.fromEntries(
    [
      ...["heap_size_total", "heap_size_used", "external_memory"].map((n) => `nodejs_${n}_bytes`),
      ...["total", "used", "available"].map((n) => `nodejs_heap_space_size_${n}_bytes`),
      ...["", "_min", "_max", "_mean", "_stddev", "_p50", "_p90", "_p99"].map((part) =>
        `nodejs_eventloop_lag${part}_seconds`
      ),
      "nodejs_version_info",
      "deno_version_info",
    ].map((name) => [name, "gauge"]),
  ),
  nodejs_gc_duration_seconds: "histogram",
};

/** Every series name our server and client export (histograms as their three series). */
export const EXPORTED_METRICS: ReadonlySet<string> = new Set(
  Object.entries({
    ...rpcFamilies("provider"),
    ...rpcFamilies("consumer"),
    ...REGISTRY_FAMILIES,
    ...APP_REGISTRY_FAMILIES,
    ...PROGRAM_FAMILIES,
    ...RUNTIME_FAMILIES,
  }).flatMap(([name, type]) =>
    type === "histogram" ? ["bucket", "sum", "count"].map((s) => `${name}_${s}`) : [name]
  ),
);
