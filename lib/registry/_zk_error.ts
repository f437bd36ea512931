/**
 * ZooKeeper failures as one error type with a code to branch on, and the small checks
 * callers make on them (transient or not, which code), so that every caller handles
 * node-zookeeper-client's exceptions the same way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const error = new ZkError("CONNECTION_LOSS", "/dubbo", "connection to ZooKeeper lost");
 * assert(isTransient(error) && hasCode(error, "CONNECTION_LOSS"));
 * assert.equal(reason(error), "connection to ZooKeeper lost (/dubbo)");
 * ```
 *
 * @module
 */
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";

/**
 * Error codes we act on (names as ZooKeeper's KeeperException uses them).
 *
 * @example
 * ```ts
 * const code: ZkErrorCode = "NO_NODE";
 * import assert from "node:assert/strict";
 * assert.equal(hasCode(new ZkError(code, "/a", "no such node"), "NO_NODE"), true);
 * ```
 */
export type ZkErrorCode =
  | "NO_NODE"
  | "NODE_EXISTS"
  | "BAD_VERSION"
  | "CONNECTION_LOSS"
  | "SESSION_EXPIRED"
  | "TIMEOUT"
  | "CLOSED"
  | "OTHER";

/**
 * A failed ZooKeeper call, with the path and a code to branch on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const error = new ZkError("NO_NODE", "/dubbo", "no such node");
 * assert.equal(error.message, "no such node (/dubbo)");
 * ```
 */
export class ZkError extends Error {
  constructor(readonly code: ZkErrorCode, readonly path: string, detail: string) {
    super(`${detail} (${path})`);
    this.name = "ZkError";
  }
}

/**
 * True for errors that a reconnect or a new session can cure: callers retry those and
 * report the rest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert(isTransient(new ZkError("CONNECTION_LOSS", "/", "lost")));
 * assert(!isTransient(new ZkError("NO_NODE", "/", "gone")));
 * ```
 */
export function isTransient(error: unknown): boolean {
  return error instanceof ZkError &&
    ["CONNECTION_LOSS", "SESSION_EXPIRED", "TIMEOUT", "CLOSED"].includes(error.code);
}

/**
 * Whether `error` is a `ZkError` with `code`, e.g. `NO_NODE` for a node that is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert(hasCode(new ZkError("NODE_EXISTS", "/a", "exists"), "NODE_EXISTS"));
 * assert(!hasCode(new Error("other"), "NODE_EXISTS"));
 * ```
 */
export function hasCode(error: unknown, code: ZkErrorCode): boolean {
  return error instanceof ZkError && error.code === code;
}

/**
 * The message of an error (or any thrown value), for a log line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(reason(new Error("boom")), "boom");
 * assert.equal(reason("plain"), "plain");
 * ```
 */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const { BAD_VERSION, CONNECTION_LOSS, NO_NODE, NODE_EXISTS, SESSION_EXPIRED } = zookeeper.Exception;

/**
 * Turns a node-zookeeper-client exception (or anything thrown) into a `ZkError` for `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(toZkError(new Error("socket hang up"), "/a").code, "OTHER");
 * ```
 */
export function toZkError(error: unknown, path: string): ZkError {
  if (error instanceof ZkError) return error;
  const code = typeof (error as { getCode?: unknown })?.getCode === "function"
    ? (error as zookeeper.Exception).getCode()
    : undefined;
  const text = error instanceof Error ? error.message : String(error);
  switch (code) {
    case NO_NODE:
      return new ZkError("NO_NODE", path, "no such node");
    case NODE_EXISTS:
      return new ZkError("NODE_EXISTS", path, "node exists");
    case BAD_VERSION:
      return new ZkError("BAD_VERSION", path, "node changed meanwhile");
    case CONNECTION_LOSS:
      return new ZkError("CONNECTION_LOSS", path, "connection to ZooKeeper lost");
    case SESSION_EXPIRED:
      return new ZkError("SESSION_EXPIRED", path, "ZooKeeper session expired");
    default:
      return new ZkError("OTHER", path, text);
  }
}
