/**
 * Runs the real Apache dubbo-js 3.0.0-alpha peer (`tests/support/dubbojs/peer.ts`, its
 * own config and lock) as a separate program: a server on two loopback ports, or a
 * client making a batch of calls.
 *
 * @module
 */

const DIR = new URL("./dubbojs/", import.meta.url).pathname;

function peerArgs(...rest: string[]): string[] {
  return ["run", "-A", "--config", `${DIR}deno.json`, `${DIR}peer.ts`, ...rest];
}

/** A running dubbo-js server. */
export interface DubboJsServer {
  /** Port of the HTTP/1.1 server. */
  http1: number;
  /** Port of the h2c (prior knowledge) server. */
  http2: number;
  /** Gzipped requests the server has received so far. */
  gzippedRequests(): Promise<number>;
  /** Stops the server (closes its stdin, then waits for it; kills it past 5 s). */
  close(): Promise<void>;
}

/** Starts a dubbo-js server; `requireHeader` makes it answer 400 without `TRI-Protocol-Version`. */
export async function startDubboJsServer(requireHeader = false): Promise<DubboJsServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: peerArgs("serve", ...(requireHeader ? ["--require-header"] : [])),
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill(), 60_000);
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
  }
  clearTimeout(timer);
  reader.releaseLock();
  void child.stdout.cancel().catch(() => {});
  if (!text.includes("\n")) {
    await child.status;
    throw new Error("the dubbo-js server exited before listening");
  }
  const ports = JSON.parse(text.split("\n")[0]) as { http1: number; http2: number };
  let closed: Promise<void> | undefined;
  return {
    ...ports,
    async gzippedRequests() {
      const response = await fetch(`http://127.0.0.1:${ports.http1}/stats`);
      return (await response.json()).gzipped;
    },
    close() {
      closed ??= (async () => {
        await child.stdin.close().catch(() => {});
        const timer = setTimeout(() => child.kill(), 5000);
        await child.status;
        clearTimeout(timer);
      })();
      return closed;
    },
  };
}

/** One call of a batch: `name` repeated `repeat` times, with an optional deadline. */
export interface DubboJsCall {
  name: string;
  repeat?: number;
  timeoutMs?: number;
}

/** What the dubbo-js client got: the greeting's first 100 chars and length, or an error. */
export type DubboJsResult =
  | { greeting: string; length: number; code?: undefined }
  | { code: string; message: string; greeting?: undefined };

/** Calls `url` with the dubbo-js client (Triple unary or gRPC), one batch per process. */
export async function dubboJsCall(spec: {
  url: string;
  http: "1.1" | "2";
  binary: boolean;
  gzip?: boolean;
  /** Use dubbo-node's gRPC transport (h2c) instead of Triple unary. */
  grpc?: boolean;
  calls: DubboJsCall[];
}): Promise<DubboJsResult[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: peerArgs("call", JSON.stringify({ gzip: false, ...spec })),
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`dubbo-js client failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return JSON.parse(stdout.trim().split("\n").pop()!);
}
