/**
 * Users' own metrics: prom-client `Registry` objects given to the program are rendered
 * beside Dubbo's families, on the same scrape endpoint and in the same push.
 *
 * Their metrics are read with `getMetricsAsJSON()` and written by our own writer, in
 * whichever format the scrape asked for. prom-client's own render is never called: its
 * OpenMetrics render renames a counter in place (`orders_total` becomes `orders` for every
 * later render), so output would depend on the order of scrapes. A counter is therefore
 * exposed the way OpenMetrics names it, whatever prom-client currently calls it: family
 * `<base>` in OpenMetrics, samples `<base>_total` in both formats, where `<base>` is the
 * name without `_total`.
 *
 * prom-client itself is not imported here: a program that passes no registry never
 * downloads it.
 *
 * @module
 */
import { type Family, type FamilyType, seriesText } from "./exposition.ts";

/**
 * One metric as prom-client's `Registry.getMetricsAsJSON()` returns it (prom-client 15).
 *
 * @example
 * ```ts no-assert
 * // A prom-client counter with one label set, as the JSON reads:
 * const orders: RegistryMetric = {
 *   name: "shop_orders_total", help: "Orders placed", type: "counter",
 *   values: [{ value: 3, labels: { shop: "berlin" } }],
 * };
 * ```
 */
export interface RegistryMetric {
  name: string;
  help: string;
  /**
   * `counter`, `gauge`, `histogram` or `summary` (prom-client's typings declare a numeric
   * enum; at run time it is the string).
   */
  type: string | number;
  values: {
    value: number;
    labels: Record<string, string | number | undefined>;
    /** A histogram's or summary's sample name (`<name>_bucket`, `_sum`, `_count`). */
    metricName?: string;
  }[];
}

/**
 * What the program needs of a prom-client `Registry` (a real one satisfies it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // In a program: `import { Registry } from "prom-client"; const registry = new Registry();`
 * const registry: PromClientRegistry = { getMetricsAsJSON: () => Promise.resolve([]) };
 * assert.deepEqual(await registry.getMetricsAsJSON(), []);
 * ```
 */
export interface PromClientRegistry {
  getMetricsAsJSON(): Promise<RegistryMetric[]>;
}

/**
 * A user's metric whose name is taken: by one of Dubbo's families, or by a metric of
 * another registry given to the same program.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const clash = new MetricNameCollision("metric x of registry 1 collides with ours");
 * assert.equal(clash.name, "MetricNameCollision");
 * ```
 */
export class MetricNameCollision extends Error {
  override name = "MetricNameCollision";
}

const TYPES: Readonly<Record<string, FamilyType>> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
};

/** A counter's name without `_total` (prom-client's OpenMetrics render may have cut it). */
function counterBase(name: string): string {
  return name.replace(/_total$/, "");
}

/**
 * Every sample name a family may write, in either format: how a clash is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(sampleNames("orders_total", "counter"), ["orders", "orders_total"]);
 * assert.deepEqual(sampleNames("rt", "summary"), ["rt", "rt_sum", "rt_count"]);
 * ```
 */
export function sampleNames(name: string, type: string | number): string[] {
  switch (String(type)) {
    case "counter": {
      const base = counterBase(name);
      return [base, `${base}_total`];
    }
    case "histogram":
      return [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    case "summary":
      return [name, `${name}_sum`, `${name}_count`];
    default:
      return [name];
  }
}

/**
 * Every sample name `families` write, with the family that writes it: the names a user's
 * metric may not take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const up = { name: "up_total", help: "Up", type: "counter" as const, collect() {} };
 * assert.deepEqual([...takenNames([up])], [["up", "up_total"], ["up_total", "up_total"]]);
 * ```
 */
export function takenNames(families: readonly Family[]): Map<string, string> {
  return new Map(
    families.flatMap((family) =>
      sampleNames(family.name, family.type).map((sample) => [sample, family.name] as const)
    ),
  );
}

/** One of the user's metrics as read, and what its names clash with, if anything. */
interface ReadMetric {
  metric: RegistryMetric;
  /** `prom-client registry <n>`, counted from 1. */
  where: string;
  /** Dubbo's family or the earlier metric that already writes one of its names. */
  clash: string | undefined;
}

/**
 * Reads every registry in order, the one rule for the start check and each render: a metric
 * clashes when one of its {@linkcode sampleNames} is `taken` ({@linkcode takenNames} of our
 * families) or claimed by an earlier metric; a metric without a clash claims its names.
 */
async function* readRegistries(
  registries: readonly PromClientRegistry[],
  taken: ReadonlyMap<string, string>,
): AsyncGenerator<ReadMetric> {
  const owners = new Map<string, string>();
  for (const [index, registry] of registries.entries()) {
    const where = `prom-client registry ${index + 1}`;
    for (const metric of await registry.getMetricsAsJSON()) {
      const names = sampleNames(metric.name, metric.type);
      const name = names.find((sample) => taken.has(sample) || owners.has(sample));
      if (name !== undefined) {
        const clash = taken.has(name) ? `Dubbo's family ${taken.get(name)}` : owners.get(name);
        yield { metric, where, clash };
        continue;
      }
      for (const sample of names) owners.set(sample, `"${metric.name}" of ${where}`);
      yield { metric, where, clash: undefined };
    }
  }
}

/**
 * Reads every registry and throws {@linkcode MetricNameCollision} when a metric's names
 * clash with `ours` ({@linkcode takenNames} of our families) or with an earlier registry's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const registry: PromClientRegistry = {
 *   getMetricsAsJSON: () =>
 *     Promise.resolve([{ name: "up", help: "Up", type: "gauge", values: [] }]),
 * };
 * await assert.rejects(
 *   checkRegistries(new Map([["up", "up"]]), [registry]),
 *   /^MetricNameCollision: metric "up" of prom-client registry 1 collides with Dubbo's family up/,
 * );
 * await checkRegistries(new Map(), [registry]); // nothing taken: resolves
 * ```
 */
export async function checkRegistries(
  ours: ReadonlyMap<string, string>,
  registries: readonly PromClientRegistry[],
): Promise<void> {
  for await (const { metric, where, clash } of readRegistries(registries, ours)) {
    if (clash !== undefined) {
      throw new MetricNameCollision(
        `metric "${metric.name}" of ${where} collides with ${clash}: rename it`,
      );
    }
  }
}

/** One of the user's metrics as a family of our writer. */
function toFamily(metric: RegistryMetric, type: FamilyType): Family {
  const counter = type === "counter";
  const name = counter ? `${counterBase(metric.name)}_total` : metric.name;
  return {
    name,
    help: metric.help,
    type,
    collect(emit) {
      for (const sample of metric.values) {
        const labels: Record<string, string> = {};
        for (const [key, value] of Object.entries(sample.labels)) {
          if (value !== undefined) labels[key] = String(value);
        }
        emit(seriesText(counter ? name : sample.metricName ?? name, labels), sample.value);
      }
    },
  };
}

/**
 * The registries' metrics as families, read now; a metric whose names are `taken` (ours,
 * or an earlier one's: registered after the start check) or of a type we do not write is
 * left out, so the exposition stays valid (such a metric still claims its names, as in the
 * start check).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeExposition } from "./exposition.ts";
 * const registry: PromClientRegistry = {
 *   getMetricsAsJSON: () => Promise.resolve([{
 *     name: "shop_orders", help: "Orders", type: "counter",
 *     values: [{ value: 2, labels: { shop: "berlin" } }],
 *   }]),
 * };
 * const families = await registryFamilies([registry], new Map());
 * assert.equal(
 *   writeExposition(families, true),
 *   '# HELP shop_orders Orders\n# TYPE shop_orders counter\nshop_orders_total{shop="berlin"} 2\n# EOF\n',
 * );
 * ```
 */
export async function registryFamilies(
  registries: readonly PromClientRegistry[],
  taken: ReadonlyMap<string, string>,
): Promise<Family[]> {
  const families: Family[] = [];
  for await (const { metric, clash } of readRegistries(registries, taken)) {
    const type = TYPES[String(metric.type)];
    if (type !== undefined && clash === undefined) families.push(toFamily(metric, type));
  }
  return families;
}
