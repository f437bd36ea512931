/**
 * The one Pushgateway client, used by the pusher (`PUT` and `DELETE` of our group) and
 * the cleaner (list groups, `DELETE` stale ones). Basic auth travels in a header, never
 * in a URL or a message; every request has a deadline; failures are
 * {@linkcode PushgatewayError}s whose text names the gateway and never the password.
 *
 * @module
 */
import { STATUS_CODES } from "node:http";
import { type Group, parseGroups } from "./_pushgateway_groups.ts";
import { errorText } from "./error_text.ts";
import { describeKey, type GroupingKey, groupPath } from "./grouping_key.ts";

/** How to reach the Pushgateway. */
export interface PushgatewayOptions {
  /** Base URL with scheme, e.g. `http://127.0.0.1:9091`; a trailing slash is dropped. */
  url: string;
  /** Basic-auth user; auth is sent when user or pass is set. */
  user?: string;
  /** Basic-auth password. Never logged. */
  pass?: string;
  /** Deadline per request, milliseconds (default 10 s). */
  timeoutMs?: number;
}

/** Per-request options: a caller's abort signal and a deadline other than the default. */
export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * A request to the Pushgateway that failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new PushgatewayError("cannot push to http://127.0.0.1:9091", "HTTP 401 Unauthorized");
 * assert.equal(error.reason, "HTTP 401 Unauthorized");
 * assert.equal(error.message, "cannot push to http://127.0.0.1:9091: HTTP 401 Unauthorized");
 * ```
 */
export class PushgatewayError extends Error {
  override name = "PushgatewayError";
  /** Why, without what was attempted: `HTTP 401 Unauthorized`, `no answer within 2s`. */
  readonly reason: string;
  constructor(what: string, reason: string) {
    super(`${what}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * A Pushgateway at one URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A stand-in gateway on a free loopback port that records what it is sent.
 * const seen: string[] = [];
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
 *   seen.push(`${request.method} ${new URL(request.url).pathname}`);
 *   return new Response(null, { status: 200 });
 * });
 * try {
 *   const gateway = new Pushgateway({ url: `http://127.0.0.1:${server.addr.port}/` });
 *   await gateway.push({ job: "dubbo_server", instance: "host-1" }, "up 1\n", "text/plain");
 *   await gateway.deleteGroup({ job: "dubbo_old" });
 *   assert.deepEqual(seen, [
 *     "PUT /metrics/job/dubbo_server/instance/host-1",
 *     "DELETE /metrics/job/dubbo_old",
 *   ]);
 * } finally {
 *   await server.shutdown();
 * }
 * ```
 */
export class Pushgateway {
  readonly url: string;
  readonly #headers: Record<string, string> = {};
  readonly #timeoutMs: number;

  constructor(options: PushgatewayOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    if (options.user !== undefined || options.pass !== undefined) {
      const pair = new TextEncoder().encode(`${options.user ?? ""}:${options.pass ?? ""}`);
      this.#headers.authorization = `Basic ${pair.toBase64()}`;
    }
  }

  /** The URL of one group (no credentials). */
  groupUrl(key: GroupingKey): string {
    return `${this.url}${groupPath(key)}`;
  }

  /** Replaces the group's metrics with `body` (`PUT`). Throws {@linkcode PushgatewayError}. */
  async push(
    key: GroupingKey,
    body: string,
    contentType: string,
    options: RequestOptions = {},
  ): Promise<void> {
    const what = `cannot push to ${this.groupUrl(key)}`;
    const response = await this.#request("PUT", this.groupUrl(key), what, options, {
      body,
      contentType,
    });
    await this.#expectOk(response, what);
  }

  /** Deletes the group with exactly this grouping key. Throws {@linkcode PushgatewayError}. */
  async deleteGroup(key: GroupingKey, options: RequestOptions = {}): Promise<void> {
    const what = `cannot delete group ${describeKey(key)} on the Pushgateway at ${this.url}`;
    const response = await this.#request("DELETE", this.groupUrl(key), what, options);
    await this.#expectOk(response, what);
  }

  /** Every group on the gateway (`GET /api/v1/metrics`). Throws {@linkcode PushgatewayError}. */
  async listGroups(options: RequestOptions = {}): Promise<Group[]> {
    const what = `cannot read groups from the Pushgateway at ${this.url}`;
    const response = await this.#request("GET", `${this.url}/api/v1/metrics`, what, options);
    await this.#expectOk(response, what, true);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new PushgatewayError(what, this.#reason(error, options));
    }
    try {
      return parseGroups(body);
    } catch (error) {
      throw new PushgatewayError(what, errorText(error));
    }
  }

  async #request(
    method: string,
    url: string,
    what: string,
    options: RequestOptions,
    payload?: { body: string; contentType: string },
  ): Promise<Response> {
    const deadline = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
    const headers = payload
      ? { ...this.#headers, "content-type": payload.contentType }
      : this.#headers;
    try {
      return await fetch(url, {
        method,
        headers,
        body: payload?.body,
        signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new PushgatewayError(what, this.#reason(error, options));
    }
  }

  /** Throws unless the answer is 2xx; drops the body unless `keepBody`. */
  async #expectOk(response: Response, what: string, keepBody = false): Promise<void> {
    if (response.ok) {
      if (!keepBody) await response.body?.cancel();
      return;
    }
    const text = await response.text().catch(() => "");
    throw new PushgatewayError(what, statusText(response.status, text));
  }

  #reason(error: unknown, options: RequestOptions): string {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return `no answer within ${(options.timeoutMs ?? this.#timeoutMs) / 1000}s`;
    }
    return errorText(error);
  }
}

/**
 * `HTTP <code> <reason phrase>`, a hint for auth failures, and the first line of the
 * gateway's answer (printable ASCII, at most 200 characters).
 */
function statusText(status: number, body: string): string {
  const phrase = STATUS_CODES[status];
  const head = `HTTP ${status}${phrase ? ` ${phrase}` : ""}`;
  if (status === 401 || status === 403) {
    return `${head} (check PUSHGATEWAY_USER and PUSHGATEWAY_PASS)`;
  }
  const detail = body.trim().split("\n")[0].replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
  return detail ? `${head}: ${detail}` : head;
}
