/**
 * Configuration for the three programs: flags (via `node:util` `parseArgs`) and
 * environment variables turned into a typed, validated value before any I/O starts.
 *
 * Every problem is reported as a {@linkcode ConfigError} naming the flag or variable;
 * {@linkcode loadConfig} turns it into one stderr line and exit code 2.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseDuration } from "./_duration.ts";
import { describe, PermissionMissing, requireEnv, requirePermissions } from "./permissions.ts";

export { parseDuration };

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

/** A bad flag or variable; `message` is the whole one-line explanation. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The environment as a plain lookup, so tests need no real variables. */
export type Env = Record<string, string | undefined>;

type FlagSpec = {
  type: "string" | "boolean";
  help: string;
  default?: string;
};

const COMMON_FLAGS: Record<string, FlagSpec> = {
  push: { type: "boolean", help: "push metrics to the Pushgateway (--push=false: pull only)" },
  "push-interval": { type: "string", help: "push period", default: "10s" },
  instance: {
    type: "string",
    help: "instance grouping label on push",
    default: "<ip>:<metrics-port>",
  },
  "metrics-path": { type: "string", help: "scrape endpoint path", default: "/prometheus" },
  registry: { type: "string", help: "zookeeper | none", default: "zookeeper" },
  host: { type: "string", help: "address the listeners bind to", default: "0.0.0.0" },
  "advertise-ip": {
    type: "string",
    help: "IP written to the registry and labels (env DUBBO_IP_TO_REGISTRY)",
    default: "first non-loopback interface",
  },
  help: { type: "boolean", help: "show this help" },
};

const FLAGS: Record<Program, Record<string, FlagSpec>> = {
  server: {
    port: { type: "string", help: "Triple port (HTTP/1.1 and h2c)", default: "20000" },
    "metrics-port": { type: "string", help: "scrape endpoint port", default: "9099" },
    app: { type: "string", help: "application_name", default: "dubbo-metrics-server" },
    "failure-rate": {
      type: "string",
      help: "share of calls failing with unknown",
      default: "0.0099",
    },
    delay: { type: "string", help: "business delay per successful call", default: "10ms" },
    "register-mode": {
      type: "string",
      help: "interface | instance | all (registry layouts written)",
      default: "all",
    },
    "max-connections": {
      type: "string",
      help: "connections held at once on the Triple port",
      default: "10000",
    },
    ...COMMON_FLAGS,
  },
  client: {
    "metrics-port": { type: "string", help: "scrape endpoint port", default: "9097" },
    app: { type: "string", help: "application_name", default: "dubbo-metrics-client" },
    url: { type: "string", help: "direct provider, e.g. tri://127.0.0.1:20000" },
    interval: { type: "string", help: "pause between calls of one worker", default: "1s" },
    concurrency: { type: "string", help: "parallel workers", default: "1" },
    count: { type: "string", help: "stop after N calls (0 = forever)", default: "0" },
    timeout: { type: "string", help: "per-call deadline", default: "3s" },
    retries: { type: "string", help: "failover retries for unavailable", default: "2" },
    serialization: { type: "string", help: "protobuf | json", default: "protobuf" },
    discovery: {
      type: "string",
      help: "interface | instance | auto (application-level first)",
      default: "auto",
    },
    protocol: { type: "string", help: "triple | grpc", default: "grpc" },
    http: { type: "string", help: "1.1 | 2 (h2c prior knowledge)", default: "2" },
    ...COMMON_FLAGS,
  },
  cleaner: {
    pushgw: {
      type: "string",
      help: "Pushgateway URL",
      default: "$PUSHGATEWAY_URL or http://127.0.0.1:9091",
    },
    ttl: { type: "string", help: "groups older than this are stale", default: "1h" },
    "job-prefix": {
      type: "string",
      help: "only jobs with this prefix; empty = all",
      default: "dubbo_",
    },
    daemon: { type: "boolean", help: "keep running, clean every --interval" },
    interval: { type: "string", help: "daemon period", default: "60s" },
    "metrics-port": { type: "string", help: "daemon /metrics port", default: "9105" },
    "dry-run": { type: "boolean", help: "report what would be deleted, delete nothing" },
    host: { type: "string", help: "address the daemon's /metrics binds to", default: "0.0.0.0" },
    help: { type: "boolean", help: "show this help" },
  },
};

const ENV_HELP: Record<Program, string[]> = {
  server: [
    "PUSHGATEWAY_URL   Pushgateway address (default 127.0.0.1:9091, http:// assumed)",
    "JOB_NAME          push job label (default dubbo_server)",
    "PUSHGATEWAY_USER, PUSHGATEWAY_PASS   basic auth for push and delete",
    "ZK_ADDRESS        ZooKeeper connect string (default 127.0.0.1:2181)",
    "DUBBO_IP_TO_REGISTRY   IP to advertise (containers)",
  ],
  client: [
    "PUSHGATEWAY_URL   Pushgateway address (default 127.0.0.1:9091, http:// assumed)",
    "JOB_NAME          push job label (default dubbo_client)",
    "PUSHGATEWAY_USER, PUSHGATEWAY_PASS   basic auth for push and delete",
    "ZK_ADDRESS        ZooKeeper connect string (default 127.0.0.1:2181)",
    "DUBBO_IP_TO_REGISTRY   IP to advertise (containers)",
  ],
  cleaner: [
    "PUSHGATEWAY_URL   default for --pushgw",
    "PUSHGATEWAY_USER, PUSHGATEWAY_PASS   basic auth",
  ],
};

/** Usage text for one program, as printed by `--help`. */
export function usage(program: Program): string {
  const lines = [`Usage: deno task ${program} [flags]`, "", "Flags:"];
  for (const [name, spec] of Object.entries(FLAGS[program])) {
    const arg = spec.type === "boolean" ? "" : "=<value>";
    const def = spec.default !== undefined ? ` (default ${spec.default})` : "";
    lines.push(`  --${(name + arg).padEnd(24)} ${spec.help}${def}`);
  }
  lines.push("", "Durations: Go style (500ms, 10s, 1m, 1h) or plain seconds.", "", "Environment:");
  for (const line of ENV_HELP[program]) lines.push(`  ${line}`);
  return lines.join("\n");
}

/**
 * Parses flags and environment for `program`. Throws {@linkcode ConfigError} with a
 * one-line message naming the culprit; never touches the network or files.
 *
 * @example
 * ```ts
 * const parsed = parseConfig("server", ["--port=20001"], {});
 * if (!parsed.help) console.log(parsed.config.port); // 20001
 * ```
 */
export function parseConfig(program: "server", args: string[], env: Env): Parsed<ServerConfig>;
export function parseConfig(program: "client", args: string[], env: Env): Parsed<ClientConfig>;
export function parseConfig(program: "cleaner", args: string[], env: Env): Parsed<CleanerConfig>;
export function parseConfig(
  program: Program,
  args: string[],
  env: Env,
): Parsed<ServerConfig | ClientConfig | CleanerConfig>;
export function parseConfig(
  program: Program,
  args: string[],
  env: Env,
): Parsed<ServerConfig | ClientConfig | CleanerConfig> {
  const values = parseFlags(program, args);
  if (values.help === true) return { help: true, usage: usage(program) };
  const flags = new Flags(values);
  if (program === "cleaner") return { help: false, config: cleanerConfig(flags, env) };
  const common = commonConfig(program, flags, env);
  if (program === "server") {
    return {
      help: false,
      config: {
        ...common,
        program,
        port: flags.port("port", 20000),
        failureRate: flags.rate("failure-rate", 1 / 101),
        delayMs: flags.duration("delay", 10, true),
        registerMode: flags.oneOf(
          "register-mode",
          ["interface", "instance", "all"] as const,
          "all",
        ),
        maxConnections: flags.integer("max-connections", 10_000, 1, 1_000_000),
      },
    };
  }
  const config: ClientConfig = {
    ...common,
    program,
    url: flags.has("url") ? parseDirectUrl(flags.string("url", "")) : undefined,
    intervalMs: flags.duration("interval", 1000, true),
    concurrency: flags.integer("concurrency", 1, 1, 10_000),
    count: flags.integer("count", 0, 0, Number.MAX_SAFE_INTEGER),
    timeoutMs: flags.duration("timeout", 3000, false),
    retries: flags.integer("retries", 2, 0, 100),
    serialization: flags.oneOf("serialization", ["protobuf", "json"] as const, "protobuf"),
    discovery: flags.oneOf("discovery", ["interface", "instance", "auto"] as const, "auto"),
    protocol: flags.oneOf("protocol", ["triple", "grpc"] as const, "grpc"),
    http: flags.oneOf("http", ["1.1", "2"] as const, "2"),
  };
  if (config.registry === "none" && config.url === undefined) {
    throw new ConfigError(
      "--url: required with --registry=none (e.g. --url=tri://127.0.0.1:20000)",
    );
  }
  return { help: false, config };
}

/**
 * Parses `Deno.args` and `Deno.env` for `program`; prints usage and exits 0 on `--help`,
 * prints one line and exits 2 on any bad value or a permission the config needs but the
 * process lacks.
 */
export function loadConfig(program: "server"): ServerConfig;
export function loadConfig(program: "client"): ClientConfig;
export function loadConfig(program: "cleaner"): CleanerConfig;
export function loadConfig(program: Program): ServerConfig | ClientConfig | CleanerConfig {
  try {
    requireEnv(ENV_VARS[program]);
    const parsed = parseConfig(program, Deno.args, readEnv(program));
    if (parsed.help) {
      console.log(parsed.usage);
      Deno.exit(0);
    }
    requirePermissions(parsed.config);
    return parsed.config;
  } catch (error) {
    if (error instanceof PermissionMissing) {
      console.error(describe(program, error));
      Deno.exit(2);
    }
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${program}: ${error.message} (see --help)`);
    Deno.exit(2);
  }
}

/** The variables each program reads: the deno.json tasks grant exactly these. */
export const ENV_VARS: Record<Program, readonly string[]> = {
  server: [
    "PUSHGATEWAY_URL",
    "JOB_NAME",
    "PUSHGATEWAY_USER",
    "PUSHGATEWAY_PASS",
    "ZK_ADDRESS",
    "DUBBO_IP_TO_REGISTRY",
  ],
  client: [
    "PUSHGATEWAY_URL",
    "JOB_NAME",
    "PUSHGATEWAY_USER",
    "PUSHGATEWAY_PASS",
    "ZK_ADDRESS",
    "DUBBO_IP_TO_REGISTRY",
  ],
  cleaner: ["PUSHGATEWAY_URL", "PUSHGATEWAY_USER", "PUSHGATEWAY_PASS"],
};

function readEnv(program: Program): Env {
  const env: Env = {};
  for (const name of ENV_VARS[program]) env[name] = Deno.env.get(name);
  return env;
}

function parseFlags(program: Program, args: string[]): Record<string, string | boolean> {
  const specs = FLAGS[program];
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type };
  // Go-style booleans: `--push=false` / `--push=true` become plain string values.
  const normalized: string[] = [];
  for (const arg of args) {
    const match = /^--?([a-z-]+)=(.*)$/s.exec(arg);
    if (match && specs[match[1]]?.type === "boolean") {
      const value = match[2].toLowerCase();
      if (!["true", "false", "1", "0", "t", "f"].includes(value)) {
        throw new ConfigError(`--${match[1]}: expected true or false, got "${match[2]}"`);
      }
      normalized.push(["true", "1", "t"].includes(value) ? `--${match[1]}` : `--no-${match[1]}`);
    } else {
      normalized.push(arg);
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === "boolean") options[`no-${name}`] = { type: "boolean" };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: normalized, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new ConfigError(describeParseError(error));
  }
  const values: Record<string, string | boolean> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value !== "string" && typeof value !== "boolean") continue;
    if (name.startsWith("no-") && specs[name.slice(3)]?.type === "boolean") {
      values[name.slice(3)] = false;
    } else {
      values[name] = value;
    }
  }
  return values;
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `${unknown[1]}: unknown flag`;
  const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
  if (missing) return `${missing[1]}: a value is required`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `${positional[1]}: unexpected argument (flags are --name=value)`;
  const firstLine = message.split("\n")[0];
  return firstLine.replace(/\. To specify.*$/, "");
}

/** Typed access to parsed flag values with one-line errors. */
class Flags {
  constructor(private readonly values: Record<string, string | boolean>) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  string(name: string, fallback: string): string {
    const value = this.values[name];
    return typeof value === "string" ? value : fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.values[name];
    return typeof value === "boolean" ? value : fallback;
  }

  port(name: string, fallback: number): number {
    if (!this.has(name)) return fallback;
    const raw = this.string(name, "");
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 1 && value <= 65535)) {
      throw new ConfigError(`--${name}: expected a port 1-65535, got "${raw}"`);
    }
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    if (!this.has(name)) return fallback;
    const raw = this.string(name, "");
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      throw new ConfigError(`--${name}: expected an integer ${min}-${max}, got "${raw}"`);
    }
    return value;
  }

  rate(name: string, fallback: number): number {
    if (!this.has(name)) return fallback;
    const raw = this.string(name, "");
    const value = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 0 && value <= 1)) {
      throw new ConfigError(`--${name}: expected a number between 0 and 1, got "${raw}"`);
    }
    return value;
  }

  duration(name: string, fallbackMs: number, allowZero: boolean): number {
    if (!this.has(name)) return fallbackMs;
    const raw = this.string(name, "");
    const value = parseDuration(raw);
    if (value === undefined || (!allowZero && value === 0)) {
      const what = allowZero ? "a duration" : "a positive duration";
      throw new ConfigError(
        `--${name}: expected ${what} like 500ms, 10s, 1m or seconds, got "${raw}"`,
      );
    }
    return value;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    if (!this.has(name)) return fallback;
    const raw = this.string(name, "");
    if (!(choices as readonly string[]).includes(raw)) {
      throw new ConfigError(`--${name}: expected one of ${choices.join(", ")}, got "${raw}"`);
    }
    return raw as T;
  }
}

function commonConfig(program: "server" | "client", flags: Flags, env: Env): CommonConfig {
  const metricsPort = flags.port("metrics-port", program === "server" ? 9099 : 9097);
  const metricsPath = flags.string("metrics-path", "/prometheus");
  if (!/^\/[\w\-./]*$/.test(metricsPath)) {
    throw new ConfigError(`--metrics-path: expected a path starting with /, got "${metricsPath}"`);
  }
  const instance = flags.has("instance") ? flags.string("instance", "") : undefined;
  if (instance !== undefined && instance === "") {
    throw new ConfigError(`--instance: expected a non-empty label value`);
  }
  const app = flags.string(
    "app",
    program === "server" ? "dubbo-metrics-server" : "dubbo-metrics-client",
  );
  if (app.trim() === "") throw new ConfigError(`--app: expected a non-empty application name`);
  const advertiseFlag = flags.has("advertise-ip") ? flags.string("advertise-ip", "") : undefined;
  const advertiseIp = advertiseFlag ?? nonEmpty(env.DUBBO_IP_TO_REGISTRY);
  if (advertiseIp !== undefined && !isIp(advertiseIp)) {
    const culprit = advertiseFlag !== undefined ? "--advertise-ip" : "DUBBO_IP_TO_REGISTRY";
    throw new ConfigError(`${culprit}: expected an IPv4 or IPv6 address, got "${advertiseIp}"`);
  }
  const host = flags.string("host", "0.0.0.0");
  if (!isIp(host) && host !== "localhost") {
    throw new ConfigError(`--host: expected an IP address to bind to, got "${host}"`);
  }
  return {
    push: flags.boolean("push", true),
    pushIntervalMs: flags.duration("push-interval", 10_000, false),
    instance,
    metricsPort,
    metricsPath,
    app,
    registry: flags.oneOf("registry", ["zookeeper", "none"] as const, "zookeeper"),
    zkAddress: parseZkAddress(nonEmpty(env.ZK_ADDRESS) ?? "127.0.0.1:2181"),
    host,
    advertiseIp,
    pushgateway: {
      url: parsePushgatewayUrl(
        "PUSHGATEWAY_URL",
        nonEmpty(env.PUSHGATEWAY_URL) ?? "127.0.0.1:9091",
      ),
      job: parseJob(
        nonEmpty(env.JOB_NAME) ?? (program === "server" ? "dubbo_server" : "dubbo_client"),
      ),
      user: nonEmpty(env.PUSHGATEWAY_USER),
      pass: nonEmpty(env.PUSHGATEWAY_PASS),
    },
  };
}

function cleanerConfig(flags: Flags, env: Env): CleanerConfig {
  const fromFlag = flags.has("pushgw");
  const raw = fromFlag
    ? flags.string("pushgw", "")
    : nonEmpty(env.PUSHGATEWAY_URL) ?? "http://127.0.0.1:9091";
  const host = flags.string("host", "0.0.0.0");
  if (!isIp(host) && host !== "localhost") {
    throw new ConfigError(`--host: expected an IP address to bind to, got "${host}"`);
  }
  return {
    program: "cleaner",
    pushgateway: {
      url: parsePushgatewayUrl(fromFlag ? "--pushgw" : "PUSHGATEWAY_URL", raw),
      job: "",
      user: nonEmpty(env.PUSHGATEWAY_USER),
      pass: nonEmpty(env.PUSHGATEWAY_PASS),
    },
    ttlMs: flags.duration("ttl", 3_600_000, false),
    jobPrefix: flags.string("job-prefix", "dubbo_"),
    daemon: flags.boolean("daemon", false),
    intervalMs: flags.duration("interval", 60_000, false),
    metricsPort: flags.port("metrics-port", 9105),
    dryRun: flags.boolean("dry-run", false),
    host,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Normalizes a Pushgateway address: `http://` assumed without a scheme, `https://`
 * allowed, no path/query, credentials rejected (use PUSHGATEWAY_USER/PASS instead).
 */
export function parsePushgatewayUrl(culprit: string, raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(
      `${culprit}: expected host:port or http(s)://host:port, got a malformed URL`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `${culprit}: expected an http:// or https:// URL, got scheme "${url.protocol}"`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigError(
      `${culprit}: credentials in the URL are not allowed; use PUSHGATEWAY_USER and PUSHGATEWAY_PASS`,
    );
  }
  if (url.search || url.hash) {
    throw new ConfigError(`${culprit}: expected no query or fragment in the Pushgateway URL`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

function parseJob(job: string): string {
  if (job.includes("/")) {
    throw new ConfigError(`JOB_NAME: expected a job name without "/", got "${job}"`);
  }
  return job;
}

/** Validates a ZooKeeper connect string: `host:port[,host:port...][/chroot]`. */
export function parseZkAddress(raw: string): string {
  const slash = raw.indexOf("/");
  const hosts = slash === -1 ? raw : raw.slice(0, slash);
  const chroot = slash === -1 ? "" : raw.slice(slash);
  const bad = (why: string) =>
    new ConfigError(`ZK_ADDRESS: expected host:port[,host:port...][/chroot], ${why} in "${raw}"`);
  if (chroot !== "" && !/^(\/[\w.\-]+)+$/.test(chroot)) throw bad("bad chroot path");
  for (const part of hosts.split(",")) {
    if (part.trim().startsWith("[")) {
      throw bad(`IPv6 literal "${part}" (the ZooKeeper client cannot use it; use a hostname)`);
    }
    const match = /^([\w.\-]+)(?::(\d+))?$/.exec(part.trim());
    if (!match) throw bad(`bad host "${part}"`);
    if (match[2] !== undefined) {
      const port = Number(match[2]);
      if (!(port >= 1 && port <= 65535)) throw bad(`bad port "${match[2]}"`);
    }
  }
  return raw;
}

function parseDirectUrl(raw: string): DirectUrl {
  const bad = () => new ConfigError(`--url: expected tri://host:port, got "${raw}"`);
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `tri://${raw}`;
  if (!withScheme.startsWith("tri://")) throw bad();
  let url: URL;
  try {
    url = new URL(withScheme.replace(/^tri:/, "http:"));
  } catch {
    throw bad();
  }
  const port = Number(url.port);
  if (url.hostname === "" || !(port >= 1 && port <= 65535)) throw bad();
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

function isIp(value: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(value)) {
    return value.split(".").every((part) => Number(part) <= 255);
  }
  return /^[0-9a-fA-F:]+$/.test(value) && value.includes(":");
}
