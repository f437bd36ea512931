/** Measurements the benches share: a server process's CPU time, and medians. */

/**
 * Sums `/proc/<pid>/task/<tid>/schedstat` (first field: ns on CPU) over all threads. Read by
 * `cat`: Deno grants reads under /proc only with --allow-all, and benches run with `-P`.
 */
export function processCpuNanos(pid: number): number {
  const out = new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/schedstat 2>/dev/null`],
  }).outputSync();
  let total = 0;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const ns = Number(line.split(" ")[0]);
    if (line && Number.isFinite(ns)) total += ns;
  }
  return total;
}

/** Median of `values` (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
