/**
 * The gRPC envelope, the one codec for it: a message on the wire is a flags byte (bit 0:
 * compressed), a 4-byte big-endian length, then the message. Used by the provider's unary
 * and streaming replies, its request reading, and the client.
 *
 * @module
 */
import { RpcError } from "./_errors.ts";
import { gunzip } from "./_compression.ts";
import { concat } from "../bytes.ts";

/** Flags byte and length: the bytes before each message. */
const HEADER_BYTES = 5;
/** Flags bit of a compressed message. */
const COMPRESSED = 1;

/**
 * One message as it travels in an envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const envelope: Envelope = { compressed: false, message: new Uint8Array([8, 1]) };
 * assert.deepEqual(encodeEnvelope(envelope), new Uint8Array([0, 0, 0, 0, 2, 8, 1]));
 * ```
 */
export interface Envelope {
  /** The flags byte says the message is compressed (with the call's `grpc-encoding`). */
  compressed: boolean;
  message: Uint8Array;
}

/**
 * The bytes of one envelope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = encodeEnvelope({ compressed: true, message: new Uint8Array([7]) });
 * assert.deepEqual(bytes, new Uint8Array([1, 0, 0, 0, 1, 7]));
 * ```
 */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const { message } = envelope;
  const bytes = new Uint8Array(HEADER_BYTES + message.length);
  bytes[0] = envelope.compressed ? COMPRESSED : 0;
  new DataView(bytes.buffer).setUint32(1, message.length);
  bytes.set(message, HEADER_BYTES);
  return bytes;
}

/**
 * Splits a byte stream into envelopes as their bytes arrive, holding at most one incomplete
 * envelope (chunks are joined only once a whole one is there). An envelope announcing more
 * than `maxBytes` fails with `resource_exhausted` before its bytes are buffered; flags other
 * than "compressed" fail with `internal`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const decoder = new EnvelopeDecoder(1024);
 * const bytes = encodeEnvelope({ compressed: false, message: new Uint8Array([8, 1]) });
 * assert.deepEqual(decoder.push(bytes.subarray(0, 3)), []);
 * assert.deepEqual(decoder.push(bytes.subarray(3)), [{ compressed: false, message: new Uint8Array([8, 1]) }]);
 * assert.equal(decoder.pending, 0);
 * assert.throws(() => new EnvelopeDecoder(1).push(bytes), /larger than 1 bytes/);
 * ```
 */
export class EnvelopeDecoder {
  #maxBytes: number;
  #chunks: Uint8Array[] = [];
  #size = 0;
  /** Bytes needed before the next envelope can be read. */
  #needed = HEADER_BYTES;

  /** A decoder refusing messages over `maxBytes`. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held of an incomplete envelope. */
  get pending(): number {
    return this.#size;
  }

  /** Takes more bytes; returns the envelopes they completed. Throws an {@linkcode RpcError}. */
  push(chunk: Uint8Array): Envelope[] {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size < this.#needed) return [];
    const buffer = this.#chunks.length === 1 ? chunk : concat(this.#chunks, this.#size);
    const envelopes: Envelope[] = [];
    let offset = 0;
    while (buffer.length - offset >= HEADER_BYTES) {
      const flags = buffer[offset];
      const length = new DataView(buffer.buffer, buffer.byteOffset + offset + 1, 4).getUint32(0);
      if (length > this.#maxBytes) {
        throw new RpcError("resource_exhausted", `message larger than ${this.#maxBytes} bytes`);
      }
      if (flags !== 0 && flags !== COMPRESSED) {
        throw new RpcError("internal", `invalid gRPC frame flags ${flags}`);
      }
      if (buffer.length - offset - HEADER_BYTES < length) break;
      const start = offset + HEADER_BYTES;
      envelopes.push({
        compressed: flags === COMPRESSED,
        message: buffer.subarray(start, start + length),
      });
      offset = start + length;
    }
    const rest = buffer.subarray(offset);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#size = rest.length;
    this.#needed = rest.length < HEADER_BYTES
      ? HEADER_BYTES
      : HEADER_BYTES + new DataView(rest.buffer, rest.byteOffset, HEADER_BYTES).getUint32(1);
    return envelopes;
  }
}

/**
 * The one envelope a unary request or response `body` must be exactly; else throws an
 * {@linkcode RpcError} with `code` (`missing` when there is no whole envelope).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const body = new Uint8Array([0, 0, 0, 0, 2, 8, 1]);
 * assert.deepEqual(onlyEnvelope(body, "request", "internal", "no message").message, new Uint8Array([8, 1]));
 * assert.throws(() => onlyEnvelope(body.subarray(0, 6), "request", "internal", "no message"), /exactly one/);
 * ```
 */
export function onlyEnvelope(
  body: Uint8Array,
  side: "request" | "response",
  code: "invalid_argument" | "internal",
  missing: string,
): Envelope {
  if (body.length < HEADER_BYTES) throw new RpcError(code, missing);
  const decoder = new EnvelopeDecoder(Number.MAX_SAFE_INTEGER);
  const envelopes = decoder.push(body);
  if (envelopes.length !== 1 || decoder.pending !== 0) {
    throw new RpcError(code, `a unary ${side} must carry exactly one gRPC message`);
  }
  return envelopes[0];
}

/**
 * The message of `envelope`, gunzipped (at most `maxBytes`) when it is compressed, which
 * needs the call's encoding to be gzip (`gzipped`). Throws an {@linkcode RpcError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const plain = { compressed: false, message: new Uint8Array([8, 1]) };
 * assert.deepEqual(openEnvelope(plain, false, 1024), new Uint8Array([8, 1]));
 * assert.throws(() => openEnvelope({ ...plain, compressed: true }, false, 1024), /without a known grpc-encoding/);
 * ```
 */
export function openEnvelope(envelope: Envelope, gzipped: boolean, maxBytes: number): Uint8Array {
  if (!envelope.compressed) return envelope.message;
  if (!gzipped) {
    throw new RpcError("internal", "compressed gRPC message without a known grpc-encoding");
  }
  return gunzip(envelope.message, maxBytes);
}
