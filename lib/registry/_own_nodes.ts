/**
 * The ephemeral nodes a registry owns (provider, consumer, instance): how one is written
 * in a session, taking over a leftover of our previous session, and how they are removed
 * on close, instances first so that consumers stop choosing us before the rest goes.
 *
 * @example
 * ```ts no-assert
 * import type { ZkSession } from "./_zk.ts";
 *
 * const node: OwnNode = { path: "/services/server/10.0.0.5:20000", data: "{}", kind: "instance" };
 * async function publish(session: ZkSession): Promise<void> {
 *   await writeOwnNode(session, node, "");
 * }
 * console.log(typeof publish);
 * ```
 *
 * @module
 */
import type { ZkSession } from "./_zk.ts";
import { hasCode } from "./_zk_error.ts";
import { mergeMapping } from "./mapping.ts";
import { CATEGORIES, categoryPath } from "./url.ts";

const OP_TIMEOUT_MS = 5_000;

/**
 * A node we own: written (ephemeral) in every session until `close()`.
 *
 * @example
 * ```ts no-assert
 * const provider: OwnNode = {
 *   path: "/dubbo/greet.GreetService/providers/tri%3A...", data: "10.0.0.5", kind: "provider",
 *   service: "greet.GreetService",
 * };
 * console.log(provider.writtenIn === undefined);
 * ```
 */
export interface OwnNode {
  path: string;
  data: string;
  kind: "provider" | "consumer" | "instance";
  /** For `provider` and `consumer`: the interface whose persistent categories Dubbo creates. */
  service?: string;
  /** For `instance`: the mapping node our app is merged into after each write. */
  mapping?: { path: string; app: string };
  /** The session the node was last written in. */
  writtenIn?: ZkSession;
}

/**
 * Writes `node` (ephemeral) in `session` with its persistent parents, replacing a
 * leftover of an older session, then merges its mapping; marks it written there.
 *
 * @example
 * ```ts no-assert
 * import type { ZkSession } from "./_zk.ts";
 *
 * async function register(session: ZkSession, path: string): Promise<void> {
 *   const node: OwnNode = { path, data: "10.0.0.5", kind: "provider", service: "demo.EchoService" };
 *   await writeOwnNode(session, node, "/chroot");
 * }
 * console.log(typeof register);
 * ```
 */
export async function writeOwnNode(
  session: ZkSession,
  node: OwnNode,
  chroot: string,
): Promise<void> {
  if (node.kind === "instance") {
    await session.mkdirp(node.path.slice(0, node.path.lastIndexOf("/")), OP_TIMEOUT_MS);
  } else {
    // The persistent parents Dubbo creates: chroot, `/dubbo/<interface>/<category>`.
    for (const category of CATEGORIES) {
      await session.mkdirp(categoryPath(category, chroot, node.service ?? ""), OP_TIMEOUT_MS);
    }
  }
  try {
    await session.create(node.path, node.data, true, OP_TIMEOUT_MS);
  } catch (error) {
    if (!hasCode(error, "NODE_EXISTS")) throw error;
    const stat = await session.exists(node.path, OP_TIMEOUT_MS);
    if (stat && stat.ephemeralOwner !== session.sessionId()) {
      // Left by our previous session (still alive on a restarted ZooKeeper): take over.
      await session.remove(node.path, OP_TIMEOUT_MS).catch(ignoreNoNode);
      await session.create(node.path, node.data, true, OP_TIMEOUT_MS);
    } else if (!stat) {
      await session.create(node.path, node.data, true, OP_TIMEOUT_MS);
    }
  }
  if (node.mapping) {
    await mergeMapping(session, node.mapping.path, node.mapping.app, OP_TIMEOUT_MS);
  }
  node.writtenIn = session;
}

/**
 * Removes the nodes written in `session` before `deadline` (epoch ms): instances first,
 * then the rest; failures are ignored (the session's end removes them anyway).
 *
 * @example
 * ```ts no-assert
 * import type { ZkSession } from "./_zk.ts";
 *
 * async function leave(session: ZkSession, nodes: OwnNode[]): Promise<void> {
 *   await removeOwnNodes(session, nodes, Date.now() + 1_500);
 * }
 * console.log(typeof leave);
 * ```
 */
export async function removeOwnNodes(
  session: ZkSession,
  nodes: Iterable<OwnNode>,
  deadline: number,
): Promise<void> {
  const ours = [...nodes].filter((n) => n.writtenIn === session);
  const left = () => Math.max(1, deadline - Date.now());
  const first = ours.filter((n) => n.kind === "instance");
  await Promise.allSettled(first.map((n) => session.remove(n.path, left())));
  const rest = ours.filter((n) => n.kind !== "instance");
  await Promise.allSettled(rest.map((n) => session.remove(n.path, left())));
}

function ignoreNoNode(error: unknown): void {
  if (!hasCode(error, "NO_NODE")) throw error;
}
