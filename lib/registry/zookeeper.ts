/**
 * Dubbo's interface-level ZooKeeper registry: ephemeral provider and consumer nodes
 * under `/dubbo/<interface>/{providers,consumers}`, a watch on `providers`, and recovery
 * from connection loss and session expiry (nodes and watches re-created on a new session,
 * the last known providers kept meanwhile).
 *
 * A session counts as lost when ZooKeeper says it expired, or when the connection stays
 * down longer than the session timeout (as Curator does): ZooKeeper would have expired it
 * by then, and a restarted ZooKeeper could otherwise keep our stale nodes alive.
 *
 * @example
 * ```ts no-assert
 * const SERVICE = { name: "greet.GreetService", methods: ["Greet"] };
 * const registry = new ZooKeeperRegistry({ address: "127.0.0.1:2181", service: SERVICE, log: console.log });
 * // A provider: `await registry.register({ ip: "10.0.0.5", port: 20000, app: "server" });`
 * // a consumer: `const directory = await registry.subscribe({ ip: "10.0.0.7", app: "client" });`
 * // both connect on that first call; on shutdown (bounded even with ZooKeeper down):
 * await registry.close();
 * ```
 *
 * @module
 */
import { NO_REGISTRY_EVENTS, type RegistryObserver } from "../observe.ts";
import { ZkSession } from "./_zk.ts";
import { isTransient, reason } from "./_zk_error.ts";
import { type OwnNode, removeOwnNodes, writeOwnNode } from "./_own_nodes.ts";
import { endpointKey } from "../endpoint.ts";
import { type Directory, ProviderDirectory } from "./directory.ts";
import type { ConsumerInfo, ProviderInfo, Registry } from "./types.ts";
import { appMetadata, instanceJson, SERVICES_ROOT } from "./instance.ts";
import { mappingPath } from "./mapping.ts";
import { AppDiscovery } from "./app_discovery.ts";
import { InterfaceDiscovery } from "./interface_discovery.ts";
import { Selection } from "./selection.ts";
import { categoryPath, consumerUrl, nodeName, providerUrl, type ServiceInterface } from "./url.ts";

/**
 * Options of the ZooKeeper registry.
 *
 * @example
 * ```ts no-assert
 * const options: ZooKeeperRegistryOptions = {
 *   address: "zk1:2181,zk2:2181/chroot",
 *   service: { name: "greet.GreetService", methods: ["Greet"] },
 *   sessionTimeoutMs: 6_000,
 * };
 * await new ZooKeeperRegistry(options).close();
 * ```
 */
export interface ZooKeeperRegistryOptions {
  /** Connect string `host:port[,host:port...][/chroot]` (the chroot is created if missing). */
  address: string;
  /** The service registered and subscribed to. */
  service: ServiceInterface;
  /** Requested session timeout (ZooKeeper clamps it to 2..20 ticks); default 10 s. */
  sessionTimeoutMs?: number;
  /** How long `register`/`subscribe` wait for ZooKeeper before rejecting; default 10 s. */
  connectTimeoutMs?: number;
  /** Upper bound of `close()`, even with ZooKeeper down; default 1.5 s. */
  closeBudgetMs?: number;
  observer?: RegistryObserver;
  log?: (line: string) => void;
  /** `process.pid` in URLs; default `Deno.pid`. */
  pid?: number;
}

/**
 * Default requested session timeout: a killed provider disappears within about this long.
 */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/**
 * Default wait for ZooKeeper in `register`/`subscribe`, so a missing ZooKeeper is a
 * clear error instead of a hang.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Default bound of `close()`, so that shutdown stays quick with ZooKeeper down.
 */
export const DEFAULT_CLOSE_BUDGET_MS = 1_500;

/** One consumer subscription: its node, and the discoveries feeding its directory. */
interface Subscription {
  node: OwnNode;
  directory: ProviderDirectory;
  /** Interface-level and/or application-level discovery, per the discovery mode. */
  parts: Array<InterfaceDiscovery | AppDiscovery>;
}

/**
 * The ZooKeeper `Registry` (see the module doc): what `--registry=zookeeper` uses.
 *
 * @example
 * ```ts no-assert
 * const SERVICE = { name: "greet.GreetService", methods: ["Greet"] };
 * const registry = new ZooKeeperRegistry({ address: "127.0.0.1:2181/chroot", service: SERVICE, pid: 1 });
 * await registry.close();
 * ```
 */
export class ZooKeeperRegistry implements Registry {
  readonly #address: string;
  readonly #service: ServiceInterface;
  readonly #hosts: string;
  readonly #chroot: string;
  readonly #sessionTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #closeBudgetMs: number;
  readonly #observer: RegistryObserver;
  readonly #log: (line: string) => void;
  readonly #pid: number;
  #session: ZkSession | undefined;
  #nodes = new Map<string, OwnNode>();
  #subscriptions: Subscription[] = [];
  #closed = false;
  #lostTimer: ReturnType<typeof setTimeout> | undefined;
  #outage = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ZooKeeperRegistryOptions) {
    this.#address = options.address;
    this.#service = options.service;
    const slash = options.address.indexOf("/");
    this.#hosts = slash === -1 ? options.address : options.address.slice(0, slash);
    this.#chroot = slash === -1 ? "" : options.address.slice(slash).replace(/\/+$/, "");
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#closeBudgetMs = options.closeBudgetMs ?? DEFAULT_CLOSE_BUDGET_MS;
    this.#observer = options.observer ?? NO_REGISTRY_EVENTS;
    this.#log = options.log ?? (() => {});
    this.#pid = options.pid ?? Deno.pid;
  }

  async register(provider: ProviderInfo): Promise<void> {
    this.#assertOpen();
    const mode = provider.registerMode ?? "all";
    const written: string[] = [];
    if (mode !== "instance") {
      const url = providerUrl({
        ...provider,
        service: this.#service,
        pid: this.#pid,
        timestamp: Date.now(),
      });
      this.#own(
        `${categoryPath("providers", this.#chroot, this.#service.name)}/${nodeName(url)}`,
        provider.ip,
        "provider",
      );
      written.push(url);
    }
    if (mode !== "interface") {
      const metadata = provider.metadata ?? appMetadata({ ...provider, service: this.#service });
      const path =
        `${this.#chroot}${SERVICES_ROOT}/${provider.app}/${provider.ip}:${provider.port}`;
      const node = this.#own(
        path,
        instanceJson(metadata, provider.ip, provider.port),
        "instance",
      );
      node.mapping = { path: mappingPath(this.#service.name, this.#chroot), app: provider.app };
      written.push(`instance ${path} (revision ${metadata.revision})`);
    }
    try {
      await this.#whenConnected(`register ${written.join(", ")}`, async (session) => {
        for (const node of this.#nodes.values()) await this.#write(session, node);
      });
      for (const what of written) {
        this.#log(`registry: registered ${what} at zookeeper://${this.#address}`);
      }
    } catch (error) {
      throw this.#failure(`cannot register ${this.#service.name} provider`, error);
    }
  }

  #own(path: string, data: string, kind: OwnNode["kind"]): OwnNode {
    const node: OwnNode = { path, data, kind };
    if (kind !== "instance") node.service = this.#service.name;
    this.#nodes.set(path, node);
    return node;
  }

  async subscribe(consumer: ConsumerInfo): Promise<Directory> {
    this.#assertOpen();
    const url = consumerUrl({
      ...consumer,
      service: this.#service,
      pid: this.#pid,
      timestamp: Date.now(),
    });
    const node: OwnNode = {
      path: `${categoryPath("consumers", this.#chroot, this.#service.name)}/${nodeName(url)}`,
      data: consumer.ip,
      kind: "consumer",
      service: this.#service.name,
    };
    const directory = new ProviderDirectory();
    const mode = consumer.discovery ?? "auto";
    const options = {
      chroot: this.#chroot,
      filter: {
        interface: this.#service.name,
        group: consumer.group ?? "",
        version: consumer.version ?? "",
      },
      selection: new Selection(directory, mode, this.#log, this.#service.name),
      observer: this.#observer,
      log: this.#log,
      current: () => this.#session,
    };
    const subscription: Subscription = { node, directory, parts: [] };
    if (mode !== "instance") subscription.parts.push(new InterfaceDiscovery(options));
    if (mode !== "interface") subscription.parts.push(new AppDiscovery(options));
    this.#nodes.set(node.path, node);
    this.#subscriptions.push(subscription);
    try {
      await this.#whenConnected(`subscribe ${url}`, async (session) => {
        await this.#write(session, node);
        for (const part of subscription.parts) await part.follow(session);
      });
      this.#observer.subscribe(true);
      const found = subscription.directory.list().map(endpointKey).join(", ") || "none yet";
      this.#log(`registry: subscribed to ${this.#service.name} providers (${found})`);
      return subscription.directory;
    } catch (error) {
      this.#observer.subscribe(false);
      throw this.#failure(`cannot subscribe to ${this.#service.name}`, error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#lostTimer);
    for (const { parts } of this.#subscriptions) for (const part of parts) part.close();
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    const deadline = Date.now() + this.#closeBudgetMs;
    try {
      if (session.connected) {
        await removeOwnNodes(session, this.#nodes.values(), deadline);
      }
      await session.close(Math.max(0, deadline - Date.now()));
    } catch { /* close never throws */ }
    session.destroy();
    this.#log("registry: closed");
  }

  // ---- sessions ---------------------------------------------------------------------

  #current(): ZkSession {
    if (!this.#session) this.#session = this.#open();
    return this.#session;
  }

  #open(): ZkSession {
    const session: ZkSession = new ZkSession(this.#hosts, this.#sessionTimeoutMs, {
      connected: () => {
        if (session !== this.#session) return;
        clearTimeout(this.#lostTimer);
        if (this.#outage) this.#log(`registry: reconnected to ZooKeeper ${this.#hosts}`);
        this.#outage = false;
        this.#reconcile(session);
      },
      disconnected: () => {
        if (session !== this.#session || this.#closed) return;
        if (!this.#outage) {
          this.#log(
            `registry: lost ZooKeeper ${this.#hosts}; keeping the last known providers, reconnecting`,
          );
        }
        this.#outage = true;
        clearTimeout(this.#lostTimer);
        const timeout = session.sessionTimeout();
        this.#lostTimer = setTimeout(
          () => this.#renew(session, `no ZooKeeper for ${timeout} ms, session considered expired`),
          timeout,
        );
      },
      expired: () => this.#renew(session, "ZooKeeper session expired"),
    });
    return session;
  }

  /** Replaces a lost session; the new one re-creates nodes and watches once connected. */
  #renew(old: ZkSession, reason: string): void {
    if (old !== this.#session || this.#closed) return;
    clearTimeout(this.#lostTimer);
    this.#log(`registry: ${reason}; starting a new session (nodes and watches re-created)`);
    this.#outage = true;
    old.destroy();
    this.#session = this.#open();
  }

  /** After every (re)connect: write nodes missing in this session, re-list providers. */
  #reconcile(session: ZkSession): void {
    this.#serial(async () => {
      for (const node of this.#nodes.values()) {
        if (session !== this.#session) return;
        await this.#write(session, node);
      }
      for (const subscription of this.#subscriptions) {
        if (session !== this.#session) return;
        for (const part of subscription.parts) await part.follow(session);
      }
    }).catch((error) => {
      if (session === this.#session && !this.#closed) {
        this.#log(`registry: recovery incomplete, retrying on reconnect: ${reason(error)}`);
      }
    });
  }

  /**
   * Runs `work` on a connected session, serialized with other registry writes; retries
   * on a new session after connection loss, until `connectTimeoutMs` passes.
   */
  async #whenConnected(what: string, work: (session: ZkSession) => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.#connectTimeoutMs;
    let last: unknown;
    while (true) {
      this.#assertOpen();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no ZooKeeper session within ${this.#connectTimeoutMs} ms` +
            (last ? ` (last error: ${reason(last)})` : ""),
        );
      }
      const session = this.#current();
      try {
        await session.waitConnected(left);
        await this.#serial(() => work(session));
        return;
      } catch (error) {
        last = error;
        if (!isTransient(error)) throw error;
        if (this.#closed) throw new Error(`registry closed during ${what}`);
        // A reconnect or a new session may be on its way: try again shortly.
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(0, left))));
      }
    }
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  // ---- nodes ------------------------------------------------------------------------

  /** Writes our ephemeral node in `session` (see `writeOwnNode`), observing the write. */
  async #write(session: ZkSession, node: OwnNode): Promise<void> {
    if (node.writtenIn === session) return;
    const started = performance.now();
    try {
      await writeOwnNode(session, node, this.#chroot);
      this.#observeWrite(node, true, started);
    } catch (error) {
      this.#observeWrite(node, false, started);
      throw error;
    }
  }

  #observeWrite(node: OwnNode, ok: boolean, started: number): void {
    const ms = performance.now() - started;
    if (node.kind === "provider") this.#observer.register(ok, ms);
    if (node.kind === "instance") this.#observer.registerService?.(ok, ms);
  }

  // ---- helpers ----------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new Error("registry: closed");
  }

  #failure(what: string, error: unknown): Error {
    return new Error(`registry: ${what} at ZooKeeper ${this.#address}: ${reason(error)}`, {
      cause: error,
    });
  }
}
