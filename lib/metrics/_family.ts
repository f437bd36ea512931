/**
 * A metric family that prom-client's `Registry` can render but whose samples are read
 * from our own state at collect time: recording never touches prom-client, and rendering
 * never re-hashes label sets (each series hands the same `sharedLabels` object every time,
 * which prom-client formats once and caches).
 *
 * @module
 */

/** Label values of one series. */
export type Labels = Record<string, string>;

/** One sample line. */
export interface Sample {
  /** Set only for histogram parts (`_bucket`, `_sum`, `_count`). */
  metricName?: string;
  /** Labels specific to this line (e.g. `le`); usually {@linkcode NO_LABELS}. */
  labels: Labels;
  /** The series' labels; keep the object identity stable so prom-client caches its text. */
  sharedLabels: Labels;
  value: number;
}

/** Prometheus metric types we emit. */
export type FamilyType = "counter" | "gauge" | "histogram";

/** The empty per-line label set, shared. */
export const NO_LABELS: Labels = Object.freeze({}) as Labels;

/** What prom-client's `Registry` reads from a metric: `name`, `help`, `type`, `get()`. */
export class Family {
  /**
   * @param name the exposition name (for OpenMetrics counters, without `_total`)
   * @param read produces the samples at collect time
   */
  constructor(
    public name: string,
    readonly help: string,
    readonly type: FamilyType,
    readonly read: () => Sample[],
  ) {}

  /** Called by `Registry.metrics()`. */
  get(): { name: string; help: string; type: FamilyType; values: Sample[]; aggregator: "sum" } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.read(),
      aggregator: "sum",
    };
  }

  /** Part of prom-client's metric contract; our state is never reset. */
  reset(): void {}

  /** The same family as an OpenMetrics registry wants it (counter names without `_total`). */
  forOpenMetrics(): Family {
    const name = this.type === "counter" ? this.name.replace(/_total$/, "") : this.name;
    return new Family(name, this.help, this.type, this.read);
  }
}
