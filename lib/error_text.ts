/**
 * One line of text for any thrown value, for log lines and error messages.
 *
 * @module
 */

/**
 * The first line of `error`'s message. Deno's `fetch` wraps the useful part in
 * `cause` ("error sending request for url (...): client error (Connect): tcp connect
 * error: Connection refused"): that cause is used, without the URL prefix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(errorText(new Error("zk down\nstack")), "zk down");
 * assert.equal(errorText("plain"), "plain");
 * const fetchError = new TypeError("error sending request", {
 *   cause: new Error("error sending request for url (http://x/): client error (Connect): refused"),
 * });
 * assert.equal(errorText(fetchError), "refused");
 * ```
 */
export function errorText(error: unknown): string {
  const source = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = source instanceof Error ? source.message : String(source);
  return message
    .replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \([^)]*\): /, "")
    .split("\n")[0];
}
