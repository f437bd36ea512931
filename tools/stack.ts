/**
 * `deno task stack`: the sample's backing services for people without Docker. Starts real
 * ZooKeeper (2181), Pushgateway (9091) and Prometheus (9090, push and pull jobs plus the
 * rule files from `prometheus/`) from the binaries on PATH, prints where they are, and
 * stops them on Ctrl-C (SIGINT) or SIGTERM.
 *
 * Then run `deno task server` and `deno task client` in other terminals: they use these
 * default addresses, push to the Pushgateway and are scraped on 9099/9097.
 *
 * @example
 * ```ts
 * await using stack = await startStack({ zookeeperPort: 0, pushgatewayPort: 0, prometheusPort: 0 });
 * console.log(stack.summary());
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Service, startPrometheus, startPushgateway, startZooKeeper } from "./services.ts";
import { errorText } from "../lib/error_text.ts";

const PROMETHEUS_DIR = new URL("../prometheus/", import.meta.url);

/** Where the stack listens and what Prometheus scrapes. */
export interface StackOptions {
  /** ZooKeeper client port; default 2181; 0 = any free port. */
  zookeeperPort?: number;
  /** Pushgateway port; default 9091; 0 = any free port. */
  pushgatewayPort?: number;
  /** Prometheus port; default 9090; 0 = any free port. */
  prometheusPort?: number;
  /** The provider's scrape target; default `127.0.0.1:9099`. */
  providerTarget?: string;
  /** The consumer's scrape target; default `127.0.0.1:9097`. */
  consumerTarget?: string;
  /** Scrape and rule evaluation interval, e.g. `1s`; default the config's `15s`. */
  scrapeInterval?: string;
  /** Keep config and data here instead of a temp dir removed on close. */
  dir?: string;
}

/** The running services. */
export interface Stack extends AsyncDisposable {
  readonly zookeeper: Service;
  readonly pushgateway: Service;
  readonly prometheus: Service;
  /** The human-readable "where is what" text printed by `deno task stack`. */
  summary(): string;
  /** Stops all three (Prometheus first) and removes the temp dir. */
  close(): Promise<void>;
}

/** A port in use, a missing binary or a bad flag: the message says what to do. */
export class StackError extends Error {
  override name = "StackError";
}

/** Addresses substituted into `prometheus/prometheus.host.yml`. */
export interface HostTargets {
  pushgateway: string;
  prometheus: string;
  provider: string;
  consumer: string;
  /** Replaces the global scrape and evaluation interval when given. */
  scrapeInterval?: string;
}

/**
 * `prometheus/prometheus.host.yml` with its default 127.0.0.1 targets replaced by
 * `targets`; throws when the file no longer has a target it is expected to have.
 */
export function hostPrometheusConfig(text: string, targets: HostTargets): string {
  const replacements: [string, string][] = [
    ["127.0.0.1:9091", targets.pushgateway],
    ["127.0.0.1:9090", targets.prometheus],
    ["127.0.0.1:9099", targets.provider],
    ["127.0.0.1:9097", targets.consumer],
  ];
  let config = text;
  for (const [from, to] of replacements) {
    const pattern = `targets: [${from}]`;
    if (!config.includes(pattern)) {
      throw new StackError(`prometheus.host.yml: expected a target line "${pattern}"`);
    }
    config = config.replace(pattern, `targets: [${to}]`);
  }
  if (targets.scrapeInterval !== undefined) {
    config = config
      .replace(/^(\s+scrape_interval:) \S+$/m, `$1 ${targets.scrapeInterval}`)
      .replace(/^(\s+evaluation_interval:) \S+$/m, `$1 ${targets.scrapeInterval}`);
  }
  return config;
}

/** The rule files next to the Prometheus configs (`*.rules.yml`), name → content. */
export async function ruleFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const entry of Deno.readDir(PROMETHEUS_DIR)) {
    if (entry.isFile && entry.name.endsWith(".rules.yml")) {
      files[entry.name] = await Deno.readTextFile(new URL(entry.name, PROMETHEUS_DIR));
    }
  }
  return files;
}

/**
 * Starts ZooKeeper, the Pushgateway and Prometheus (in that order); on any failure stops
 * what already started and throws a {@linkcode StackError} naming the cause.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ports = {
    zookeeper: options.zookeeperPort ?? 2181,
    pushgateway: options.pushgatewayPort ?? 9091,
    prometheus: options.prometheusPort ?? 9090,
  };
  await checkBinaries();
  for (const [name, port] of Object.entries(ports)) checkPortFree(name, port);

  const root = options.dir ?? await Deno.makeTempDir({ prefix: "dubbo-stack-" });
  const keepDir = options.dir !== undefined;
  const dirFor = async (name: string) => {
    const dir = `${root}/${name}`;
    await Deno.mkdir(dir, { recursive: true });
    return dir;
  };
  const portOrFree = (port: number) => port === 0 ? undefined : port;

  const started: Service[] = [];
  const closeAll = async () => {
    for (const service of started.reverse()) await service.close();
    if (!keepDir) await Deno.remove(root, { recursive: true }).catch(() => {});
  };
  try {
    const zookeeper = await startZooKeeper({
      port: portOrFree(ports.zookeeper),
      dir: await dirFor("zookeeper"),
      keepDir,
    });
    started.push(zookeeper);
    const pushgateway = await startPushgateway({
      port: portOrFree(ports.pushgateway),
      dir: await dirFor("pushgateway"),
      keepDir,
    });
    started.push(pushgateway);
    // Prometheus scrapes itself, so its port must be known before the config is written.
    const prometheusPort = ports.prometheus === 0 ? anyFreePort() : ports.prometheus;
    const providerTarget = options.providerTarget ?? "127.0.0.1:9099";
    const consumerTarget = options.consumerTarget ?? "127.0.0.1:9097";
    const config = hostPrometheusConfig(
      await Deno.readTextFile(new URL("prometheus.host.yml", PROMETHEUS_DIR)),
      {
        pushgateway: pushgateway.address,
        prometheus: `127.0.0.1:${prometheusPort}`,
        provider: providerTarget,
        consumer: consumerTarget,
        scrapeInterval: options.scrapeInterval,
      },
    );
    const rules = await ruleFiles();
    const prometheus = await startPrometheus({
      port: prometheusPort,
      dir: await dirFor("prometheus"),
      keepDir,
      config,
      files: rules,
    });
    started.push(prometheus);

    const summary = () =>
      summaryText({ zookeeper, pushgateway, prometheus, providerTarget, consumerTarget }, {
        rules: Object.keys(rules),
        root,
        keepDir,
      });
    return {
      zookeeper,
      pushgateway,
      prometheus,
      summary,
      close: closeAll,
      [Symbol.asyncDispose]: closeAll,
    };
  } catch (error) {
    await closeAll();
    if (error instanceof StackError) throw error;
    throw new StackError(errorText(error));
  }
}

/** What `deno task stack` prints once everything is up. */
function summaryText(
  at: {
    zookeeper: Service;
    pushgateway: Service;
    prometheus: Service;
    providerTarget: string;
    consumerTarget: string;
  },
  data: { rules: string[]; root: string; keepDir: boolean },
): string {
  const { zookeeper, pushgateway, prometheus, providerTarget, consumerTarget } = at;
  const { root, keepDir } = data;
  return [
    "Dubbo metrics stack is up (Ctrl-C stops it):",
    `  ZooKeeper    ${zookeeper.address}`,
    `  Pushgateway  ${pushgateway.url}`,
    `  Prometheus   ${prometheus.url}`,
    `               push job: pushgateway ${pushgateway.address} (honor_labels)`,
    `               pull jobs: dubbo-provider ${providerTarget}/prometheus, ` +
    `dubbo-consumer ${consumerTarget}/prometheus`,
    `               rules: ${[...data.rules].sort().join(", ")}`,
    `  Data in ${root}${keepDir ? "" : " (removed on exit)"}`,
    "",
    "Next, in other terminals:",
    "  deno task server            # provider, pushes and serves :9099/prometheus",
    "  deno task client            # consumer, pushes and serves :9097/prometheus",
    "  (add --push=false to either for pull only)",
    "Grafana: add a Prometheus datasource with uid `prometheus` pointing at " +
    `${prometheus.url}, then import grafana/dashboards/dubbo-observability.json.`,
  ].join("\n");
}

function checkPortFree(name: string, port: number): void {
  if (port === 0) return;
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    listener.close();
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new StackError(
        `port ${port} (${name}) is busy: stop what listens there (another ${name}?) ` +
          `or choose another port with --${name}-port`,
      );
    }
    throw error;
  }
}

function anyFreePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const INSTALL_HINT =
  "install it with: apt-get install -y --no-install-recommends prometheus prometheus-pushgateway zookeeper";

async function checkBinaries(): Promise<void> {
  for (const command of ["java", "prometheus-pushgateway", "prometheus"]) {
    if (!await onPath(command)) {
      throw new StackError(`${command} not found on PATH; ${INSTALL_HINT}`);
    }
  }
  try {
    await Deno.stat("/usr/share/java/zookeeper.jar");
  } catch {
    throw new StackError(`/usr/share/java/zookeeper.jar not found; ${INSTALL_HINT}`);
  }
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = await Deno.stat(`${dir}/${command}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return true;
    } catch { /* not here */ }
  }
  return false;
}

const USAGE = `Usage: deno task stack [flags]

Starts real ZooKeeper, Pushgateway and Prometheus (push and pull jobs, rules from
prometheus/) on loopback; Ctrl-C stops them.

Flags:
  --zookeeper-port=<port>     default 2181
  --pushgateway-port=<port>   default 9091
  --prometheus-port=<port>    default 9090
  --provider-target=<h:p>     provider scrape target, default 127.0.0.1:9099
  --consumer-target=<h:p>     consumer scrape target, default 127.0.0.1:9097
  --dir=<path>                keep config and data here (default: a temp dir, removed on exit)
  --help                      show this help`;

/** Parses the `deno task stack` flags; throws {@linkcode StackError} on a bad one. */
export function parseStackArgs(args: string[]): StackOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        "zookeeper-port": { type: "string" },
        "pushgateway-port": { type: "string" },
        "prometheus-port": { type: "string" },
        "provider-target": { type: "string" },
        "consumer-target": { type: "string" },
        dir: { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new StackError(errorText(error));
  }
  if (values.help) return "help";
  const port = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 1 && value <= 65535)) {
      throw new StackError(`--${name}: expected a port 1-65535, got "${raw}"`);
    }
    return value;
  };
  const target = (name: string, raw: string | undefined) => {
    if (raw !== undefined && !/^[\w.\-]+:\d+$/.test(raw)) {
      throw new StackError(`--${name}: expected host:port, got "${raw}"`);
    }
    return raw;
  };
  return {
    zookeeperPort: port("zookeeper-port", values["zookeeper-port"]),
    pushgatewayPort: port("pushgateway-port", values["pushgateway-port"]),
    prometheusPort: port("prometheus-port", values["prometheus-port"]),
    providerTarget: target("provider-target", values["provider-target"]),
    consumerTarget: target("consumer-target", values["consumer-target"]),
    dir: values.dir,
  };
}

async function main(): Promise<void> {
  let options: StackOptions | "help";
  try {
    options = parseStackArgs(Deno.args);
  } catch (error) {
    console.error(`stack: ${errorText(error)} (see --help)`);
    Deno.exit(2);
  }
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  let stack: Stack;
  try {
    stack = await startStack(options);
  } catch (error) {
    console.error(`stack: ${errorText(error)}`);
    Deno.exit(1);
  }
  console.log(stack.summary());
  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(name, () => resolve(name));
    }
  });
  console.log(`\n${signal}: stopping Prometheus, Pushgateway and ZooKeeper...`);
  await stack.close();
  console.log("stopped");
  Deno.exit(0);
}

if (import.meta.main) await main();
