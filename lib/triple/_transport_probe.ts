/**
 * Does a provider speak the transport the consumer chose? Asked after a call failed at the
 * connection level (whatever HTTP/2 client the transport uses: the question is put on a
 * fresh TCP connection): for h2c, send the HTTP/2 connection preface and an empty SETTINGS
 * frame and read the first bytes of the answer; for HTTP/1.1, send a bodiless request and
 * see whether HTTP/2 frames come back. A provider that answers the preface in HTTP/1.1,
 * closes or resets the connection on it, or answers HTTP/1.1 with HTTP/2 frames, does not
 * speak the chosen transport, and the consumer can say which flag to change.
 *
 * The probe is bounded: one connection, at most 64 bytes read, one deadline.
 *
 * @module
 */
import { FRAME_HEADER_BYTES, FrameType, PREFACE } from "../h2/frame.ts";
import { type Endpoint, endpointKey } from "../endpoint.ts";
import { RpcError } from "./_errors.ts";
import { closeQuietly } from "../net/mod.ts";

/**
 * How a provider failed the transport: it answered the preface in HTTP/1.1, closed or reset
 * the connection on the preface, or answered an HTTP/1.1 request with HTTP/2 frames.
 *
 * @example
 * ```ts no-assert
 * // What the consumer learned of a provider that answered the h2c preface in HTTP/1.1:
 * const seen: Mismatch = "http1-answer";
 * ```
 */
export type Mismatch = "http1-answer" | "closed-on-preface" | "reset-on-preface" | "h2c-only";

/** For each mismatch: the transport the provider does not speak, and what it showed. */
const SHOWN: Readonly<Record<Mismatch, { lacks: string; what: string }>> = {
  "http1-answer": { lacks: "h2c", what: "it answered the HTTP/2 preface in HTTP/1.1" },
  "closed-on-preface": { lacks: "h2c", what: "it closed the connection on the HTTP/2 preface" },
  "reset-on-preface": { lacks: "h2c", what: "it reset the connection on the HTTP/2 preface" },
  "h2c-only": { lacks: "HTTP/1.1", what: "it answered in HTTP/2" },
};

/** An empty SETTINGS frame: what a client sends right after the preface. */
const EMPTY_SETTINGS = new Uint8Array([0, 0, 0, FrameType.SETTINGS, 0, 0, 0, 0, 0]);
const HTTP1 = new TextEncoder().encode("HTTP/1.");
const READ_LIMIT = 64;

/** Whether `bytes` start with `prefix`. */
function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

/** Whether `bytes` start like an HTTP/2 frame a server sends first (SETTINGS or GOAWAY). */
function looksLikeH2(bytes: Uint8Array): boolean {
  if (bytes.length < FRAME_HEADER_BYTES) return false;
  const type = bytes[3];
  return (type === FrameType.SETTINGS || type === FrameType.GOAWAY) && bytes[0] === 0;
}

/** The first bytes the peer sends after `hello` (empty at EOF); throws on a reset or deadline. */
async function firstAnswer(conn: Deno.Conn, hello: Uint8Array, signal: AbortSignal) {
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(new DOMException("probe deadline", "TimeoutError"));
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
  });
  const exchange = (async () => {
    await conn.write(hello);
    const answer = new Uint8Array(READ_LIMIT);
    let filled = 0;
    while (filled < FRAME_HEADER_BYTES) {
      const read = await conn.read(answer.subarray(filled));
      if (read === null) break;
      filled += read;
    }
    return answer.subarray(0, filled);
  })();
  exchange.catch(() => {}); // settled by the race below, or abandoned after the deadline
  return await Promise.race([exchange, aborted]);
}

/** The first bytes `endpoint` answers to `hello`: empty at EOF, `"reset"`, or `undefined`. */
async function ask(
  endpoint: Endpoint,
  hello: Uint8Array,
  signal: AbortSignal,
): Promise<Uint8Array | "reset" | undefined> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: endpoint.host, port: endpoint.port, signal });
  } catch {
    return undefined; // refused or unreachable: down, not different
  }
  try {
    return await firstAnswer(conn, hello, signal);
  } catch (error) {
    return error instanceof Deno.errors.ConnectionReset ? "reset" : undefined;
  } finally {
    closeQuietly(conn);
  }
}

/**
 * Asks `endpoint` whether it speaks `http` (`"2"`: h2c with prior knowledge; `"1.1"`), within
 * `timeoutMs`. Resolves with the {@linkcode Mismatch}, or `undefined` when it speaks it or the
 * question could not be put (refused, unreachable, too slow: the provider is down, not
 * different). A provider that closes or resets on the preface is asked again in HTTP/1.1, and
 * counts as not speaking h2c only if it answers that: a provider at its connection limit
 * closes both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A server that answers everything in HTTP/1.1 and closes.
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const answering = (async () => {
 *   const conn = await listener.accept();
 *   await conn.read(new Uint8Array(64));
 *   await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n"));
 *   conn.close();
 * })();
 * const endpoint = { host: "127.0.0.1", port: listener.addr.port };
 * assert.equal(await probeTransport(endpoint, "2", 1000), "http1-answer");
 * await answering;
 * listener.close();
 * ```
 */
export async function probeTransport(
  endpoint: Endpoint,
  http: "1.1" | "2",
  timeoutMs: number,
): Promise<Mismatch | undefined> {
  const signal = AbortSignal.timeout(timeoutMs);
  const request = new TextEncoder().encode(
    `OPTIONS * HTTP/1.1\r\nhost: ${endpointKey(endpoint)}\r\nconnection: close\r\n\r\n`,
  );
  if (http === "1.1") {
    const answer = await ask(endpoint, request, signal);
    return answer instanceof Uint8Array && looksLikeH2(answer) ? "h2c-only" : undefined;
  }
  const answer = await ask(endpoint, new Uint8Array([...PREFACE, ...EMPTY_SETTINGS]), signal);
  if (answer === undefined) return undefined;
  if (answer !== "reset" && startsWith(answer, HTTP1)) return "http1-answer";
  if (answer !== "reset" && answer.length > 0) return undefined; // frames: it speaks h2c
  const again = await ask(endpoint, request, signal);
  if (!(again instanceof Uint8Array) || !startsWith(again, HTTP1)) return undefined;
  return answer === "reset" ? "reset-on-preface" : "closed-on-preface";
}

/**
 * The one line that tells a user what to change, for a provider at `where` that showed
 * `mismatch` to a consumer calling with `protocol` over `http`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   mismatchHint("127.0.0.1:8080", "http1-answer", "grpc", "2"),
 *   "provider 127.0.0.1:8080 does not speak h2c: it answered the HTTP/2 preface in HTTP/1.1; " +
 *     "this consumer calls with --protocol=grpc --http=2: call it with --protocol=triple --http=1.1",
 * );
 * ```
 */
export function mismatchHint(
  where: string,
  mismatch: Mismatch,
  protocol: "grpc" | "triple",
  http: "1.1" | "2",
): string {
  const { lacks, what } = SHOWN[mismatch];
  const h2cOnly = mismatch === "h2c-only";
  const change = h2cOnly
    ? "--http=2"
    : protocol === "grpc"
    ? "--protocol=triple --http=1.1"
    : "--http=1.1";
  return `provider ${where} does not speak ${lacks}: ${what}${h2cOnly ? " (h2c only)" : ""}; ` +
    `this consumer calls with --protocol=${protocol} --http=${http}: call it with ${change}`;
}

/**
 * The short reason a failed call carries (its `unavailable` message) once the provider is
 * known not to speak the transport.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(mismatchReason("h:1", "reset-on-preface"), "h:1 does not speak h2c (it reset the connection on the HTTP/2 preface)");
 * ```
 */
export function mismatchReason(where: string, mismatch: Mismatch): string {
  const { lacks, what } = SHOWN[mismatch];
  return `${where} does not speak ${lacks} (${what})`;
}

/**
 * A call that failed at the connection level, before any response: the kind of failure a
 * provider that does not speak the chosen transport causes. Every transport of the client
 * throws this (an `unavailable` {@linkcode RpcError}) for such failures, whichever HTTP/2
 * client it uses, so the client can ask the provider what it speaks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./_errors.ts";
 * const failure = new ConnectionFailure("127.0.0.1:1: write EPIPE");
 * assert.ok(failure instanceof RpcError);
 * assert.equal(failure.code, "unavailable");
 * ```
 */
export class ConnectionFailure extends RpcError {
  constructor(message: string, options?: ErrorOptions) {
    super("unavailable", message, options);
  }
}

/** How long a probe's answer stands before a later failure asks again. */
const REMEMBER_MS = 5000;

/**
 * Turns connection failures into what they mean: when the provider does not speak the
 * transport, the failure says so (still `unavailable`), and `tell` gets one line naming the
 * flag to change, once per provider. At most one probe per provider runs at a time, and its
 * answer stands for 5 s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const endpoint = { host: "127.0.0.1", port: listener.addr.port };
 * listener.close(); // down, not different: the failure stays as it was
 * const lines: string[] = [];
 * const diagnosis = new TransportDiagnosis("grpc", "2", 1000, (line) => lines.push(line));
 * const failure = new ConnectionFailure("connection refused");
 * assert.equal(await diagnosis.explain(endpoint, failure), failure);
 * assert.deepEqual(lines, []);
 * ```
 */
export class TransportDiagnosis {
  #answers = new Map<string, { at: number; mismatch: Mismatch | undefined }>();
  #probing = new Map<string, Promise<Mismatch | undefined>>();
  #told = new Set<string>();

  constructor(
    readonly protocol: "grpc" | "triple",
    readonly http: "1.1" | "2",
    readonly probeTimeoutMs: number,
    readonly tell: (line: string) => void,
  ) {}

  /** `failure`, or an `unavailable` error saying the provider does not speak the transport. */
  async explain(endpoint: Endpoint, failure: ConnectionFailure): Promise<RpcError> {
    const where = endpointKey(endpoint);
    const mismatch = await this.#mismatch(endpoint, where);
    if (mismatch === undefined) return failure;
    if (!this.#told.has(where)) {
      this.#told.add(where);
      this.tell(mismatchHint(where, mismatch, this.protocol, this.http));
    }
    return new RpcError("unavailable", mismatchReason(where, mismatch), { cause: failure });
  }

  async #mismatch(endpoint: Endpoint, where: string): Promise<Mismatch | undefined> {
    const known = this.#answers.get(where);
    if (known && Date.now() - known.at < REMEMBER_MS) return known.mismatch;
    let probing = this.#probing.get(where);
    if (!probing) {
      probing = probeTransport(endpoint, this.http, this.probeTimeoutMs).then((mismatch) => {
        const now = Date.now();
        for (const [key, answer] of this.#answers) {
          if (now - answer.at >= REMEMBER_MS) this.#answers.delete(key); // providers come and go
        }
        this.#answers.set(where, { at: now, mismatch });
        this.#probing.delete(where);
        return mismatch;
      });
      this.#probing.set(where, probing);
    }
    return await probing;
  }
}
