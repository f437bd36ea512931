/**
 * Raw-socket tools for hostile-client tests: send exact bytes, read what comes back until
 * the server closes (or a bound), and measure a process from /proc (RSS, fds, CPU).
 *
 * @module
 */
import { freePort } from "../../tools/ports.ts";
import { type Program, startProgramIn } from "./programs.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");

/** What came back on one connection. */
export interface RawResult {
  /** Everything read, as latin1 text. */
  text: string;
  /** True when the server closed the connection (EOF or reset) within the bound. */
  closed: boolean;
  /** Status codes of the responses seen, in order. */
  statuses: number[];
}

/** Bytes of a latin1 string (one byte per char) or of `bytes` as they are. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Reads from `conn` until EOF, an error, or `timeoutMs`; never throws. */
export async function readAll(conn: Deno.Conn, timeoutMs: number): Promise<RawResult> {
  const chunks: string[] = [];
  const buffer = new Uint8Array(64 * 1024);
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    for (;;) {
      const n = await Promise.race([conn.read(buffer), timeout]);
      if (n === "timeout") break;
      if (n === null) {
        closed = true;
        break;
      }
      chunks.push(decoder.decode(buffer.subarray(0, n)));
    }
  } catch {
    closed = true; // reset by the server
  } finally {
    clearTimeout(timer);
  }
  const text = chunks.join("");
  const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  return { text, closed, statuses };
}

/**
 * Sends `request` (latin1 text or bytes) on a fresh connection, half-closes if asked, and
 * reads the answer until the server closes or `timeoutMs`.
 */
export async function rawRequest(
  port: number,
  request: string | Uint8Array,
  options: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<RawResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = typeof request === "string" ? latin1Bytes(request) : request;
    await writeAllBytes(conn, bytes).catch(() => {});
    if (options.halfClose) await conn.closeWrite().catch(() => {});
    return await readAll(conn, options.timeoutMs ?? 5000);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Writes all of `bytes`. */
export async function writeAllBytes(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** A valid greet request over HTTP/1.1 with `extra` header lines (each ending in CRLF). */
export function greetRequest(extra = "", body = '{"name":"x"}'): string {
  return `POST /greet.GreetService/Greet HTTP/1.1\r\nHost: a\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;
}

/**
 * Output of `command args`; throws when the command fails, so that a helper that cannot
 * measure (the process is gone, /proc unreadable) fails the test instead of reading as 0.
 * /proc is read through `cat`, `ls` and `find`: Deno grants reads under /proc only with
 * --allow-all, and the tests run with deno.json's narrower set (`-P`).
 */
function procOutput(command: string, args: string[]): string {
  const out = new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`cannot measure: ${command} ${args.join(" ")} failed: ${why}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** A `kB` field of /proc/<pid>/status in bytes; throws when it cannot be read. */
function statusBytes(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = procOutput("cat", [`/proc/${pid}/status`]);
  const match = status.match(new RegExp(`${field}:\\s+(\\d+) kB`));
  if (!match) throw new Error(`cannot measure: no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resident set size of `pid` in bytes; throws when it cannot be read. */
export function rssBytes(pid: number): number {
  return statusBytes(pid, "VmRSS");
}

/** Peak resident set size of `pid` (VmHWM) since start or {@linkcode resetPeakRss}. */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, "VmHWM");
}

/** Resets `pid`'s peak RSS to its current RSS (`5` into /proc/<pid>/clear_refs). */
export function resetPeakRss(pid: number): void {
  procOutput("sh", ["-c", `echo 5 > /proc/${pid}/clear_refs`]);
}

/** Open file descriptors of `pid` (`ls /proc/<pid>/fd`); throws when it cannot list them. */
export function fdCount(pid: number): number {
  return procOutput("ls", [`/proc/${pid}/fd`]).split("\n").filter(Boolean).length;
}

/** CPU seconds (user + system) `pid` has used; throws when it cannot be read. */
export function cpuSeconds(pid: number): number {
  const stat = procOutput("cat", [`/proc/${pid}/stat`]);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime in clock ticks
  if (!Number.isFinite(ticks)) throw new Error(`cannot measure: /proc/${pid}/stat is ${stat}`);
  return ticks / 100;
}

/** Socket inodes among `pid`'s open fds. */
function socketInodes(pid: number): Set<string> {
  const links = procOutput("find", [
    `/proc/${pid}/fd`,
    "-maxdepth",
    "1",
    "-type",
    "l",
    "-printf",
    "%l\n",
  ]);
  const inodes = new Set<string>();
  for (const target of links.split("\n")) {
    const m = target.match(/^socket:\[(\d+)\]$/);
    if (m) inodes.add(m[1]);
  }
  return inodes;
}

/** One row of /proc/net/tcp: ports, state (hex), queues and inode. */
interface TcpRow {
  localPort: number;
  remotePort: number;
  state: string;
  txQueue: number;
  rxQueue: number;
  inode: string;
}

/** The IPv4 and IPv6 TCP sockets of this network namespace. */
function tcpRows(): TcpRow[] {
  const rows: TcpRow[] = [];
  const text = procOutput("cat", ["/proc/net/tcp", "/proc/net/tcp6"]);
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10 || !/^\d+:$/.test(cols[0])) continue;
    const [tx, rx] = cols[4].split(":").map((hex) => parseInt(hex, 16));
    rows.push({
      localPort: parseInt(cols[1].split(":")[1], 16),
      remotePort: parseInt(cols[2].split(":")[1], 16),
      state: cols[3],
      txQueue: tx,
      rxQueue: rx,
      inode: cols[9],
    });
  }
  return rows;
}

/** Sockets of `pid` in CLOSE-WAIT (from /proc/net/tcp{,6} and its fd inodes). */
export function closeWaitCount(pid: number): number {
  const inodes = socketInodes(pid);
  return tcpRows().filter((row) => row.state === "08" && inodes.has(row.inode)).length;
}

/**
 * The kernel queues of the TCP socket from `localPort` to `remotePort`: bytes sent but not
 * yet acknowledged (`tx`) and bytes received but not yet read by its process (`rx`).
 * Throws when there is no such socket.
 */
export function tcpQueues(localPort: number, remotePort: number): { tx: number; rx: number } {
  const row = tcpRows().find((r) => r.localPort === localPort && r.remotePort === remotePort);
  if (!row) throw new Error(`cannot measure: no socket 127.0.0.1:${localPort} → :${remotePort}`);
  return { tx: row.txQueue, rx: row.rxQueue };
}

/** The most bytes the kernel queues on one loopback connection (receive + send buffer maxima). */
export function kernelBufferBytes(): number {
  const max = (file: string) => Number(procOutput("cat", [file]).trim().split(/\s+/)[2]);
  return max("/proc/sys/net/ipv4/tcp_rmem") + max("/proc/sys/net/ipv4/tcp_wmem");
}

/**
 * Proves that the provider process the test started is still the one serving: `pid` is
 * alive (not a zombie), the socket listening on its Triple port is one of its fds, and a
 * real greet call answers over HTTP/1.1 and over h2c (prior knowledge, with curl).
 */
export async function assertSameProcessServes(server: ProviderProcess): Promise<void> {
  const state = procOutput("cat", [`/proc/${server.pid}/stat`]).split(") ")[1]?.[0];
  if (state === undefined || state === "Z") {
    throw new Error(`provider pid ${server.pid} is gone:\n${server.program.output().slice(-3000)}`);
  }
  const listening = tcpRows().find((r) => r.localPort === server.port && r.state === "0A");
  if (!listening || !socketInodes(server.pid).has(listening.inode)) {
    throw new Error(`port ${server.port} is not listened on by pid ${server.pid}`);
  }
  const name = `alive-${server.pid}`;
  const http1 = await rawRequest(
    server.port,
    greetRequest("Connection: close\r\n", JSON.stringify({ name })),
  );
  if (http1.statuses[0] !== 200 || !http1.text.endsWith(`{"greeting":"${name}"}`)) {
    throw new Error(`HTTP/1.1 greet after the attack: ${http1.text.slice(0, 500)}`);
  }
  const h2c = new Deno.Command("curl", {
    args: [
      "-s",
      "--max-time",
      "10",
      "--http2-prior-knowledge",
      "-H",
      "Content-Type: application/json",
      "-d",
      JSON.stringify({ name }),
      `http://127.0.0.1:${server.port}/greet.GreetService/Greet`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const answer = new TextDecoder().decode(h2c.stdout);
  if (answer !== `{"greeting":"${name}"}`) {
    throw new Error(
      `h2c greet after the attack: ${answer} ${new TextDecoder().decode(h2c.stderr)}`,
    );
  }
}

/** The real provider process with its Triple and metrics ports. */
export interface ProviderProcess extends AsyncDisposable {
  program: Program;
  pid: number;
  port: number;
  metricsPort: number;
}

/**
 * Starts `deno task server --registry=none --push=false` on free loopback ports. With
 * `HOSTILE_CHECKOUT=<dir>` it starts that checkout's server instead (e.g. a worktree of
 * the commit before issue 13's hardening, to see the hostile tests' bounds trip there).
 */
export async function startProviderProcess(extra: string[] = []): Promise<ProviderProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const checkout = Deno.env.get("HOSTILE_CHECKOUT");
  const program = startProgramIn(checkout, "server", [
    "--registry=none",
    "--push=false",
    "--host=127.0.0.1",
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    "--failure-rate=0",
    "--delay=0ms",
    ...extra,
  ]);
  await program.waitForLine(/provider greet\.GreetService/);
  return {
    program,
    pid: program.pid,
    port,
    metricsPort,
    [Symbol.asyncDispose]: () => program[Symbol.asyncDispose](),
  };
}

/** `text` as bytes (UTF-8). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
