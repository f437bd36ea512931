/**
 * A small Pushgateway client for the cleaner: list every group, delete one group by
 * its grouping key. Basic auth travels in a header (never in a URL or a message), and
 * every request has a deadline.
 *
 * @module
 */
import { type Group, parseGroups } from "./_api.ts";
import { describeKey, type GroupingKey, groupPath } from "../grouping_key.ts";

export type { Group, PushClock } from "./_api.ts";

/** How to reach the Pushgateway. */
export interface GatewayOptions {
  /** Base URL with scheme and no trailing slash, e.g. `http://127.0.0.1:9091`. */
  url: string;
  /** Basic-auth user; auth is sent when user or pass is set. */
  user?: string;
  /** Basic-auth password. Never logged. */
  pass?: string;
  /** Deadline per request, milliseconds (default 10 s). */
  timeoutMs?: number;
}

/** A request to the Pushgateway that failed; the message names the gateway, never the password. */
export class GatewayError extends Error {
  override name = "GatewayError";
}

/**
 * Lists and deletes Pushgateway groups.
 *
 * @example
 * ```ts
 * const gateway = new Gateway({ url: "http://127.0.0.1:9091" });
 * for (const group of await gateway.listGroups()) {
 *   if (group.labels.job === "dubbo_old") await gateway.deleteGroup(group.labels);
 * }
 * ```
 */
export class Gateway {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: GatewayOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#headers = {};
    if (options.user !== undefined || options.pass !== undefined) {
      this.#headers.authorization = `Basic ${
        basicCredentials(options.user ?? "", options.pass ?? "")
      }`;
    }
  }

  /** Every group on the gateway (`GET /api/v1/metrics`). Throws {@linkcode GatewayError}. */
  async listGroups(signal?: AbortSignal): Promise<Group[]> {
    const url = `${this.url}/api/v1/metrics`;
    const what = `cannot read groups from the Pushgateway at ${this.url}`;
    const response = await this.#request("GET", url, what, signal);
    if (!response.ok) {
      await response.body?.cancel();
      throw new GatewayError(`${what}: ${statusText(response)}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new GatewayError(`${what}: ${reason(error, this.#timeoutMs)}`);
    }
    try {
      return parseGroups(body);
    } catch (error) {
      throw new GatewayError(`${what}: ${(error as Error).message}`);
    }
  }

  /** Deletes the group with exactly this grouping key. Throws {@linkcode GatewayError}. */
  async deleteGroup(key: GroupingKey, signal?: AbortSignal): Promise<void> {
    const url = `${this.url}${groupPath(key)}`;
    const what = `cannot delete group ${describeKey(key)} on the Pushgateway at ${this.url}`;
    const response = await this.#request("DELETE", url, what, signal);
    await response.body?.cancel();
    if (!response.ok) throw new GatewayError(`${what}: ${statusText(response)}`);
  }

  async #request(
    method: string,
    url: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await fetch(url, {
        method,
        headers: this.#headers,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new GatewayError(`${what}: ${reason(error, this.#timeoutMs)}`);
    }
  }
}

function basicCredentials(user: string, pass: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(`${user}:${pass}`)) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}

function statusText(response: Response): string {
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  if (response.status === 401 || response.status === 403) {
    return `${status} (check PUSHGATEWAY_USER and PUSHGATEWAY_PASS)`;
  }
  return status;
}

function reason(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${timeoutMs / 1000}s`;
  }
  // Deno puts the useful part in `cause`: "error sending request for url (...): client
  // error (Connect): tcp connect error: Connection refused (os error 111)".
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  return message
    .replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \([^)]*\): /, "");
}
