/**
 * Byte helpers for the whole program: joining chunks, and the RPC hot path's allocation and
 * ASCII/UTF-8 conversion. `TextEncoder`/`TextDecoder` are native calls under Deno with a
 * fixed cost each; for the short ASCII strings of request and response heads and
 * small JSON messages a JavaScript loop is several times cheaper (anything non-ASCII or long
 * goes to the standard codecs). And every `new Uint8Array` allocates a separate ArrayBuffer,
 * which V8 tracks and sweeps one by one; small buffers are therefore carved out of shared
 * slabs ({@linkcode ByteSlab}).
 *
 * @module
 */

/**
 * Joins `parts` into one new array, so that chunks read from a stream become one message.
 * `total`, when the caller already counted it, saves a pass over the parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(concat([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concat(parts: readonly Uint8Array[], total?: number): Uint8Array {
  if (total === undefined) {
    total = 0;
    for (const part of parts) total += part.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Above this many bytes the native codecs win. */
const SHORT = 256;

const SLAB_BYTES = 64 * 1024;
/** Largest request served from the slab; bigger ones get their own buffer. */
const MAX_SLAB_ALLOCATION = 4096;

/**
 * Zero-filled byte arrays for the hot path. Small ones are views into a 64 KiB slab (never
 * reused: a slab is freed once no view of it is left), so they must not be transferred or have
 * their `.buffer` used as a whole. Each server owns one and hands it to its connections.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const slab = new ByteSlab();
 * const head = slab.alloc(4);
 * const next = slab.alloc(4);
 * assert.deepEqual(head, new Uint8Array(4));
 * assert.equal(head.buffer, next.buffer); // one ArrayBuffer for both
 * assert.equal(slab.alloc(8192).buffer.byteLength, 8192); // a large one gets its own
 * ```
 */
export class ByteSlab {
  #slab: Uint8Array<ArrayBuffer> | undefined;
  #used = 0;

  /** A zero-filled array of `length` bytes; see the class doc. */
  alloc(length: number): Uint8Array<ArrayBuffer> {
    if (length > MAX_SLAB_ALLOCATION) return new Uint8Array(length);
    if (this.#slab === undefined || this.#used + length > SLAB_BYTES) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const bytes = this.#slab.subarray(this.#used, this.#used + length);
    // Keep views 8-byte aligned so a DataView or wider typed array over them stays cheap.
    this.#used += (length + 7) & ~7;
    return bytes;
  }
}

/**
 * Writes the ASCII `text` into `bytes` at `offset`, without a native call; the caller
 * guarantees room and ASCII.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(4);
 * writeAscii("OK", bytes, 1);
 * assert.deepEqual(bytes, new Uint8Array([0, 79, 75, 0]));
 * ```
 */
export function writeAscii(text: string, bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
}

/**
 * UTF-8 bytes of `text`: a JavaScript loop for short ASCII, `TextEncoder` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(encodeUtf8("hé"), new Uint8Array([104, 0xc3, 0xa9]));
 * ```
 */
export function encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
  if (text.length > SHORT) return encoder.encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return encoder.encode(text);
    bytes[i] = code;
  }
  return bytes;
}

/**
 * `bytes` decoded as UTF-8 by `fallback` unless they are short and ASCII (same result,
 * cheaper).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(decodeUtf8(new Uint8Array([104, 0xc3, 0xa9])), "hé");
 * ```
 */
export function decodeUtf8(bytes: Uint8Array, fallback: TextDecoder = decoder): string {
  if (bytes.length > SHORT) return fallback.decode(bytes);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 0x7f) return fallback.decode(bytes);
  }
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}
