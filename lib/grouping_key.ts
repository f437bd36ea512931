/**
 * Pushgateway grouping keys (shared by the pusher and the cleaner): turning a group's labels into the `/metrics/job/...` path
 * that addresses it, and into a line a person can read.
 *
 * @module
 */

/** A group's grouping key: `job` plus any other labels it was pushed with. */
export type GroupingKey = Readonly<Record<string, string>>;

/**
 * Whether a label value must travel as `@base64`: the Pushgateway splits the path on
 * `/` after decoding, so a `/` cannot be escaped; an empty value cannot be a path
 * segment at all; and spaces are base64-encoded too so proxies never see them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(needsBase64("a/b"), true);
 * assert.equal(needsBase64(""), true);
 * assert.equal(needsBase64("host-1"), false);
 * ```
 */
export function needsBase64(value: string): boolean {
  return value === "" || /[/\s]/.test(value);
}

/**
 * RFC 4648 URL-safe base64 of `value`'s UTF-8 bytes, padded; the empty string is `=`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(base64Url("a/b?"), "YS9iPw==");
 * assert.equal(base64Url("\u00ff\u00fe"), "w7_Dvg==");
 * assert.equal(base64Url(""), "=");
 * ```
 */
export function base64Url(value: string): string {
  if (value === "") return "=";
  return new TextEncoder().encode(value).toBase64({ alphabet: "base64url" });
}

/**
 * The path (below the gateway's base URL) that addresses exactly this group: `job`
 * first, then every other label in name order, each value plain and URL-escaped or
 * `@base64`-encoded when {@linkcode needsBase64} says so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   groupPath({ job: "dubbo_server", instance: "10.0.0.1:9099" }),
 *   "/metrics/job/dubbo_server/instance/10.0.0.1%3A9099",
 * );
 * assert.equal(
 *   groupPath({ job: "dubbo_server", instance: "" }),
 *   "/metrics/job/dubbo_server/instance@base64/=",
 * );
 * ```
 */
export function groupPath(key: GroupingKey): string {
  const job = key.job;
  if (job === undefined || job === "") {
    throw new Error(`grouping key without a job: ${describeKey(key)}`);
  }
  let path = `/metrics${segment("job", job)}`;
  for (const name of Object.keys(key).filter((name) => name !== "job").sort()) {
    path += segment(name, key[name]);
  }
  return path;
}

function segment(name: string, value: string): string {
  const label = encodeURIComponent(name);
  return needsBase64(value)
    ? `/${label}@base64/${base64Url(value)}`
    : `/${label}/${encodeURIComponent(value)}`;
}

/**
 * The key as Prometheus writes a label set, `job` first: `{job="a",instance="b c"}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(describeKey({ instance: "x", job: "dubbo_client" }), '{job="dubbo_client",instance="x"}');
 * ```
 */
export function describeKey(key: GroupingKey): string {
  const names = Object.keys(key).sort((a, b) =>
    a === "job" ? -1 : b === "job" ? 1 : a < b ? -1 : a > b ? 1 : 0
  );
  return `{${names.map((name) => `${name}=${JSON.stringify(key[name])}`).join(",")}}`;
}
