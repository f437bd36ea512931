/** Go-style durations: parsing flag values, writing them back for help and log lines. */

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
 * import assert from "node:assert/strict";
 * assert.equal(parseDuration("1m30s"), 90_000);
 * assert.equal(parseDuration("2"), 2000);
 * assert.equal(parseDuration("soon"), undefined);
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

/**
 * Seconds as `2h3m`, `45s`, `3d4h`: the two largest non-zero units, whole numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatAge(7380), "2h3m");
 * assert.equal(formatAge(45), "45s");
 * assert.equal(formatAge(Number.NaN), "unknown");
 * ```
 */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return "unknown";
  let rest = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (unit === "s" && parts.length === 0)) parts.push(`${count}${unit}`);
  }
  return parts.slice(0, 2).join("");
}

/**
 * Milliseconds the way `parseDuration` reads them: `1h`, `1m30s`, `500ms`, `1500ms`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatMs(90_000), "1m30s");
 * assert.equal(formatMs(10), "10ms");
 * assert.equal(parseDuration(formatMs(3_600_000)), 3_600_000);
 * ```
 */
export function formatMs(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  return formatAge(ms / 1000);
}
