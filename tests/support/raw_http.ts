/**
 * Raw-socket tools for hostile-client tests: send exact bytes, read what comes back until
 * the server closes (or a bound), and measure a process from /proc (RSS, fds, CPU).
 *
 * @module
 */
import { freePort } from "../../tools/ports.ts";
import { type Program, startProgram } from "./programs.ts";

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
 * Output of `command args` (empty when it fails). /proc is read through `cat`, `ls` and
 * `find`: Deno grants reads under /proc only with --allow-all, and the tests run with
 * deno.json's narrower set (`-P`).
 */
function procOutput(command: string, args: string[]): string {
  const out = new Deno.Command(command, { args, stderr: "null" }).outputSync();
  return out.success ? new TextDecoder().decode(out.stdout) : "";
}

/** Resident set size of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const match = procOutput("cat", [`/proc/${pid}/status`]).match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Open file descriptors of `pid` (`ls /proc/<pid>/fd`). */
export function fdCount(pid: number): number {
  return procOutput("ls", [`/proc/${pid}/fd`]).split("\n").filter(Boolean).length;
}

/** CPU seconds (user + system) `pid` has used. */
export function cpuSeconds(pid: number): number {
  const stat = procOutput("cat", [`/proc/${pid}/stat`]);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
}

/** Sockets of `pid` in CLOSE-WAIT (from /proc/net/tcp{,6} and its fd inodes). */
export function closeWaitCount(pid: number): number {
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
  let count = 0;
  for (
    const line of procOutput("sh", ["-c", "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; true"])
      .split("\n")
  ) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && cols[3] === "08" && inodes.has(cols[9])) count++;
  }
  return count;
}

/** The real provider process with its Triple and metrics ports. */
export interface ProviderProcess extends AsyncDisposable {
  program: Program;
  pid: number;
  port: number;
  metricsPort: number;
}

/** Starts `deno task server --registry=none --push=false` on free loopback ports. */
export async function startProviderProcess(extra: string[] = []): Promise<ProviderProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const program = startProgram("server", [
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
