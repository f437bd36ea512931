/**
 * gzip for both wire paths (Triple unary `Content-Encoding`/`Accept-Encoding`, gRPC
 * `grpc-encoding`/`grpc-accept-encoding` and the per-message flag), using `node:zlib`.
 *
 * Decompression is bounded by the decompressed size: zlib stops producing output at
 * `maxBytes`, so a gzip bomb costs at most that much memory and is reported as
 * `resource_exhausted`, never buffered whole.
 *
 * @module
 */
import zlib from "node:zlib";
import { RpcError } from "./_errors.ts";
import { errorText } from "../error_text.ts";

/**
 * The only compression we speak besides identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isGzip(GZIP), true);
 * ```
 */
export const GZIP = "gzip";

/**
 * Responses smaller than this are sent uncompressed (not worth the CPU).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(maybeGzip(new Uint8Array(COMPRESS_MIN_BYTES - 1), true).gzipped, false);
 * ```
 */
export const COMPRESS_MIN_BYTES = 1024;

/**
 * Whether an `Accept-Encoding`/`grpc-accept-encoding` value admits gzip: a `gzip` (or
 * `*`) token whose `q` is not 0. Tokens are compared case-insensitively.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(acceptsGzip("br, gzip;q=0.5"), true);
 * assert.equal(acceptsGzip("gzip;q=0"), false);
 * ```
 */
export function acceptsGzip(value: string | undefined): boolean {
  if (!value) return false;
  for (const item of value.split(",")) {
    const [token, ...params] = item.split(";").map((part) => part.trim().toLowerCase());
    if (token !== GZIP && token !== "*") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    return true;
  }
  return false;
}

/**
 * Whether a request's encoding header names something we can decode: absent,
 * `identity` or `gzip` (case-insensitive).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isSupportedEncoding("Identity"), true);
 * assert.equal(isSupportedEncoding("br"), false);
 * ```
 */
export function isSupportedEncoding(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === undefined || v === "" || v === "identity" || v === GZIP;
}

/**
 * Whether an encoding header value means gzip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isGzip(" GZIP "), true);
 * assert.equal(isGzip(undefined), false);
 * ```
 */
export function isGzip(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === GZIP;
}

/**
 * gzip-compresses `bytes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const text = new TextEncoder().encode("hello");
 * assert.deepEqual(gunzip(gzip(text), 100), text);
 * ```
 */
export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(zlib.gzipSync(bytes));
}

/**
 * Decompresses gzip `bytes`, producing at most `maxBytes`. Throws an
 * {@linkcode RpcError}: `resource_exhausted` past the limit, `invalid_argument` for
 * data that is not valid gzip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "./_errors.ts";
 * const bomb = gzip(new Uint8Array(10_000));
 * assert.throws(() => gunzip(bomb, 100), (e) => e instanceof RpcError && e.code === "resource_exhausted");
 * ```
 */
export function gunzip(bytes: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return new Uint8Array(zlib.gunzipSync(bytes, { maxOutputLength: maxBytes }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) {
      throw new RpcError(
        "resource_exhausted",
        `decompressed message larger than ${maxBytes} bytes`,
      );
    }
    throw new RpcError("invalid_argument", `invalid gzip data: ${errorText(error)}`);
  }
}

/**
 * Compresses `bytes` when the peer accepts gzip and they are at least 1 KiB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(maybeGzip(new Uint8Array(4096), true).gzipped, true);
 * assert.equal(maybeGzip(new Uint8Array(4096), false).gzipped, false);
 * ```
 */
export function maybeGzip(
  bytes: Uint8Array,
  accepted: boolean,
): { bytes: Uint8Array; gzipped: boolean } {
  if (!accepted || bytes.length < COMPRESS_MIN_BYTES) return { bytes, gzipped: false };
  return { bytes: gzip(bytes), gzipped: true };
}
