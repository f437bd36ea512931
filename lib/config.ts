/**
 * Configuration of the three programs as one table of flags and one of environment
 * variables: each entry names its programs, kind (parser), typed default and help, so
 * the usage text, the parser and the values come from the same place.
 *
 * {@linkcode parseConfig} is pure (arguments and environment in, config or
 * {@linkcode ConfigError} out); `cli.ts` applies it to the real process.
 *
 * @module
 */
import * as kind from "./_flag_kinds.ts";
import {
  type AnyFlag,
  type AnyVar,
  flag,
  get,
  type RawFlags,
  read,
  readFlags,
  renderUsage,
  variable,
} from "./_flags.ts";
import {
  type CleanerConfig,
  type ClientConfig,
  type CommonConfig,
  ConfigError,
  type Env,
  type Parsed,
  type Program,
  type ServerConfig,
} from "./config_types.ts";

const SERVER = ["server"] as const;
const CLIENT = ["client"] as const;
const CLEANER = ["cleaner"] as const;
const BOTH = ["server", "client"] as const;
const ALL = ["server", "client", "cleaner"] as const;

const appName = kind.text({ nonEmpty: "a non-empty application name" });

/** Flags, in the order `--help` lists them. */
const FLAG = {
  port: flag(SERVER, "port", kind.port, 20000, "Triple port (HTTP/1.1 and h2c)"),
  serverMetricsPort: flag(SERVER, "metrics-port", kind.port, 9099, "scrape endpoint port"),
  clientMetricsPort: flag(CLIENT, "metrics-port", kind.port, 9097, "scrape endpoint port"),
  serverApp: flag(SERVER, "app", appName, "dubbo-metrics-server", "application_name"),
  clientApp: flag(CLIENT, "app", appName, "dubbo-metrics-client", "application_name"),
  failureRate: flag(
    SERVER,
    "failure-rate",
    kind.rate,
    1 / 101,
    "share of calls failing with unknown",
  ),
  delay: flag(
    SERVER,
    "delay",
    kind.duration({ zero: true }),
    10,
    "business delay per successful call",
  ),
  registerMode: flag(
    SERVER,
    "register-mode",
    kind.oneOf(["interface", "instance", "all"]),
    "all",
    "interface | instance | all (registry layouts written)",
  ),
  maxConnections: flag(
    SERVER,
    "max-connections",
    kind.integer(1, 1_000_000),
    10_000,
    "connections held at once on the Triple port",
  ),
  url: flag(
    CLIENT,
    "url",
    kind.directUrl,
    undefined,
    "direct provider, e.g. tri://127.0.0.1:20000",
  ),
  interval: flag(
    CLIENT,
    "interval",
    kind.duration({ zero: true }),
    1000,
    "pause between calls of one worker",
  ),
  concurrency: flag(CLIENT, "concurrency", kind.integer(1, 10_000), 1, "parallel workers"),
  count: flag(
    CLIENT,
    "count",
    kind.integer(0, Number.MAX_SAFE_INTEGER),
    0,
    "stop after N calls (0 = forever)",
  ),
  timeout: flag(CLIENT, "timeout", kind.duration({ zero: false }), 3000, "per-call deadline"),
  retries: flag(CLIENT, "retries", kind.integer(0, 100), 2, "failover retries for unavailable"),
  serialization: flag(
    CLIENT,
    "serialization",
    kind.oneOf(["protobuf", "json"]),
    "protobuf",
    "protobuf | json",
  ),
  discovery: flag(
    CLIENT,
    "discovery",
    kind.oneOf(["interface", "instance", "auto"]),
    "auto",
    "interface | instance | auto (application-level first)",
  ),
  protocol: flag(CLIENT, "protocol", kind.oneOf(["triple", "grpc"]), "grpc", "triple | grpc"),
  http: flag(CLIENT, "http", kind.oneOf(["1.1", "2"]), "2", "1.1 | 2 (h2c prior knowledge)"),
  push: flag(
    BOTH,
    "push",
    kind.boolean,
    true,
    "push metrics to the Pushgateway (--push=false: pull only)",
  ),
  pushInterval: flag(BOTH, "push-interval", kind.duration({ zero: false }), 10_000, "push period"),
  instance: flag(
    BOTH,
    "instance",
    kind.text({ nonEmpty: "a non-empty label value" }),
    undefined,
    "instance grouping label on push",
    "<ip>:<metrics-port>",
  ),
  metricsPath: flag(BOTH, "metrics-path", kind.path, "/prometheus", "scrape endpoint path"),
  registry: flag(
    BOTH,
    "registry",
    kind.oneOf(["zookeeper", "none"]),
    "zookeeper",
    "zookeeper | none",
  ),
  host: flag(BOTH, "host", kind.bindHost, "0.0.0.0", "address the listeners bind to"),
  advertiseIp: flag(
    BOTH,
    "advertise-ip",
    kind.ip,
    undefined,
    "IP written to the registry and labels (env DUBBO_IP_TO_REGISTRY)",
    "first non-loopback interface",
  ),
  pushgw: flag(
    CLEANER,
    "pushgw",
    kind.pushgatewayUrl,
    undefined,
    "Pushgateway URL",
    "$PUSHGATEWAY_URL or http://127.0.0.1:9091",
  ),
  ttl: flag(
    CLEANER,
    "ttl",
    kind.duration({ zero: false }),
    3_600_000,
    "groups older than this are stale",
  ),
  jobPrefix: flag(
    CLEANER,
    "job-prefix",
    kind.text(),
    "dubbo_",
    "only jobs with this prefix; empty = all",
  ),
  daemon: flag(CLEANER, "daemon", kind.boolean, false, "keep running, clean every --interval"),
  cleanerInterval: flag(
    CLEANER,
    "interval",
    kind.duration({ zero: false }),
    60_000,
    "daemon period",
  ),
  cleanerMetricsPort: flag(CLEANER, "metrics-port", kind.port, 9105, "daemon /metrics port"),
  dryRun: flag(
    CLEANER,
    "dry-run",
    kind.boolean,
    false,
    "report what would be deleted, delete nothing",
  ),
  cleanerHost: flag(
    CLEANER,
    "host",
    kind.bindHost,
    "0.0.0.0",
    "address the daemon's /metrics binds to",
  ),
  help: flag(ALL, "help", kind.boolean, false, "show this help"),
};

/** Environment variables, in the order `--help` lists them. */
const VARIABLE = {
  pushgatewayUrl: variable(
    ALL,
    "PUSHGATEWAY_URL",
    kind.pushgatewayUrl,
    "127.0.0.1:9091",
    "Pushgateway address, http:// assumed",
  ),
  serverJob: variable(SERVER, "JOB_NAME", kind.job, "dubbo_server", "push job label"),
  clientJob: variable(CLIENT, "JOB_NAME", kind.job, "dubbo_client", "push job label"),
  user: variable(
    ALL,
    "PUSHGATEWAY_USER",
    kind.text(),
    undefined,
    "basic-auth user for push and delete",
  ),
  pass: variable(
    ALL,
    "PUSHGATEWAY_PASS",
    kind.text(),
    undefined,
    "basic-auth password for push and delete",
  ),
  zkAddress: variable(
    BOTH,
    "ZK_ADDRESS",
    kind.zkAddress,
    "127.0.0.1:2181",
    "ZooKeeper connect string",
  ),
  advertiseIp: variable(
    BOTH,
    "DUBBO_IP_TO_REGISTRY",
    kind.ip,
    undefined,
    "IP to advertise (containers); --advertise-ip wins",
  ),
};

const FLAGS: readonly AnyFlag[] = Object.values(FLAG);
const VARS: readonly AnyVar[] = Object.values(VARIABLE);

const flagsOf = (program: Program) => FLAGS.filter((f) => f.programs.includes(program));
const varsOf = (program: Program) => VARS.filter((v) => v.programs.includes(program));

/**
 * The variables each program reads: the deno.json tasks grant exactly these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(ENV_VARS.server.includes("ZK_ADDRESS"));
 * assert.ok(!ENV_VARS.cleaner.includes("ZK_ADDRESS")); // the cleaner never talks to ZooKeeper
 * ```
 */
export const ENV_VARS: Record<Program, readonly string[]> = {
  server: [...new Set(varsOf("server").map((v) => v.name))],
  client: [...new Set(varsOf("client").map((v) => v.name))],
  cleaner: [...new Set(varsOf("cleaner").map((v) => v.name))],
};

/**
 * Usage text for one program, as printed by `--help`; every default is the typed
 * default written back by its kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(usage("client"), /--timeout=<value> +per-call deadline \(default 3s\)/);
 * ```
 */
export function usage(program: Program): string {
  return renderUsage(program, flagsOf(program), varsOf(program));
}

/**
 * Parses flags and environment for `program`. Throws {@linkcode ConfigError} with a
 * one-line message naming the culprit; never touches the process, network or files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const parsed = parseConfig("server", ["--port=20001", "--push=false"], {});
 * assert.ok(!parsed.help);
 * assert.equal(parsed.config.port, 20001);
 * assert.equal(parsed.config.push, false);
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
  const raw = readFlags(flagsOf(program), args);
  if (get(raw, FLAG.help)) return { help: true, usage: usage(program) };
  switch (program) {
    case "server":
      return { help: false, config: serverConfig(raw, env) };
    case "client":
      return { help: false, config: clientConfig(raw, env) };
    case "cleaner":
      return { help: false, config: cleanerConfig(raw, env) };
  }
}

function commonConfig(program: "server" | "client", raw: RawFlags, env: Env): CommonConfig {
  const server = program === "server";
  return {
    push: get(raw, FLAG.push),
    pushIntervalMs: get(raw, FLAG.pushInterval),
    instance: get(raw, FLAG.instance),
    metricsPort: get(raw, server ? FLAG.serverMetricsPort : FLAG.clientMetricsPort),
    metricsPath: get(raw, FLAG.metricsPath),
    app: get(raw, server ? FLAG.serverApp : FLAG.clientApp),
    registry: get(raw, FLAG.registry),
    zkAddress: read(env, VARIABLE.zkAddress) ?? "",
    host: get(raw, FLAG.host),
    advertiseIp: get(raw, FLAG.advertiseIp) ?? read(env, VARIABLE.advertiseIp),
    pushgateway: {
      url: read(env, VARIABLE.pushgatewayUrl) ?? "",
      job: read(env, server ? VARIABLE.serverJob : VARIABLE.clientJob) ?? "",
      user: read(env, VARIABLE.user),
      pass: read(env, VARIABLE.pass),
    },
  };
}

function serverConfig(raw: RawFlags, env: Env): ServerConfig {
  return {
    ...commonConfig("server", raw, env),
    program: "server",
    port: get(raw, FLAG.port),
    failureRate: get(raw, FLAG.failureRate),
    delayMs: get(raw, FLAG.delay),
    registerMode: get(raw, FLAG.registerMode),
    maxConnections: get(raw, FLAG.maxConnections),
  };
}

function clientConfig(raw: RawFlags, env: Env): ClientConfig {
  const config: ClientConfig = {
    ...commonConfig("client", raw, env),
    program: "client",
    url: get(raw, FLAG.url),
    intervalMs: get(raw, FLAG.interval),
    concurrency: get(raw, FLAG.concurrency),
    count: get(raw, FLAG.count),
    timeoutMs: get(raw, FLAG.timeout),
    retries: get(raw, FLAG.retries),
    serialization: get(raw, FLAG.serialization),
    discovery: get(raw, FLAG.discovery),
    protocol: get(raw, FLAG.protocol),
    http: get(raw, FLAG.http),
  };
  if (config.registry === "none" && config.url === undefined) {
    throw new ConfigError(
      "--url: required with --registry=none (e.g. --url=tri://127.0.0.1:20000)",
    );
  }
  if (config.protocol === "grpc" && config.http !== "2") {
    throw new ConfigError("--protocol=grpc needs --http=2: gRPC runs over HTTP/2 only");
  }
  return config;
}

function cleanerConfig(raw: RawFlags, env: Env): CleanerConfig {
  return {
    program: "cleaner",
    pushgateway: {
      url: get(raw, FLAG.pushgw) ?? read(env, VARIABLE.pushgatewayUrl) ?? "",
      job: "",
      user: read(env, VARIABLE.user),
      pass: read(env, VARIABLE.pass),
    },
    ttlMs: get(raw, FLAG.ttl),
    jobPrefix: get(raw, FLAG.jobPrefix),
    daemon: get(raw, FLAG.daemon),
    intervalMs: get(raw, FLAG.cleanerInterval),
    metricsPort: get(raw, FLAG.cleanerMetricsPort),
    dryRun: get(raw, FLAG.dryRun),
    host: get(raw, FLAG.cleanerHost),
  };
}
