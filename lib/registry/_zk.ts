/**
 * A small promise wrapper around one node-zookeeper-client session: every call has a
 * deadline (the library queues requests while disconnected and would wait forever), and
 * `destroy()` really stops the client: no reconnect loop, no timer, no socket left, so a
 * process can exit even when ZooKeeper is down.
 *
 * It also adds the read timeouts the Java client has and node-zookeeper-client lacks: a
 * connection that gets no handshake answer (a ZooKeeper still starting can accept and
 * then ignore it) or goes silent while connected (pings unanswered for 2/3 of the session
 * timeout) is dropped, so the client moves on and reconnects.
 *
 * One `ZkSession` is one ZooKeeper session. After expiry the owner creates a new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasCode } from "./_zk_error.ts";
 *
 * // Nobody listens on a port just closed: the session keeps trying until destroyed.
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr;
 * listener.close();
 * const events = { connected() {}, disconnected() {}, expired() {} };
 * const session = new ZkSession(`127.0.0.1:${port}`, 10_000, events);
 * await assert.rejects(session.waitConnected(200), (e) => hasCode(e, "TIMEOUT"));
 * session.destroy();
 * await assert.rejects(session.getChildren("/", undefined, 100), (e) => hasCode(e, "CLOSED"));
 * ```
 *
 * @module
 */
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";
import { hasCode, toZkError, ZkError } from "./_zk_error.ts";

/**
 * Session lifecycle callbacks: how the owner learns it must re-create nodes or renew.
 *
 * @example
 * ```ts no-assert
 * const events: SessionEvents = {
 *   connected: () => console.log("re-create nodes and watches"),
 *   disconnected: () => console.log("keep the last known providers"),
 *   expired: () => console.log("start a new session"),
 * };
 * new ZkSession("127.0.0.1:2181", 10_000, events).destroy();
 * ```
 */
export interface SessionEvents {
  connected(): void;
  disconnected(): void;
  expired(): void;
}

/**
 * Node metadata we use.
 *
 * @example
 * ```ts no-assert
 * import type { ZkSession } from "./_zk.ts";
 *
 * async function ownedByUs(session: ZkSession, path: string): Promise<boolean> {
 *   const stat: NodeStat | undefined = await session.exists(path, 5_000);
 *   return stat?.ephemeralOwner === session.sessionId();
 * }
 * console.log(typeof ownedByUs);
 * ```
 */
export interface NodeStat {
  /** Hex session id of the owner of an ephemeral node, `"0000000000000000"` if persistent. */
  ephemeralOwner: string;
}

// Connection manager states of node-zookeeper-client 1.1.3 (lib/ConnectionManager.js).
const CM_CLOSING = -1;
const CM_CLOSED = -2;
const CM_CONNECTING = 1;
const CM_CONNECTED = 2;
const WATCHDOG_PERIOD_MS = 250;

// The parts of node-zookeeper-client's ConnectionManager that `destroy()` reaches into.
interface ConnectionManagerInternals {
  state: number;
  servers: unknown[];
  nextServerIndex: number;
  serverAttempts: number;
  spinDelay: number;
  socket?: { destroy(): void; on(event: "data", listener: () => void): void };
  sessionTimeout: number;
  connectTimeout: number;
  connectTimeoutHandler?: ReturnType<typeof setTimeout> | null;
  findNextServer(callback: (server: unknown) => void): void;
  connect(): void;
  on(event: "state", listener: (state: number) => void): void;
}

/**
 * One ZooKeeper session over a connect string without chroot (`host:port[,host:port]`);
 * see the module doc for what it adds to node-zookeeper-client.
 *
 * @example
 * ```ts no-assert
 * const events = { connected() {}, disconnected() {}, expired() {} };
 * const session = new ZkSession("127.0.0.1:2181", 10_000, events);
 * session.destroy(); // stops at once: no socket, no timer left
 * ```
 */
export class ZkSession {
  readonly #client: zookeeper.Client;
  readonly #manager: ConnectionManagerInternals;
  #connected = false;
  #ended = false;
  #quiet = false;
  #spinTimer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #lastHeard = 0;
  #waiters = new Set<() => void>();

  constructor(hosts: string, sessionTimeoutMs: number, events: SessionEvents) {
    this.#client = zookeeper.createClient(hosts, {
      sessionTimeout: sessionTimeoutMs,
      spinDelay: 500,
      retries: 0,
    });
    this.#manager = (this.#client as unknown as { connectionManager: ConnectionManagerInternals })
      .connectionManager;
    this.#trackReconnectDelay();
    this.#watch();
    this.#client.on("connected", () => {
      if (this.#ended || this.#quiet) return;
      this.#connected = true;
      for (const wake of this.#waiters) wake();
      events.connected();
    });
    this.#client.on("disconnected", () => {
      if (this.#ended || this.#quiet || !this.#connected) return;
      this.#connected = false;
      events.disconnected();
    });
    this.#client.on("expired", () => {
      if (this.#ended || this.#quiet) return;
      this.#connected = false;
      for (const wake of this.#waiters) wake();
      events.expired();
    });
    this.#client.connect();
  }

  /** Whether the session is connected right now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Whether `close()`/`destroy()` ended this session (or ZooKeeper expired it). */
  get ended(): boolean {
    return this.#ended || this.#manager.state === CM_CLOSED;
  }

  /** The session id as 16 hex digits (matches `NodeStat.ephemeralOwner`). */
  sessionId(): string {
    return Buffer.from(this.#client.getSessionId()).toString("hex");
  }

  /** The timeout ZooKeeper granted (ms); the requested one before the first connect. */
  sessionTimeout(): number {
    return this.#client.getSessionTimeout();
  }

  /** Resolves once connected; rejects after `timeoutMs` or when the session ends. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.#connected) return Promise.resolve();
    if (this.ended) return Promise.reject(new ZkError("CLOSED", "/", "session ended"));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        if (this.#connected) resolve();
        else reject(new ZkError("SESSION_EXPIRED", "/", "session ended before it connected"));
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        reject(new ZkError("TIMEOUT", "/", `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(done);
    });
  }

  /** Creates a node; `NODE_EXISTS` is an error the caller decides about. */
  create(path: string, data: string, ephemeral: boolean, timeoutMs: number): Promise<void> {
    const mode = ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT;
    return this.#call(
      path,
      timeoutMs,
      (done) =>
        this.#client.create(path, Buffer.from(data), mode, (error) => done(error, undefined)),
    );
  }

  /** Creates each missing persistent node of `path` (like `mkdir -p`). */
  async mkdirp(path: string, timeoutMs: number): Promise<void> {
    let current = "";
    for (const part of path.split("/").slice(1)) {
      current += `/${part}`;
      try {
        await this.create(current, "", false, timeoutMs);
      } catch (error) {
        if (!hasCode(error, "NODE_EXISTS")) throw error;
      }
    }
  }

  /** Deletes a node (any version). */
  remove(path: string, timeoutMs: number): Promise<void> {
    return this.#call(
      path,
      timeoutMs,
      (done) => this.#client.remove(path, -1, (error) => done(error, undefined)),
    );
  }

  /** The node's stat, or `undefined` when it does not exist; `watcher` fires on a change. */
  async exists(
    path: string,
    timeoutMs: number,
    watcher?: () => void,
  ): Promise<NodeStat | undefined> {
    const stat = await this.#call<zookeeper.Stat | undefined>(path, timeoutMs, (done) => {
      const reply = (error: unknown, stat?: zookeeper.Stat) => done(error, stat ?? undefined);
      if (watcher) this.#client.exists(path, watcher, reply);
      else this.#client.exists(path, reply);
    });
    return stat ? { ephemeralOwner: Buffer.from(stat.ephemeralOwner).toString("hex") } : undefined;
  }

  /** Children names; with `watcher`, a one-shot watch fires on the next change. */
  getChildren(
    path: string,
    watcher: (() => void) | undefined,
    timeoutMs: number,
  ): Promise<string[]> {
    return this.#call(path, timeoutMs, (done) => {
      if (watcher) {
        this.#client.getChildren(path, watcher, (error, children) => done(error, children));
      } else this.#client.getChildren(path, (error, children) => done(error, children));
    });
  }

  /** A node's data (UTF-8) and version; with `watcher`, a one-shot watch on change/delete. */
  getData(
    path: string,
    watcher: (() => void) | undefined,
    timeoutMs: number,
  ): Promise<{ data: string; version: number }> {
    return this.#call(path, timeoutMs, (done) => {
      const reply = (error: unknown, data?: Buffer, stat?: zookeeper.Stat) =>
        done(error, { data: data ? data.toString("utf8") : "", version: stat?.version ?? -1 });
      if (watcher) this.#client.getData(path, watcher, reply);
      else this.#client.getData(path, reply);
    });
  }

  /** Sets a node's data if its version is still `version` (-1: any); else `BAD_VERSION`. */
  setData(path: string, data: string, version: number, timeoutMs: number): Promise<void> {
    return this.#call(
      path,
      timeoutMs,
      (done) =>
        this.#client.setData(path, Buffer.from(data), version, (error) => done(error, undefined)),
    );
  }

  /**
   * Ends the session politely (ZooKeeper deletes our ephemeral nodes at once), waiting at
   * most `budgetMs` for the server's answer, then stops everything.
   */
  async close(budgetMs: number): Promise<void> {
    if (this.#ended) return;
    this.#quiet = true;
    if (this.#connected && budgetMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const closed = new Promise<void>((resolve) => {
        this.#manager.on("state", (state) => {
          if (state === CM_CLOSED) resolve();
        });
        timer = setTimeout(resolve, budgetMs);
      });
      this.#client.close();
      await closed;
      clearTimeout(timer);
    }
    this.destroy();
  }

  /**
   * Stops the client now: no more reconnect attempts, pending reconnect timer cleared,
   * socket destroyed. Pending calls fail with `CLOSED` (their own deadlines still apply).
   */
  destroy(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#connected = false;
    for (const wake of this.#waiters) wake();
    const manager = this.#manager;
    clearTimeout(this.#spinTimer);
    clearTimeout(this.#watchdog);
    if (manager.connectTimeoutHandler) clearTimeout(manager.connectTimeoutHandler);
    manager.connectTimeoutHandler = null;
    manager.connect = () => {};
    // CLOSING makes the socket's close handler finish as CLOSED instead of reconnecting.
    if (manager.state !== CM_CLOSED) manager.state = CM_CLOSING;
    manager.socket?.destroy();
  }

  // node-zookeeper-client waits between rounds of connect attempts with an untracked
  // `setTimeout`; this is the same policy (lib/ConnectionManager.js `findNextServer`) with
  // the timer kept so `destroy()` can cancel it.
  #trackReconnectDelay(): void {
    const manager = this.#manager;
    manager.findNextServer = (callback) => {
      if (this.#ended) return;
      manager.nextServerIndex %= manager.servers.length;
      const next = () => {
        if (this.#ended) return;
        callback(manager.servers[manager.nextServerIndex]);
        manager.nextServerIndex += 1;
        this.#lastHeard = Date.now();
        manager.socket?.on("data", () => this.#lastHeard = Date.now());
      };
      if (manager.serverAttempts === manager.servers.length) {
        this.#spinTimer = setTimeout(() => {
          this.#spinTimer = undefined;
          manager.serverAttempts = 0;
          next();
        }, Math.random() * manager.spinDelay);
      } else {
        manager.serverAttempts += 1;
        queueMicrotask(next);
      }
    };
  }

  // Drops a socket that is silent too long: no handshake answer within the connect
  // timeout, or no answer (pings included) within 2/3 of the session timeout.
  #watch(): void {
    this.#watchdog = setTimeout(() => {
      if (this.#ended) return;
      const manager = this.#manager;
      const silent = Date.now() - this.#lastHeard;
      const limit = manager.state === CM_CONNECTING
        ? Math.max(1000, manager.connectTimeout)
        : manager.state === CM_CONNECTED
        ? Math.max(1000, Math.floor(manager.sessionTimeout * 2 / 3))
        : Infinity;
      if (manager.socket && silent > limit) {
        this.#lastHeard = Date.now();
        manager.socket.destroy();
      }
      this.#watch();
    }, WATCHDOG_PERIOD_MS);
  }

  #call<T>(
    path: string,
    timeoutMs: number,
    start: (done: (error: unknown, value: T) => void) => void,
  ): Promise<T> {
    if (this.#ended) return Promise.reject(new ZkError("CLOSED", path, "session closed"));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new ZkError("TIMEOUT", path, `no answer from ZooKeeper within ${timeoutMs} ms`));
      }, timeoutMs);
      try {
        start((error, value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(toZkError(error, path));
          else resolve(value);
        });
      } catch (error) {
        settled = true;
        clearTimeout(timer);
        reject(toZkError(error, path));
      }
    });
  }
}
