/**
 * A raw ZooKeeper session for tests: look at nodes the way an operator (or another Dubbo
 * process) would, independent of our registry code.
 *
 * @module
 */
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";

/** A connected raw ZooKeeper client. */
export interface RawZooKeeper extends AsyncDisposable {
  /** Children of `path`, URL-decoded; `[]` when the node does not exist. */
  children(path: string): Promise<string[]>;
  /** Data of `path` as text; `undefined` when the node does not exist. */
  data(path: string): Promise<string | undefined>;
  /** Session id (hex) owning the ephemeral `path`; `"0000000000000000"` for a persistent node. */
  owner(path: string): Promise<string | undefined>;
  /** Replaces the data of `path` (any version). */
  set(path: string, data: string): Promise<void>;
  /** Creates `path` (and missing parents) with `data`; `ephemeral` for a session node. */
  create(path: string, data?: string, ephemeral?: boolean): Promise<void>;
  /** Deletes `path` if it exists. */
  remove(path: string): Promise<void>;
  close(): void;
}

/** Connects to `address` (`host:port`) and resolves once connected. */
export function connectRaw(address: string): Promise<RawZooKeeper> {
  const client = zookeeper.createClient(address, { sessionTimeout: 4000, retries: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ZooKeeper at ${address}`)), 10_000);
    client.once("connected", () => {
      clearTimeout(timer);
      resolve(wrap(client));
    });
    client.connect();
  });
}

function wrap(client: zookeeper.Client): RawZooKeeper {
  const close = () => client.close();
  return {
    children: (path) =>
      new Promise((resolve, reject) => {
        client.getChildren(path, (error, children) => {
          if (isNoNode(error)) return resolve([]);
          if (error) return reject(error);
          resolve(children.map((child) => decodeURIComponent(child)));
        });
      }),
    data: (path) =>
      new Promise((resolve, reject) =>
        client.getData(path, (error, data) => {
          if (isNoNode(error)) return resolve(undefined);
          if (error) return reject(error);
          resolve(data ? data.toString() : "");
        })
      ),
    owner: (path) =>
      new Promise((resolve, reject) =>
        client.exists(path, (error, stat) => {
          if (error) return reject(error);
          resolve(stat ? Buffer.from(stat.ephemeralOwner).toString("hex") : undefined);
        })
      ),
    set: (path, data) =>
      new Promise((resolve, reject) =>
        client.setData(path, Buffer.from(data), -1, (error) => error ? reject(error) : resolve())
      ),
    create: async (path, data = "", ephemeral = false) => {
      const parent = path.slice(0, path.lastIndexOf("/"));
      if (parent) {
        await new Promise<void>((resolve, reject) =>
          client.mkdirp(parent, (error) => error ? reject(error) : resolve())
        );
      }
      await new Promise<void>((resolve, reject) =>
        client.create(
          path,
          Buffer.from(data),
          ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT,
          (error) => error ? reject(error) : resolve(),
        )
      );
    },
    remove: (path) =>
      new Promise((resolve, reject) =>
        client.remove(path, (error) => {
          if (error && !isNoNode(error)) return reject(error);
          resolve();
        })
      ),
    close,
    [Symbol.asyncDispose]: () => Promise.resolve(close()),
  };
}

function isNoNode(error: Error | zookeeper.Exception | null): boolean {
  return error instanceof zookeeper.Exception && error.getCode() === zookeeper.Exception.NO_NODE;
}
