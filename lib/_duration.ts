const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go-style duration (`500ms`, `1m30s`, `1.5h`) or plain seconds (`10`, `0.5`)
 * into milliseconds; `undefined` when it is neither.
 *
 * @example
 * ```ts
 * parseDuration("1m30s"); // 90000
 * parseDuration("2"); // 2000
 * ```
 */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (text === "" || !/^((\d+(\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(match[1]) * UNITS[match[2]];
  }
  return Number.isFinite(total) ? total : undefined;
}
