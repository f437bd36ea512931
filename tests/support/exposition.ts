/**
 * A small reader for the Prometheus text exposition format (what `render()` produces and
 * what the Pushgateway serves): families with their type and samples with labels, for
 * tests; not a full validator.
 *
 * @module
 */

/** One sample line. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Whatever followed the value (a timestamp, if any); `""` normally. */
  rest: string;
}

/** One family (`# TYPE` line and the samples that follow it). */
export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)\s*(.*)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

/**
 * Parses exposition text into families keyed by family name.
 *
 * @example
 * ```ts
 * const families = parseExposition((await metrics.render()).body);
 * families.get("dubbo_provider_requests_total")?.samples[0].value; // e.g. 12
 * ```
 */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) {
      found = { name, type: "untyped", help: "", samples: [] };
      families.set(name, found);
    }
    return found;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const [, keyword, name, ...rest] = line.split(" ");
      if (keyword === "TYPE") {
        current = family(name);
        current.type = rest[0] ?? "untyped";
      } else if (keyword === "HELP") {
        family(name).help = rest.join(" ");
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const [, name, , labelText, valueText, rest] = match;
    const labels: Record<string, string> = {};
    for (const label of (labelText ?? "").matchAll(LABEL)) {
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    }
    const owner = current && belongsTo(name, current) ? current : family(name);
    owner.samples.push({ name, labels, value: parseValue(valueText), rest });
  }
  return families;
}

function belongsTo(sample: string, family: ParsedFamily): boolean {
  if (sample === family.name) return true;
  const suffixes = family.type === "histogram"
    ? ["_bucket", "_sum", "_count"]
    : family.type === "summary"
    ? ["_sum", "_count"]
    : family.type === "counter"
    ? ["_total", "_created"]
    : [];
  return suffixes.some((suffix) => sample === family.name + suffix);
}

function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  return Number(text);
}
