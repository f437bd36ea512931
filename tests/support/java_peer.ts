/**
 * The Dubbo Java 3.3 peer (tests/peers/java): built once per checkout with Maven into
 * `tests/peers/.build/java-<hash of its sources>` (compiled classes plus the dependency
 * classpath), then started as a provider or consumer with plain `java -cp` on free loopback
 * ports with the harness's ZooKeeper, and stopped by PID.
 *
 * `deno run -A tests/support/java_peer.ts` builds it ahead of the tests (warms the cache).
 *
 * @example
 * ```ts
 * await using provider = await startJavaProvider({ zkAddress: zk.address });
 * const result = await runJavaConsumer({ zkAddress: zk.address, count: 5 });
 * ```
 *
 * @module
 */
import { type ChildProcess, spawnProcess } from "./process.ts";
import { freePort } from "../../tools/ports.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const PROJECT = `${ROOT}/tests/peers/java`;
const BUILD_ROOT = `${ROOT}/tests/peers/.build`;
const INSTALL_HINT =
  "install Java 17 and Maven: apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven";

/** A finished build: where it lives and the `java -cp` value. */
export interface JavaPeerBuild {
  dir: string;
  classpath: string;
}

let building: Promise<JavaPeerBuild> | undefined;

/**
 * Builds the Java peer unless a build of the same sources exists (`mvn -q -o` first, online
 * only when the local repository lacks something). One build per process, and a file lock
 * so parallel test processes build once. Throws one line naming what to install when java,
 * javac or mvn is missing.
 */
export function buildJavaPeer(log: (line: string) => void = () => {}): Promise<JavaPeerBuild> {
  building ??= doBuild(log).catch((error) => {
    building = undefined;
    throw error;
  });
  return building;
}

async function doBuild(log: (line: string) => void): Promise<JavaPeerBuild> {
  for (const [tool, args] of [["java", ["-version"]], ["javac", ["-version"]], ["mvn", ["-v"]]]) {
    await checkTool(tool as string, args as string[]);
  }
  const hash = await sourceHash();
  const dir = `${BUILD_ROOT}/java-${hash}`;
  const ready = await readBuild(dir);
  if (ready) return ready;
  await Deno.mkdir(BUILD_ROOT, { recursive: true });
  using lock = await Deno.open(`${BUILD_ROOT}/java.lock`, { create: true, write: true });
  await lock.lock(true);
  try {
    const again = await readBuild(dir);
    if (again) return again;
    log(`building the Dubbo Java peer into ${dir}`);
    const tmp = `${dir}.tmp-${Deno.pid}`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await buildJavaInto(tmp, log);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, dir);
    const built = await readBuild(dir);
    if (!built) throw new Error(`dubbo-java peer: build in ${dir} is incomplete`);
    await pruneOtherBuilds(dir);
    return built;
  } finally {
    await lock.unlock();
  }
}

/**
 * Runs Maven on tests/peers/java (offline first, online when the local repository lacks
 * something) and writes the build into `out`: `classes/` and `classpath.txt` (the dependency
 * jars, `:`-separated). The step a generic peer builder can call; `java -cp
 * out/classes:<classpath.txt>` then runs `peer.Provider` / `peer.Consumer`.
 */
export async function buildJavaInto(
  out: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  const deps = `${PROJECT}/target/classpath.txt`;
  const goals = ["-q", "-B", "compile", "dependency:build-classpath", `-Dmdep.outputFile=${deps}`];
  const offline = await mvn(["-o", ...goals]);
  if (!offline.ok) {
    log("offline Maven build failed; resolving online");
    const online = await mvn(goals);
    if (!online.ok) {
      throw new Error(`dubbo-java peer: mvn build failed:\n${online.output.slice(-3000)}`);
    }
  }
  await Deno.mkdir(out, { recursive: true });
  await copyDir(`${PROJECT}/target/classes`, `${out}/classes`);
  await Deno.writeTextFile(`${out}/classpath.txt`, (await Deno.readTextFile(deps)).trim());
}

/** Removes builds of older sources (this checkout's only; the lock is held). */
async function pruneOtherBuilds(keep: string): Promise<void> {
  for await (const entry of Deno.readDir(BUILD_ROOT)) {
    const path = `${BUILD_ROOT}/${entry.name}`;
    if (entry.isDirectory && entry.name.startsWith("java-") && path !== keep) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

async function checkTool(tool: string, args: string[]): Promise<void> {
  try {
    const { success } = await new Deno.Command(tool, { args, stdout: "null", stderr: "null" })
      .output();
    if (success) return;
  } catch { /* not installed */ }
  throw new Error(`dubbo-java peer: ${tool} not found; ${INSTALL_HINT}`);
}

async function mvn(args: string[]): Promise<{ ok: boolean; output: string }> {
  const result = await new Deno.Command("mvn", {
    args,
    cwd: PROJECT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: result.success,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/** A build whose classes and every classpath entry still exist, else undefined. */
async function readBuild(dir: string): Promise<JavaPeerBuild | undefined> {
  try {
    const deps = (await Deno.readTextFile(`${dir}/classpath.txt`)).trim().split(":");
    await Deno.stat(`${dir}/classes/peer/Provider.class`);
    for (const jar of deps) await Deno.stat(jar);
    return { dir, classpath: [`${dir}/classes`, ...deps].join(":") };
  } catch {
    return undefined;
  }
}

/** SHA-256 (first 16 hex digits) of the peer's pom, sources, resources and greet.proto. */
async function sourceHash(): Promise<string> {
  const files = [`${PROJECT}/pom.xml`, `${ROOT}/proto/greet/greet.proto`];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else files.push(full);
    }
  };
  await walk(`${PROJECT}/src`);
  files.sort();
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(encoder.encode(`${file.slice(ROOT.length)}\0`), await Deno.readFile(file));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length + 1;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** A running Java peer process (its output keeps the last 200 kB). */
export interface JavaProcess extends ChildProcess {
  /** Its QoS port, which serves Prometheus text at `/metrics`. */
  readonly metricsPort: number;
  /** `http://127.0.0.1:<metricsPort>/metrics`. */
  readonly metricsUrl: string;
}

/** A running Java provider. */
export interface JavaProvider extends JavaProcess {
  /** Its Triple port on 127.0.0.1. */
  readonly port: number;
}

/** Options of {@linkcode startJavaProvider}. */
export interface JavaProviderOptions {
  /** ZooKeeper `host:port`; without it the provider registers nowhere (direct calls only). */
  zkAddress?: string;
  /** `interface` | `instance` | `all`; omitted = Dubbo's default (`all`). */
  registerMode?: "interface" | "instance" | "all";
  failureRate?: number;
  delayMs?: number;
  app?: string;
}

const START_TIMEOUT_MS = 90_000;

/** Starts the Java provider on free loopback ports; resolves once it is exported. */
export async function startJavaProvider(
  options: JavaProviderOptions = {},
): Promise<JavaProvider> {
  const port = await freePort();
  const args = [`--port=${port}`, `--failure-rate=${options.failureRate ?? 0}`];
  if (options.delayMs) args.push(`--delay=${options.delayMs}`);
  if (options.registerMode) args.push(`--register-mode=${options.registerMode}`);
  if (options.app) args.push(`--app=${options.app}`);
  if (!options.zkAddress) args.push("--registry=none");
  const process = await spawnJava("peer.Provider", args, options.zkAddress, true);
  try {
    await process.waitForLine(/provider greet\.GreetService on/, START_TIMEOUT_MS);
  } catch (error) {
    await process.stop(1000);
    throw error;
  }
  return Object.assign(process, { port });
}

/**
 * Options of {@linkcode startJavaConsumer}. What is omitted stays at Dubbo's default: no
 * protocol, timeout 1000 ms, retries 2, check true, migration APPLICATION_FIRST.
 */
export interface JavaConsumerOptions {
  zkAddress?: string;
  /** Direct provider, e.g. `tri://127.0.0.1:20000` (no registry then). */
  url?: string;
  count: number;
  /** `reference.setTimeout` (ms). */
  timeoutMs?: number;
  /** `reference.setRetries`. */
  retries?: number;
  /** `reference.setCheck`. */
  check?: boolean;
  /** `reference.setProtocol`, e.g. `tri`. */
  protocol?: string;
  intervalMs?: number;
  /** Omitted = Dubbo's default (`APPLICATION_FIRST`). */
  migration?: "FORCE_INTERFACE" | "APPLICATION_FIRST" | "FORCE_APPLICATION";
  /** Keep running after the calls (for scraping its metrics) until stopped. */
  hold?: boolean;
  app?: string;
}

/** One result line of the Java consumer. */
export type JavaCallResult =
  | { ok: true; greeting: string }
  | { ok: false; code: string; message: string };

/** A running Java consumer. */
export interface JavaConsumer extends JavaProcess {
  /** Resolves with the per-call results once its `Summary:` line is printed. */
  results(timeoutMs?: number): Promise<JavaCallResult[]>;
  /**
   * The ZooKeeper layout its calls went through (`application-level`, `interface-level`,
   * or `direct`), from its `Layout:` line (printed before `Summary:`).
   */
  layout(): string | undefined;
}

/** Starts the Java consumer; it makes `count` calls, prints them, then exits (or holds). */
export async function startJavaConsumer(options: JavaConsumerOptions): Promise<JavaConsumer> {
  const args = [`--count=${options.count}`];
  if (options.timeoutMs !== undefined) args.push(`--timeout=${options.timeoutMs}`);
  if (options.retries !== undefined) args.push(`--retries=${options.retries}`);
  if (options.check !== undefined) args.push(`--check=${options.check}`);
  if (options.protocol !== undefined) args.push(`--protocol=${options.protocol}`);
  if (options.intervalMs) args.push(`--interval=${options.intervalMs}`);
  if (options.url) args.push(`--url=${options.url}`);
  if (options.migration) args.push(`--migration=${options.migration}`);
  if (options.hold) args.push("--hold=true");
  if (options.app) args.push(`--app=${options.app}`);
  const process = await spawnJava("peer.Consumer", args, options.zkAddress, !!options.hold);
  const results = async (timeoutMs = START_TIMEOUT_MS) => {
    await process.waitForLine(/^Summary: /m, timeoutMs);
    return parseResults(process.output());
  };
  const layout = () => process.output().match(/^Layout: (.*)$/m)?.[1];
  return Object.assign(process, { results, layout });
}

/** Parses the consumer's `Greet response: ...` / `Greet failed: <code>: <message>` lines. */
export function parseResults(output: string): JavaCallResult[] {
  const results: JavaCallResult[] = [];
  for (const line of output.split("\n")) {
    const ok = /^Greet response: (.*)$/.exec(line);
    if (ok) results.push({ ok: true, greeting: ok[1] });
    const failed = /^Greet failed: ([a-z_]+): (.*)$/.exec(line);
    if (failed) results.push({ ok: false, code: failed[1], message: failed[2] });
  }
  return results;
}

/** Starts `mainClass`; `persistent`: it runs until stopped (tests/support/watchdog.ts). */
async function spawnJava(
  mainClass: string,
  args: string[],
  zkAddress: string | undefined,
  persistent: boolean,
): Promise<JavaProcess> {
  const { classpath } = await buildJavaPeer();
  const metricsPort = await freePort();
  const child = spawnProcess("java", [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-cp",
    classpath,
    mainClass,
    `--metrics-port=${metricsPort}`,
    ...args,
  ], {
    name: mainClass,
    cwd: PROJECT,
    env: zkAddress ? { ZK_ADDRESS: zkAddress } : {},
    waitTimeoutMs: START_TIMEOUT_MS,
    outputLimit: 200_000,
    excerpt: relevant,
    persistent,
  });
  return { ...child, metricsPort, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

/** The last lines of Java output worth reading (no SLF4J/JUL preamble). */
function relevant(text: string): string {
  return text.split("\n").filter((line) => !/^(SLF4J|No such logging|Dubbo: )/.test(line))
    .slice(-40).join("\n");
}

if (import.meta.main) {
  const started = performance.now();
  try {
    const build = await buildJavaPeer((line) => console.log(line));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`Dubbo Java peer ready in ${build.dir} (${seconds} s)`);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
