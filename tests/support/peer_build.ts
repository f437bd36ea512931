/**
 * Real Dubbo peers for the interop tests: builds each peer (tests/peers/<name>) once per
 * checkout into `tests/peers/.build/<name>-<hash of its sources>`, under a lock so parallel
 * test files build it once, and starts/stops the built programs by PID.
 *
 * A peer is a {@linkcode PeerBuilder} (sources + {@linkcode Toolchain} + build step); Go is
 * here, other toolchains (Maven) plug in the same way. A missing toolchain fails with one
 * line naming what to install ({@linkcode ToolchainMissing}).
 *
 * `deno run -A tests/support/peer_build.ts [name...]` warms the cache (for `.ci/run`).
 *
 * @module
 */
import { freePort } from "../../tools/ports.ts";
import { type ChildProcess, spawnProcess } from "./process.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Where builds are cached (ignored by git). */
export const BUILD_ROOT = `${ROOT}/tests/peers/.build`;

/** A build tool that must be installed on the machine. */
export interface Toolchain {
  /** Short name for messages, e.g. "Go". */
  readonly name: string;
  /** The executable looked up on PATH, e.g. "go", "mvn". */
  readonly command: string;
  /** What to install when it is missing (one line). */
  readonly install: string;
}

/** Thrown when a peer's toolchain is not on PATH; the message is the whole one line. */
export class ToolchainMissing extends Error {
  constructor(readonly toolchain: Toolchain) {
    super(
      `peer build: ${toolchain.name} toolchain missing ("${toolchain.command}" not on PATH): ${toolchain.install}`,
    );
    this.name = "ToolchainMissing";
  }
}

/** What a build step gets. */
export interface BuildContext {
  /** The peer's source folder (read only). */
  readonly src: string;
  /** An empty folder to write the build into; it becomes the cache folder. */
  readonly out: string;
  /** Absolute path of the toolchain's executable. */
  readonly tool: string;
  /** Environment to run the toolchain with. */
  readonly env: Record<string, string>;
  /** True when an earlier build of this peer exists in the cache (e.g. Maven can go `-o`). */
  readonly builtBefore: boolean;
}

/** A peer that can be built from its sources. */
export interface PeerBuilder {
  /** Cache key prefix and CLI name, e.g. "go". */
  readonly name: string;
  /** Source folder. */
  readonly src: string;
  readonly toolchain: Toolchain;
  /** File or folder names skipped when hashing the sources (build outputs). */
  readonly ignore?: readonly string[];
  /** Builds into `ctx.out`; throws with the tool's output on failure. */
  build(ctx: BuildContext): Promise<void>;
}

/** Where a build is and whether it came from the cache. */
export interface BuiltPeer {
  readonly dir: string;
  readonly cached: boolean;
}

/** Options for {@linkcode buildPeer}, mostly for the builder's own tests. */
export interface BuildOptions {
  /** Cache root (default {@linkcode BUILD_ROOT}). */
  cacheRoot?: string;
  /** Environment for the toolchain lookup and build (default: this process's). */
  env?: Record<string, string>;
  /** How long to wait for another process's build (default 10 min). */
  lockTimeoutMs?: number;
}

/** Finds `command` on `PATH` (from `env`); undefined when absent. */
export function findOnPath(command: string, env: Record<string, string>): string | undefined {
  for (const dir of (env.PATH ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${command}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${command}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Hex SHA-256 of every file under `dir` (paths and contents, sorted), skipping `ignore`. */
export async function hashSources(dir: string, ignore: readonly string[] = []): Promise<string> {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const entry of Deno.readDirSync(rel ? `${dir}/${rel}` : dir)) {
      if (ignore.includes(entry.name)) continue;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) files.push(path);
    }
  };
  walk("");
  files.sort();
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(
      encoder.encode(`${file}\0`),
      await Deno.readFile(`${dir}/${file}`),
      new Uint8Array(1),
    );
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  // `kill -0`, not a stat of /proc/<pid>: Deno grants reads under /proc only with --allow-all,
  // and the tests run with deno.json's narrower set.
  return new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" }).outputSync()
    .success;
}

/**
 * Builds `peer` unless `<cacheRoot>/<name>-<hash>` already holds a finished build; returns
 * that folder. Processes that race take a lock (an atomic mkdir holding the builder's PID);
 * the others wait for the finished folder. A stale lock (its PID gone) is taken over.
 */
export async function buildPeer(peer: PeerBuilder, options: BuildOptions = {}): Promise<BuiltPeer> {
  const env = options.env ?? Deno.env.toObject();
  const cacheRoot = options.cacheRoot ?? BUILD_ROOT;
  const tool = findOnPath(peer.toolchain.command, env);
  if (!tool) throw new ToolchainMissing(peer.toolchain);
  const hash = (await hashSources(peer.src, peer.ignore ?? [])).slice(0, 16);
  const dir = `${cacheRoot}/${peer.name}-${hash}`;
  if (exists(`${dir}/.done`)) return { dir, cached: true };
  await Deno.mkdir(cacheRoot, { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + (options.lockTimeoutMs ?? 600_000);
  while (true) {
    try {
      Deno.mkdirSync(lock);
      Deno.writeTextFileSync(`${lock}/pid`, String(Deno.pid));
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    if (exists(`${dir}/.done`)) return { dir, cached: true };
    let owner = NaN;
    try {
      owner = Number(Deno.readTextFileSync(`${lock}/pid`));
    } catch { /* being written */ }
    // An empty pid file (being written) reads as 0: only a real, gone PID makes a lock stale.
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      await Deno.remove(lock, { recursive: true }).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`peer build: timed out waiting for ${lock}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  try {
    if (exists(`${dir}/.done`)) return { dir, cached: true };
    const builtBefore = Array.from(Deno.readDirSync(cacheRoot)).some((entry) =>
      entry.name.startsWith(`${peer.name}-`) && exists(`${cacheRoot}/${entry.name}/.done`)
    );
    const tmp = `${dir}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { recursive: true });
    await peer.build({ src: peer.src, out: tmp, tool, env, builtBefore });
    await Deno.writeTextFile(`${tmp}/.done`, new Date().toISOString());
    await Deno.rename(tmp, dir);
    await pruneOlder(cacheRoot, peer.name, dir);
    return { dir, cached: false };
  } finally {
    await Deno.remove(lock, { recursive: true }).catch(() => {});
  }
}

/** Removes finished builds of `name` other than `keep` (old source hashes) from `cacheRoot`. */
async function pruneOlder(cacheRoot: string, name: string, keep: string): Promise<void> {
  for (const entry of Deno.readDirSync(cacheRoot)) {
    const path = `${cacheRoot}/${entry.name}`;
    if (path === keep || !/^[\w.-]+-[0-9a-f]{16}$/.test(entry.name)) continue;
    if (!entry.name.startsWith(`${name}-`) || !exists(`${path}/.done`)) continue;
    await Deno.remove(path, { recursive: true }).catch(() => {});
  }
}

/** Runs `tool args` in `cwd`; throws with the tail of its output when it fails. */
export async function runTool(
  tool: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command(tool, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
  }).output();
  if (code !== 0) {
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    throw new Error(
      `peer build: ${tool} ${args.join(" ")} failed (${code}):\n${text.slice(-4000)}`,
    );
  }
}

/** The Go toolchain (go 1.25+, what dubbo-go v3.3.2's go.mod asks for). */
export const GO: Toolchain = {
  name: "Go",
  command: "go",
  install: "install Go 1.25 or newer (https://go.dev/dl) and put its bin folder on PATH",
};

/** Builds the Go module in `src` (provider and consumer commands) into `out`. */
export function goPeer(name: string, src: string): PeerBuilder {
  return {
    name,
    src,
    toolchain: GO,
    build: ({ src, out, tool, env }) =>
      runTool(tool, ["build", "-mod=readonly", "-o", `${out}/`, "./provider", "./consumer"], src, {
        ...env,
        GOTOOLCHAIN: "local",
        GOFLAGS: "-buildvcs=false",
      }),
  };
}

/** The dubbo-go v3.3 peer (tests/peers/go). */
export const GO_PEER: PeerBuilder = goPeer("go", `${ROOT}/tests/peers/go`);

/** Every peer `deno run -A tests/support/peer_build.ts` warms, by name. */
export const PEERS: Record<string, PeerBuilder> = { go: GO_PEER };

/** A peer program started by {@linkcode startPeerProcess}. */
export type PeerProcess = ChildProcess;

/**
 * Starts `binary args` with `env` added, capturing its output; `persistent` for a provider
 * (its exit on its own fails the test's next wait, tests/support/watchdog.ts).
 */
export function startPeerProcess(
  binary: string,
  args: string[],
  env: Record<string, string> = {},
  persistent = false,
): PeerProcess {
  return spawnProcess(binary, args, {
    name: binary.slice(binary.lastIndexOf("/") + 1),
    env,
    persistent,
  });
}

/** dubbo-go registry type (`-register`): default = application-level only in 3.3. */
export type GoRegister = "default" | "interface" | "service" | "all" | "none";

/** A running dubbo-go provider. */
export interface GoProvider extends PeerProcess {
  readonly port: number;
  readonly metricsPort: number;
}

/** Options of the dubbo-go provider. */
export interface GoProviderOptions {
  /** `host:port` of ZooKeeper (not needed with register "none"). */
  zk?: string;
  register?: GoRegister;
  /** Fraction of calls failing with "random error" (default 0). */
  failRate?: number;
  /** Business delay per call, e.g. "50ms". */
  delay?: string;
  /** End the delay at the caller's deadline (the seed's handler sleeps through it). */
  honorDeadline?: boolean;
  app?: string;
}

async function tcpOpen(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Builds (cached) and starts the dubbo-go provider on free loopback ports; ready when serving. */
export async function startGoProvider(options: GoProviderOptions = {}): Promise<GoProvider> {
  const { dir } = await buildPeer(GO_PEER);
  const port = await freePort();
  const metricsPort = await freePort();
  const process = startPeerProcess(
    `${dir}/provider`,
    [
      "-host=127.0.0.1",
      `-port=${port}`,
      `-metrics-port=${metricsPort}`,
      `-register=${options.register ?? "default"}`,
      `-fail-rate=${options.failRate ?? 0}`,
      `-delay=${options.delay ?? "0s"}`,
      `-honor-deadline=${options.honorDeadline ?? false}`,
      `-app=${options.app ?? "dubbo.io"}`,
    ],
    { ZK_ADDRESS: options.zk ?? "127.0.0.1:1", DUBBO_IP_TO_REGISTRY: "127.0.0.1" },
    true,
  );
  let gone = false;
  process.exited.then(() => gone = true);
  const deadline = Date.now() + 30_000;
  while (!(await tcpOpen(port) && await tcpOpen(metricsPort))) {
    if (gone || Date.now() > deadline) {
      await process.stop(1000);
      throw new Error(
        `dubbo-go provider ${gone ? "exited" : "not serving after 30 s"}:\n${
          process.output().slice(-3000)
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Object.assign(process, { port, metricsPort });
}

/** Options of the dubbo-go consumer. */
export interface GoConsumerOptions {
  zk?: string;
  register?: GoRegister;
  /** Direct provider URL, e.g. `tri://127.0.0.1:20000`. */
  url?: string;
  /** Number of calls (default 10). */
  n?: number;
  /** Per-call timeout, e.g. "3s". */
  timeout?: string;
  /** Pause between calls, e.g. "20ms". */
  interval?: string;
  /** Retry the first call until it succeeds or this passes (async subscription), e.g. "20s". */
  warmup?: string;
  /** Failover retries (default: dubbo-go's own default). */
  retries?: number;
  /** Keep running after the summary (to scrape its metrics) until stopped. */
  linger?: boolean;
  app?: string;
}

/** A running dubbo-go consumer. */
export interface GoConsumer extends PeerProcess {
  readonly metricsPort: number;
  /** The `warmup` it was started with (undefined: none). */
  readonly warmup: string | undefined;
}

/** How a dubbo-go consumer's warm-up ended (its `WARMUP done` line). */
export interface GoWarmup {
  /** A provider answered (a reply or a Triple error); false: none within the warm-up. */
  reached: boolean;
  /** The last warm-up call succeeded. */
  ok: boolean;
  attempts: number;
  /** How long it took, e.g. `1.204s`. */
  after: string;
}

/** The warm-up result in a dubbo-go consumer's output, if it printed one. */
export function parseGoWarmup(output: string): GoWarmup | undefined {
  const m = output.match(/^WARMUP done reached=(\w+) ok=(\w+) attempts=(\d+) after=(\S+)$/m);
  if (!m) return undefined;
  return { reached: m[1] === "true", ok: m[2] === "true", attempts: Number(m[3]), after: m[4] };
}

/** Builds (cached) and starts the dubbo-go consumer; see {@linkcode parseGoResults}. */
export async function startGoConsumer(options: GoConsumerOptions = {}): Promise<GoConsumer> {
  const { dir } = await buildPeer(GO_PEER);
  const metricsPort = await freePort();
  const args = [
    `-n=${options.n ?? 10}`,
    `-timeout=${options.timeout ?? "3s"}`,
    `-interval=${options.interval ?? "0s"}`,
    `-warmup=${options.warmup ?? "0s"}`,
    `-metrics-port=${metricsPort}`,
    `-register=${options.register ?? "default"}`,
    `-app=${options.app ?? "dubbo.io"}`,
    `-linger=${options.linger ?? false}`,
  ];
  if (options.url) args.push(`-url=${options.url}`);
  if (options.retries !== undefined) args.push(`-retries=${options.retries}`);
  const process = startPeerProcess(`${dir}/consumer`, args, {
    ZK_ADDRESS: options.zk ?? "127.0.0.1:1",
    DUBBO_IP_TO_REGISTRY: "127.0.0.1",
  }, options.linger ?? false);
  return Object.assign(process, { metricsPort, warmup: options.warmup });
}

/** One call's result as the dubbo-go consumer printed it. */
export type GoResult =
  | { ok: true; greeting: string }
  | { ok: false; code: string; message: string };

/** The `RESULT` lines of a dubbo-go consumer's output, in order. */
export function parseGoResults(output: string): GoResult[] {
  const results: GoResult[] = [];
  for (const line of output.split("\n")) {
    const ok = line.match(/^RESULT \d+ ok (.*)$/);
    if (ok) {
      results.push({ ok: true, greeting: ok[1] });
      continue;
    }
    const err = line.match(/^RESULT \d+ err code=(\S+) message=(.*)$/);
    if (err) results.push({ ok: false, code: err[1], message: err[2] });
  }
  return results;
}

if (import.meta.main) {
  const names = Deno.args.length ? Deno.args : Object.keys(PEERS);
  for (const name of names) {
    const peer = PEERS[name];
    if (!peer) {
      console.error(`peer build: unknown peer "${name}" (known: ${Object.keys(PEERS).join(", ")})`);
      Deno.exit(2);
    }
    const started = performance.now();
    try {
      const built = await buildPeer(peer);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`peer ${name}: ${built.cached ? "cached" : "built"} ${built.dir} (${seconds} s)`);
    } catch (error) {
      console.error(error instanceof ToolchainMissing ? error.message : String(error));
      Deno.exit(1);
    }
  }
}
