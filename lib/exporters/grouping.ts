/**
 * Pushgateway grouping-key paths: `/metrics/job/<job>{/<label>/<value>}`, with the
 * `@base64` form (RFC 4648 URL-safe base64) wherever a value contains `/` or is empty,
 * which plain path escaping cannot express.
 *
 * @module
 */

/** URL-safe base64 of `value` without padding; the empty value is `=` (Pushgateway rule). */
export function base64Url(value: string): string {
  if (value === "") return "=";
  const bytes = new TextEncoder().encode(value);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** One `/<name>/<value>` path segment pair, `@base64` when the value needs it. */
export function groupingSegment(name: string, value: string): string {
  if (value === "" || value.includes("/")) return `/${name}@base64/${base64Url(value)}`;
  return `/${name}/${encodeURIComponent(value)}`;
}

/**
 * The path of a group: `/metrics/job/<job>` plus one segment per label, in order.
 *
 * @example
 * ```ts
 * groupingPath("dubbo_server", { instance: "10.0.0.5:9099" });
 * // "/metrics/job/dubbo_server/instance/10.0.0.5%3A9099"
 * groupingPath("dubbo_server", { instance: "" });
 * // "/metrics/job/dubbo_server/instance@base64/="
 * ```
 */
export function groupingPath(job: string, labels: Record<string, string> = {}): string {
  let path = `/metrics${groupingSegment("job", job)}`;
  for (const [name, value] of Object.entries(labels)) path += groupingSegment(name, value);
  return path;
}
