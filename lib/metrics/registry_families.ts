/**
 * Metrics of application-level discovery, named as dubbo-go 3.3 names them
 * (`metrics/registry/metric_set.go`, `metrics/metadata/metric_set.go`):
 * service-level register (instance + mapping), service-level subscribe, and metadata
 * fetches, each with since-start response-time gauges. Kept apart from `mod.ts` so the
 * family table there stays one hook: `appRegistryFamilies(stats)` lists the families,
 * `appRegistryEvents(stats)` the observer methods that feed them.
 *
 * @module
 */
import type { RegistryObserver } from "../observe.ts";
import { RtStats } from "./_registry_stats.ts";
import type { FamilyType, Labels } from "./_family.ts";

/** Counts of one operation kind. */
class Outcomes {
  total = 0;
  succeed = 0;
  failed = 0;
  readonly rt = new RtStats();

  record(ok: boolean, ms: number): void {
    this.total++;
    if (ok) this.succeed++;
    else this.failed++;
    if (Number.isFinite(ms) && ms >= 0) this.rt.observe(ms);
  }
}

/** What the application-level registry observer records. */
export class AppRegistryStats {
  readonly registerService = new Outcomes();
  readonly subscribeService = new Outcomes();
  readonly metadataSubscribe = new Outcomes();
}

/** One family with a single series (the application info labels). */
export interface FamilySpec {
  name: string;
  help: string;
  type: FamilyType;
  value: () => number;
  /** Labels besides the application info labels (dubbo-go labels some families by `interface`). */
  labels?: Labels;
}

/** The observer methods feeding `stats` (merged into the registry observer). */
export function appRegistryEvents(
  stats: AppRegistryStats,
): Required<Pick<RegistryObserver, "registerService" | "subscribeService" | "metadataSubscribe">> {
  return {
    registerService: (ok, ms) => stats.registerService.record(ok, ms),
    subscribeService: (ok, ms) => stats.subscribeService.record(ok, ms),
    metadataSubscribe: (ok, ms) => stats.metadataSubscribe.record(ok, ms),
  };
}

const RT_LABELS = ["Sum", "Last", "Min", "Max", "Average"];

/**
 * Every family of application-level discovery, read from `stats` at collect time.
 * `serviceInterface` labels the service-level subscribe times, as dubbo-go does.
 */
export function appRegistryFamilies(
  stats: AppRegistryStats,
  serviceInterface = "greet.GreetService",
): FamilySpec[] {
  const specs: FamilySpec[] = [];
  const counters = (prefix: string, what: string, o: Outcomes) => {
    specs.push(
      { name: `${prefix}_total`, help: `Total ${what}`, type: "counter", value: () => o.total },
      {
        name: `${prefix}_succeed_total`,
        help: `Succeed ${what}`,
        type: "counter",
        value: () => o.succeed,
      },
      {
        name: `${prefix}_failed_total`,
        help: `Failed ${what}`,
        type: "counter",
        value: () => o.failed,
      },
    );
  };
  const rt = (prefix: string, what: string, o: Outcomes, labels?: Labels) => {
    o.rt.values().forEach(([suffix], index) =>
      specs.push({
        name: `${prefix}_${suffix}`,
        help: `${RT_LABELS[index]} ${what} time in milliseconds`,
        type: "gauge",
        value: () => o.rt.values()[index][1],
        labels,
      })
    );
  };
  counters(
    "dubbo_registry_register_service",
    "Service-Level Register Requests",
    stats.registerService,
  );
  rt("dubbo_register_service_rt_milliseconds", "service-level register", stats.registerService);
  counters(
    "dubbo_registry_subscribe_service_num",
    "Service-Level Subscribe Num",
    stats.subscribeService,
  );
  rt("dubbo_subscribe_service_rt_milliseconds", "service-level subscribe", stats.subscribeService, {
    interface: serviceInterface,
  });
  counters("dubbo_metadata_subscribe_num", "Metadata Subscribe Num", stats.metadataSubscribe);
  rt("dubbo_subscribe_rt_milliseconds", "metadata subscribe", stats.metadataSubscribe);
  return specs;
}
