/** Human-readable durations for log lines. */

/**
 * Seconds as `2h3m`, `45s`, `3d4h`: the two largest non-zero units, whole numbers.
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

/** Milliseconds as `1h`, `90s`, `500ms`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return formatAge(ms / 1000);
}
