/**
 * Real ZooKeeper, Prometheus and Pushgateway for `deno task stack` and the tests (which
 * import it directly): each started from its Debian binary on
 * a loopback port with a temp dir, polled until ready, and stopped by PID.
 *
 * @example
 * ```ts
 * await using zk = await startZooKeeper();
 * console.log(zk.address); // "127.0.0.1:40123"
 * ```
 *
 * @module
 */
import { freePort } from "./ports.ts";
import { concat } from "../lib/bytes.ts";
import { errorText } from "../lib/error_text.ts";
import { requirePackage } from "./requirements.ts";

/** A running service started by this harness. */
export interface Service extends AsyncDisposable {
  /** `host:port` of the service. */
  readonly address: string;
  /** The port it listens on. */
  readonly port: number;
  /** `http://host:port` for HTTP services. */
  readonly url: string;
  /** Its temp dir (config, data, log). */
  readonly dir: string;
  /** The process id, for stopping (and for tests that kill it). */
  pid(): number;
  /** Everything it wrote to stdout/stderr so far. */
  log(): string;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and waits for exit; keeps the temp dir. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops it and removes the temp dir. */
  close(): Promise<void>;
  /**
   * Undefined while it runs or after {@linkcode stop}; once it exited on its own, an error
   * naming it, its exit code and its last log lines.
   */
  exitedOnItsOwn(): Error | undefined;
}

/** Where to listen and keep data; defaults to a free loopback port and a fresh temp dir. */
export interface ServiceOptions {
  port?: number;
  dir?: string;
  /** Keep the dir on close (e.g. `deno task stack` with a user-chosen dir). */
  keepDir?: boolean;
}

/** Options for Prometheus. */
export interface PrometheusOptions extends ServiceOptions {
  /** Full prometheus.yml text. Default: scrape nothing, global scrape_interval 1s. */
  config?: string;
  /** Extra files written next to prometheus.yml (e.g. rule files), name → content. */
  files?: Record<string, string>;
}

/** Options for the Pushgateway. */
export interface PushgatewayOptions extends ServiceOptions {
  /** Basic auth: the user and its bcrypt hash (e.g. from `bcryptHash`). */
  basicAuth?: { user: string; bcryptHash: string };
}

const READY_TIMEOUT_MS = 30_000;

/** Starts ZooKeeper 3.8 standalone (`QuorumPeerMain`), ready when `srvr` reports its mode. */
export async function startZooKeeper(options: ServiceOptions = {}): Promise<Service> {
  const port = options.port ?? await freePort();
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "zk-" });
  await Deno.mkdir(`${dir}/data`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/zoo.cfg`,
    [
      "tickTime=2000",
      "initLimit=5",
      "syncLimit=2",
      `dataDir=${dir}/data`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "admin.enableServer=false",
      "4lw.commands.whitelist=ruok,srvr,stat,mntr,cons",
      "maxSessionTimeout=60000",
      "minSessionTimeout=2000",
      "",
    ].join("\n"),
  );
  return await launch({
    name: "zookeeper",
    port,
    dir,
    keepDir: options.keepDir,
    command: "java",
    args: [
      "-Xmx256m",
      `-Dzookeeper.log.dir=${dir}`,
      "-cp",
      `${dir}:/usr/share/java/zookeeper.jar`,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      `${dir}/zoo.cfg`,
    ],
    // `ruok` answers imok before the server serves requests; `srvr` reports a mode only then.
    ready: async () => /Mode: /.test(await fourLetterWord(port, "srvr")),
  });
}

/** Sends a ZooKeeper four-letter word (`ruok`, `srvr`, `cons`...) and returns the answer. */
export async function fourLetterWord(port: number, word: string): Promise<string> {
  let conn: Deno.Conn | undefined;
  // A server that accepts but never answers must not hang the caller.
  const timer = setTimeout(() => {
    try {
      conn?.close();
    } catch { /* already closed */ }
  }, 3000);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode(word));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    return new TextDecoder().decode(concat(chunks)).trim();
  } catch {
    return "";
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

/** Starts Prometheus with `--web.enable-lifecycle`, ready when `/-/ready` answers 200. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<Service> {
  const port = options.port ?? await freePort();
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "prom-" });
  await Deno.mkdir(`${dir}/data`, { recursive: true });
  const config = options.config ?? "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n";
  await Deno.writeTextFile(`${dir}/prometheus.yml`, config);
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await Deno.writeTextFile(`${dir}/${name}`, content);
  }
  return await launch({
    name: "prometheus",
    port,
    dir,
    keepDir: options.keepDir,
    command: "prometheus",
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-lifecycle",
    ],
    ready: () => httpOk(`http://127.0.0.1:${port}/-/ready`),
  });
}

/** Starts the Pushgateway, optionally with basic auth, ready when `/-/ready` answers. */
export async function startPushgateway(options: PushgatewayOptions = {}): Promise<Service> {
  const port = options.port ?? await freePort();
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "pgw-" });
  // Debian's build persists groups to /var/lib/prometheus by default: keep each
  // gateway's state in its own temp dir so tests never see each other's groups.
  const args = [
    `--web.listen-address=127.0.0.1:${port}`,
    `--persistence.file=${dir}/pushgateway.data`,
  ];
  if (options.basicAuth) {
    const { user, bcryptHash } = options.basicAuth;
    await Deno.writeTextFile(
      `${dir}/web.yml`,
      `basic_auth_users:\n  ${JSON.stringify(user)}: ${JSON.stringify(bcryptHash)}\n`,
    );
    args.push(`--web.config.file=${dir}/web.yml`);
  }
  // With auth on, /-/ready answers 401: any HTTP answer means it is up.
  const ready = options.basicAuth
    ? async () => (await httpStatus(`http://127.0.0.1:${port}/-/ready`)) !== 0
    : () => httpOk(`http://127.0.0.1:${port}/-/ready`);
  return await launch({
    name: "pushgateway",
    port,
    dir,
    keepDir: options.keepDir,
    command: "prometheus-pushgateway",
    args,
    ready,
  });
}

/**
 * Thrown by a {@linkcode waitFor} check when waiting longer cannot help (e.g. the process
 * being waited for exited): {@linkcode waitFor} rethrows it at once instead of polling on.
 *
 * @example
 * ```ts
 * const error = await waitFor("never", () => {
 *   throw new WaitAborted("gone");
 * }).catch((e) => e);
 * console.assert(error instanceof WaitAborted);
 * ```
 */
export class WaitAborted extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaitAborted";
  }
}

/**
 * Polls `check` until it returns true or `timeoutMs` passes; throws with `what` on timeout.
 * A check that throws is "not yet", except a {@linkcode WaitAborted}, which ends the wait.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof WaitAborted) throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

async function httpStatus(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

async function httpOk(url: string): Promise<boolean> {
  return (await httpStatus(url)) === 200;
}

interface LaunchSpec {
  name: string;
  port: number;
  dir: string;
  keepDir?: boolean;
  command: string;
  args: string[];
  ready: () => Promise<boolean>;
}

/** Spawns the service's binary; a missing binary is an error that says how to install it. */
function spawn(spec: LaunchSpec): Deno.ChildProcess {
  try {
    return new Deno.Command(spec.command, {
      args: spec.args,
      cwd: spec.dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `cannot start ${spec.name} (${spec.command}): ${errorText(error)}; ` +
        "install it with: apt-get install -y --no-install-recommends prometheus prometheus-pushgateway zookeeper",
    );
  }
}

async function launch(spec: LaunchSpec): Promise<Service> {
  let child: Deno.ChildProcess | undefined;
  let output = "";
  let exited: Promise<void> = Promise.resolve();
  /** Set when the running child exited without {@linkcode stop}. */
  let ownExit: Error | undefined;

  const start = async () => {
    // A missing package fails here, at once, with the command that installs it.
    requirePackage(spec.name === "pushgateway" ? "prometheus-pushgateway" : spec.name);
    child = spawn(spec);
    const current = child;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        output += decoder.decode(chunk, { stream: true });
        if (output.length > 200_000) output = output.slice(-100_000);
      }
    };
    exited = Promise.all([collect(current.stdout), collect(current.stderr), current.status]).then(
      () => {},
    );
    ownExit = undefined;
    current.status.then(async (status) => {
      if (child !== current) return; // stopped on purpose
      await exited;
      ownExit = exitError(spec.name, current.pid, status, output, "exited on its own");
    });
    try {
      await waitFor(`${spec.name} on 127.0.0.1:${spec.port}`, async () => {
        if (ownExit) throw new WaitAborted(ownExit.message);
        return await spec.ready();
      }, READY_TIMEOUT_MS);
    } catch (error) {
      await stop();
      const tail = error instanceof WaitAborted ? "" : `\n${lastLines(output, 30)}`;
      throw new Error(
        `${spec.name} did not become ready on 127.0.0.1:${spec.port}: ${errorText(error)}${tail}`,
      );
    }
  };

  const stop = async () => {
    const current = child;
    if (!current) return;
    child = undefined;
    try {
      current.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        current.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };

  const close = async () => {
    await stop();
    if (!spec.keepDir) await Deno.remove(spec.dir, { recursive: true }).catch(() => {});
  };

  await start();
  return {
    address: `127.0.0.1:${spec.port}`,
    port: spec.port,
    url: `http://127.0.0.1:${spec.port}`,
    dir: spec.dir,
    pid: () => child?.pid ?? -1,
    log: () => output,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    close,
    exitedOnItsOwn: () => ownExit,
    [Symbol.asyncDispose]: close,
  };
}

/** The last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string {
  return text.split("\n").filter((line) => line.trim() !== "").slice(-count).join("\n");
}

/**
 * The error for a child process that exited: its name, PID, exit code (and signal) and
 * its last 30 lines of `output`; `how` it exited, e.g. "exited on its own".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const status = { success: false, code: 3, signal: null };
 * const error = exitError("server", 42, status, "starting\nboom\n");
 * assert.equal(error.message, "server (pid 42) exited with code 3; its last lines:\nstarting\nboom");
 * ```
 */
export function exitError(
  name: string,
  pid: number,
  status: Deno.CommandStatus,
  output: string,
  how = "exited",
): Error {
  return new Error(
    `${name} (pid ${pid}) ${how} with code ${status.code}` +
      `${status.signal ? ` (${status.signal})` : ""}; its last lines:\n${lastLines(output, 30)}`,
  );
}
