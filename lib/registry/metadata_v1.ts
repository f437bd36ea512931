/**
 * Dubbo's MetadataService V1 client: `getMetadataInfo(String revision)` over the Dubbo
 * binary protocol with hessian2, what a dubbo-go 3.3 provider serves by default (group =
 * its app, version `1.0.0`). One request per connection; the reply is bounded in size
 * and time. Hessian2 comes from `hessian.js` (it reads `process.env` at import, which
 * would need a broad --allow-env, so it is loaded with an empty `env` swapped in).
 *
 * Frame: 16-byte header `0xdabb`, flags (request | two-way | serialization 2 = hessian2),
 * status, 8-byte id, 4-byte body length; body: dubbo version, path, version, method,
 * parameter descriptor, arguments, attachments. Reply body: a hessian int flag, then the
 * value (1, 4), nothing (2, 5) or an exception (0, 3); status other than 20 carries an
 * error string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const frame = await encodeRequest("server", "0123abcd", 1n);
 * assert.deepEqual([...frame.subarray(0, 3)], [0xda, 0xbb, 0xc2]);
 * ```
 *
 * @module
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import { checkMetadata, type MetadataFetcher, type MetadataInfo } from "./instance.ts";

/** Service name of the V1 MetadataService: the request's path and `interface`. */
export const METADATA_SERVICE_V1 = "org.apache.dubbo.metadata.MetadataService";

interface Hessian {
  EncoderV2: new () => { write(value: unknown): unknown; get(): Buffer };
  DecoderV2: new (buffer: Buffer) => { read(): unknown };
}

/** The one import of hessian.js: the `process.env` swap around it must not run twice at once. */
let loaded: Promise<Hessian> | undefined;

/**
 * Imports hessian.js once, with an empty `process.env` meanwhile (it reads the
 * environment at import, which would need a broad `--allow-env`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const { EncoderV2, DecoderV2 } = await loadHessian();
 * const encoder = new EncoderV2();
 * encoder.write("hello");
 * assert.equal(new DecoderV2(encoder.get()).read(), "hello");
 * ```
 */
export function loadHessian(): Promise<Hessian> {
  loaded ??= (async () => {
    const saved = process.env;
    Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
    try {
      return (await import("hessian.js")).default as unknown as Hessian;
    } finally {
      Object.defineProperty(process, "env", { value: saved, configurable: true, writable: true });
    }
  })();
  return loaded;
}

const MAX_REPLY = 1024 * 1024;
/** Each fetch opens its own connection for one request, so one id serves every request. */
const REQUEST_ID = 1n;

/**
 * Encodes one `getMetadataInfo(revision)` request frame for the provider app `app`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const frame = await encodeRequest("server", "0123abcd", 7n);
 * assert.equal(frame.readBigInt64BE(4), 7n);
 * assert.equal(frame.readUInt32BE(12), frame.length - 16);
 * ```
 */
export async function encodeRequest(app: string, revision: string, id: bigint): Promise<Buffer> {
  const { EncoderV2 } = await loadHessian();
  const body = new EncoderV2();
  for (const part of ["2.0.2", METADATA_SERVICE_V1, "1.0.0", "getMetadataInfo"]) body.write(part);
  body.write("Ljava/lang/String;");
  body.write(revision);
  body.write({
    $class: "java.util.HashMap",
    $: {
      path: METADATA_SERVICE_V1,
      interface: METADATA_SERVICE_V1,
      group: app,
      version: "1.0.0",
      timeout: "5000",
    },
  });
  const payload = body.get();
  const header = Buffer.alloc(16);
  header[0] = 0xda;
  header[1] = 0xbb;
  header[2] = 0x80 | 0x40 | 2;
  header.writeBigInt64BE(id, 4);
  header.writeUInt32BE(payload.length, 12);
  return Buffer.concat([header, payload]);
}

/**
 * Decodes one reply frame (header included) into MetadataInfo; throws with a reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 *
 * await assert.rejects(decodeReply(Buffer.from("HTTP/1.1 400")), /not a Dubbo reply/);
 * ```
 */
export async function decodeReply(frame: Buffer): Promise<MetadataInfo> {
  const { DecoderV2 } = await loadHessian();
  if (frame.length < 16 || frame[0] !== 0xda || frame[1] !== 0xbb) {
    throw new Error("not a Dubbo reply");
  }
  const status = frame[3];
  const decoder = new DecoderV2(frame.subarray(16, 16 + frame.readUInt32BE(12)));
  if (status !== 20) {
    throw new Error(`Dubbo status ${status}: ${String(decoder.read()).slice(0, 200)}`);
  }
  const flag = decoder.read();
  if (flag === 2 || flag === 5) throw new Error("provider returned null metadata");
  const value = decoder.read();
  if (flag === 0 || flag === 3) throw new Error("provider threw an exception");
  const info = checkMetadata(typeof value === "string" ? JSON.parse(value) : value);
  if (typeof info === "string") throw new Error(info);
  return info;
}

/**
 * Calls `getMetadataInfo(revision)` on `host:port`; rejects on any failure, so that the
 * consumer falls back to the instance's advertised endpoints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * // A peer that hangs up at once:
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const served = listener.accept().then((conn) => conn.close());
 * const { port } = listener.addr;
 * await assert.rejects(fetchMetadataV1("127.0.0.1", port, "server", "r", 2_000), /closed/);
 * await served;
 * listener.close();
 * ```
 */
export const fetchMetadataV1: MetadataFetcher = async (host, port, app, revision, timeoutMs) => {
  const request = await encodeRequest(app, revision, REQUEST_ID);
  const conn = await withTimeout(
    Deno.connect({ hostname: host, port }),
    timeoutMs,
    (c) => c.close(),
  );
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await conn.write(request);
    const chunks: Uint8Array[] = [];
    let size = 0;
    let need = 16;
    const buffer = new Uint8Array(64 * 1024);
    while (size < need) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("connection closed before the reply");
      chunks.push(buffer.slice(0, n));
      size += n;
      if (size >= 16 && need === 16) {
        const head = Buffer.concat(chunks);
        const length = head.readUInt32BE(12);
        if (length > MAX_REPLY) throw new Error("reply too large");
        need = 16 + length;
      }
    }
    return await decodeReply(Buffer.concat(chunks));
  } catch (error) {
    if (error instanceof Deno.errors.BadResource) {
      throw new Error(`no reply within ${timeoutMs} ms`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
};

function withTimeout<T>(work: Promise<T>, ms: number, onLate: (value: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`cannot connect within ${ms} ms`));
      work.then(onLate, () => {});
    }, ms);
    work.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
