/**
 * PromQL and Grafana helpers for the stack tests: the metric names we export (from
 * metric_names.ts), extracting the metric names a PromQL expression reads, Grafana's variable
 * interpolation for Prometheus (`$var`, `$__rate_interval`, regex escaping, All values),
 * `label_values(...)` variable queries, and the Prometheus HTTP API.
 *
 * @example
 * ```ts
 * metricNamesIn('sum(rate(dubbo_provider_requests_total{interface=~"$interface"}[1m]))');
 * // → ["dubbo_provider_requests_total"]
 * ```
 *
 * @module
 */

/** Series Prometheus itself adds for every target (usable in alerts, not exported by us). */
export const PROMETHEUS_SERIES: ReadonlySet<string> = new Set([
  "up",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
]);

const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
]);

/** A metric read through a `{__name__=~"..."}` matcher, with the names it could match. */
export interface NameMatcher {
  /** The regex (or exact name for `=`), as written. */
  pattern: string;
  /** Whether `=~` (regex) rather than `=`. */
  regex: boolean;
}

/**
 * The metric names a PromQL expression reads: bare selector names plus `__name__`
 * matchers. Strings, label matchers, grouping lists and durations are ignored, and
 * identifiers followed by `(` are functions or aggregations.
 */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(scanNames(expr).names)].sort();
}

/** The `__name__` matchers of a PromQL expression. */
export function nameMatchersIn(expr: string): NameMatcher[] {
  return scanNames(expr).matchers;
}

function scanNames(expr: string): { names: string[]; matchers: NameMatcher[] } {
  const matchers: NameMatcher[] = [];
  let text = expr.replace(
    /__name__\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"/g,
    (_, op: string, pattern: string) => {
      matchers.push({ pattern: pattern.replace(/\\\\/g, "\\"), regex: op === "=~" });
      return "";
    },
  );
  text = text
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names: string[] = [];
  for (const match of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const after = text.slice(match.index! + word.length);
    const before = text.slice(0, match.index!);
    if (/^\s*\(/.test(after)) continue; // function or aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/[0-9.]$/.test(before) || /^\d/.test(word)) continue; // a number like 1e3
    names.push(word);
  }
  return { names, matchers };
}

/** The names in `known` a `__name__` matcher selects (anchored, as Prometheus does). */
export function namesMatching(matcher: NameMatcher, known: Iterable<string>): string[] {
  const test = matcher.regex
    ? (name: string) => new RegExp(`^(?:${matcher.pattern})$`).test(name)
    : (name: string) => name === matcher.pattern;
  return [...known].filter(test);
}

/** The `record:` names of a Prometheus rule file. */
export function recordedNames(ruleFileText: string): string[] {
  return [...ruleFileText.matchAll(/^\s*-?\s*record:\s*(\S+)\s*$/gm)].map((m) => m[1]);
}

/** A Grafana template variable as the dashboard JSON defines it. */
export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

/** The query text of a query variable (string or the Prometheus editor's object form). */
export function variableQuery(variable: GrafanaVariable): string {
  const query = variable.query;
  if (typeof query === "string") return query;
  return query?.query ?? "";
}

/** What a variable is set to: the All option, or concrete values. */
export type Selection = { all: true } | { all: false; values: string[] };

/**
 * The text Grafana's Prometheus datasource puts in place of `$name` for this selection:
 * the All value as is; for multi/includeAll variables values are regex-escaped and joined
 * as `(a|b)`; single-value variables are only escaped for a PromQL string.
 */
export function formatValue(variable: GrafanaVariable, selection: Selection): string {
  if (selection.all) {
    if (variable.allValue === undefined) throw new Error(`$${variable.name} has no allValue`);
    return variable.allValue;
  }
  const values = selection.values;
  if (!variable.multi && !variable.includeAll) {
    return values.map((v) => v.replace(/\\/g, "\\\\").replace(/'/g, "\\\\'")).join(",");
  }
  const escaped = values.map((v) =>
    v.replace(/\\/g, "\\\\\\\\").replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&")
  );
  return escaped.length === 1 ? escaped[0] : `(${escaped.join("|")})`;
}

/** Grafana's built-in interval variables, as the tests substitute them. */
export const BUILTIN_INTERVALS: Readonly<Record<string, string>> = {
  __rate_interval: "1m",
  __interval: "15s",
  __range: "5m",
  __range_s: "300",
  __range_ms: "300000",
};

/**
 * Replaces `$name`, `${name}` and `[[name]]` by `values[name]` or a built-in interval;
 * throws on a variable it does not know, so a typo in the dashboard fails the test.
 */
export function interpolate(expr: string, values: Record<string, string>): string {
  const lookup = (name: string) => {
    const value = values[name] ?? BUILTIN_INTERVALS[name];
    if (value === undefined) throw new Error(`unknown variable $${name} in: ${expr}`);
    return value;
  };
  return expr
    .replace(/\$\{(\w+)(?::\w+)?\}/g, (_, name: string) => lookup(name))
    .replace(/\[\[(\w+)\]\]/g, (_, name: string) => lookup(name))
    .replace(/\$(\w+)/g, (_, name: string) => lookup(name));
}

/** A parsed `label_values([selector,] label)` variable query. */
export interface LabelValuesQuery {
  selector?: string;
  label: string;
}

/** Parses Grafana's `label_values(...)`; `undefined` for anything else. */
export function parseLabelValues(query: string): LabelValuesQuery | undefined {
  const match = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(
    query,
  );
  if (!match) return undefined;
  return { selector: match[1], label: match[2] };
}

/** One sample of an instant query. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** Runs an instant query; throws with Prometheus's error for a bad expression. */
export async function instantQuery(prometheusUrl: string, expr: string): Promise<Sample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json();
  if (body.status !== "success") {
    throw new Error(`Prometheus rejected ${expr}: ${body.errorType}: ${body.error}`);
  }
  const data = body.data as { resultType: string; result: unknown };
  if (data.resultType === "scalar") {
    const [, value] = data.result as [number, string];
    return [{ metric: {}, value: Number(value) }];
  }
  if (data.resultType !== "vector") throw new Error(`unexpected ${data.resultType} for ${expr}`);
  return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((
    r,
  ) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

/** Answers `label_values(...)` the way Grafana does: the labels API with `match[]`. */
export async function labelValues(
  prometheusUrl: string,
  query: LabelValuesQuery,
  lookbackSeconds = 1800,
): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const params = new URLSearchParams({
    start: String(now - lookbackSeconds),
    end: String(now),
  });
  if (query.selector) params.append("match[]", query.selector);
  const response = await fetch(
    `${prometheusUrl}/api/v1/label/${encodeURIComponent(query.label)}/values?${params}`,
    { signal: AbortSignal.timeout(10_000) },
  );
  const body = await response.json();
  if (body.status !== "success") {
    throw new Error(
      `Prometheus rejected label_values(${query.selector ?? ""}, ${query.label}): ${body.error}`,
    );
  }
  return body.data as string[];
}

/** A panel target with where it sits in the dashboard. */
export interface PanelQuery {
  panelId: number;
  panelTitle: string;
  refId: string;
  expr: string;
}

/** Every target of every panel (rows' nested panels included). */
export function panelQueries(dashboard: { panels?: unknown[] }): PanelQuery[] {
  const out: PanelQuery[] = [];
  const visit = (panels: unknown[] | undefined) => {
    for (const raw of panels ?? []) {
      const panel = raw as {
        id: number;
        title: string;
        type: string;
        targets?: { refId: string; expr?: string }[];
        panels?: unknown[];
      };
      if (panel.type === "row") {
        visit(panel.panels);
        continue;
      }
      for (const target of panel.targets ?? []) {
        out.push({
          panelId: panel.id,
          panelTitle: panel.title,
          refId: target.refId,
          expr: target.expr ?? "",
        });
      }
    }
  };
  visit(dashboard.panels);
  return out;
}
