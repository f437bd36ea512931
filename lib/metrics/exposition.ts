/**
 * A small exposition writer: Prometheus text 0.0.4 and OpenMetrics 1.0.0 from metric
 * families whose samples are read at render time. Each series' label text is built once
 * (at creation) and reused on every render, so rendering is string concatenation only.
 *
 * @module
 */

/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** Prometheus metric types we emit. */
export type FamilyType = "counter" | "gauge" | "histogram" | "summary";

/** Receives one sample: its series text (name and labels, from {@linkcode seriesText}) and value. */
export type Emit = (series: string, value: number) => void;

/**
 * One metric family: a fixed head and samples read at render time. Counter names end in
 * `_total` (the OpenMetrics family name is the name without it).
 */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  /** Emits every sample, in exposition order. */
  collect(emit: Emit): void;
}

/** Content type of the Prometheus text format. */
export const TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** Content type of OpenMetrics. */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

/**
 * The text of a sample's name and labels, e.g. `up{job="x"}`; label values escaped
 * (backslash, double quote, newline).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(seriesText("up", { job: 'a"b' }), 'up{job="a\\"b"}');
 * assert.equal(seriesText("up", {}), "up");
 * ```
 */
export function seriesText(name: string, labels: Labels): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(",")}}`;
}

/**
 * Renders `families` as Prometheus text (default) or OpenMetrics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const up: Family = {
 *   name: "pushes_total", help: "Pushes", type: "counter",
 *   collect: (emit) => emit("pushes_total", 3),
 * };
 * assert.equal(
 *   writeExposition([up], false),
 *   "# HELP pushes_total Pushes\n# TYPE pushes_total counter\npushes_total 3\n",
 * );
 * assert.match(writeExposition([up], true), /^# HELP pushes Pushes\n# TYPE pushes counter\n/);
 * ```
 */
export function writeExposition(families: readonly Family[], openMetrics: boolean): string {
  let out = "";
  const emit: Emit = (series, value) => {
    out += `${series} ${formatValue(value)}\n`;
  };
  for (const family of families) {
    const name = openMetrics && family.type === "counter"
      ? family.name.replace(/_total$/, "")
      : family.name;
    if (out !== "" && !openMetrics) out += "\n";
    out += `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n`;
    family.collect(emit);
  }
  return openMetrics ? `${out}# EOF\n` : out;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(text: string): string {
  return escapeHelp(text).replaceAll('"', '\\"');
}
