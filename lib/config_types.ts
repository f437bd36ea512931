/**
 * The typed configuration of the three programs, as `parseConfig` in `config.ts`
 * returns it. Kept apart so modules that only read a config (permissions,
 * exporters, cleaner) import no parser.
 *
 * @module
 */

/** The programs this project ships. */
export type Program = "server" | "client" | "cleaner";

/** Where and how to push to a Pushgateway. */
export interface PushConfig {
  /** Base URL with scheme, no trailing slash, no credentials, e.g. `http://127.0.0.1:9091`. */
  url: string;
  /** The `job` grouping label. */
  job: string;
  /** Basic-auth user, if any. */
  user?: string;
  /** Basic-auth password, if any. Never log it. */
  pass?: string;
}

/** Settings shared by provider and consumer. */
export interface CommonConfig {
  /** `false` disables pushing entirely (pull only). */
  push: boolean;
  /** Push period in milliseconds. */
  pushIntervalMs: number;
  /** The `instance` grouping label; `undefined` means `<ip>:<metrics-port>`. */
  instance?: string;
  /** Scrape endpoint port. */
  metricsPort: number;
  /** Scrape endpoint path, starts with `/`. */
  metricsPath: string;
  /** `application_name` label. */
  app: string;
  /** Service discovery kind. */
  registry: "zookeeper" | "none";
  /** ZooKeeper connect string (`host:port[,host:port...][/chroot]`). */
  zkAddress: string;
  /** Address every listener binds to. */
  host: string;
  /** IP written into the registry and metric labels; `undefined` = detect. */
  advertiseIp?: string;
  /** Pushgateway settings (used only when {@linkcode CommonConfig.push} is true). */
  pushgateway: PushConfig;
}

/** Provider (`server.ts`) settings. */
export interface ServerConfig extends CommonConfig {
  program: "server";
  /** Triple port (HTTP/1.1 and h2c). */
  port: number;
  /** Share of calls failing with `unknown` / "random error", 0..1. */
  failureRate: number;
  /** Business delay per successful call, milliseconds. */
  delayMs: number;
  /** Registry layouts written: interface-level, application-level (instance), or both. */
  registerMode: "interface" | "instance" | "all";
  /** Connections held at once on the Triple port; past it new ones are closed at once. */
  maxConnections: number;
}

/** A provider address given directly with `--url`. */
export interface DirectUrl {
  host: string;
  port: number;
}

/** Consumer (`client.ts`) settings. */
export interface ClientConfig extends CommonConfig {
  program: "client";
  /** Direct provider (`--url`), required with `--registry=none`. */
  url?: DirectUrl;
  /** Pause between calls of one worker, milliseconds. */
  intervalMs: number;
  /** Parallel workers. */
  concurrency: number;
  /** Stop after this many calls; 0 = forever. */
  count: number;
  /** Per-call deadline, milliseconds. */
  timeoutMs: number;
  /** Failover retries on another provider for `unavailable`. */
  retries: number;
  /** Message encoding on the wire. */
  serialization: "protobuf" | "json";
  /** Which registry layout to discover providers in; `auto` = application-level first. */
  discovery: "interface" | "instance" | "auto";
  /** Wire protocol of calls: Triple (Connect-style unary) or gRPC. */
  protocol: "triple" | "grpc";
  /** HTTP version of calls: HTTP/1.1 or h2c (prior knowledge). */
  http: "1.1" | "2";
}

/** Pushgateway cleaner (`cleaner.ts`) settings. */
export interface CleanerConfig {
  program: "cleaner";
  /** Pushgateway base URL and credentials (`job` is unused). */
  pushgateway: PushConfig;
  /** Groups older than this are stale, milliseconds. */
  ttlMs: number;
  /** Only jobs starting with this; empty = all. */
  jobPrefix: string;
  /** Keep running and clean every {@linkcode CleanerConfig.intervalMs}. */
  daemon: boolean;
  /** Daemon period, milliseconds. */
  intervalMs: number;
  /** Daemon `/metrics` port. */
  metricsPort: number;
  /** Report only; delete nothing. */
  dryRun: boolean;
  /** Address the daemon's metrics listener binds to. */
  host: string;
}

/** Result of parsing: a config, or a request for usage text. */
export type Parsed<T> = { help: true; usage: string } | { help: false; config: T };

/**
 * A bad flag or variable; `message` is the whole one-line explanation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new ConfigError("--port: not a port: 99999");
 * assert.equal(error.name, "ConfigError");
 * assert.ok(error instanceof Error);
 * ```
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The environment as a plain lookup, so tests need no real variables. */
export type Env = Record<string, string | undefined>;
