/**
 * HTTP/1.1 input plumbing: {@linkcode InputBuffer}, an append-only byte queue whose cost is
 * linear in the bytes received (never re-copied per read), and {@linkcode ChunkedDecoder},
 * a byte-at-a-time strict chunked-body decoder (RFC 9112 §7.1: hex size without padding,
 * token/quoted-string extensions, CRLF only, validated trailer fields) that hands body
 * bytes out coalesced into one fresh array per call, so memory follows the body's size
 * however small its chunks are.
 *
 * @module
 */
import { concat } from "../bytes.ts";
import { HttpError } from "./_parse.ts";
import { MAX_CHUNK_LINE_BYTES, MAX_HEAD_BYTES } from "./_limits.ts";

const EMPTY = new Uint8Array(0);

/**
 * Received bytes not yet consumed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const input = new InputBuffer();
 * input.append(new TextEncoder().encode("abc"));
 * input.consume(1);
 * assert.equal(new TextDecoder().decode(input.view()), "bc");
 * ```
 */
export class InputBuffer {
  #bytes: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** Whether `#bytes` is ours to write into (an adopted chunk is never written). */
  #owned = false;

  /** Bytes held. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends `chunk` (adopted without a copy when the buffer is empty). */
  append(chunk: Uint8Array): void {
    const length = this.length;
    if (length === 0) {
      this.#bytes = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (!this.#owned || this.#end + chunk.length > this.#bytes.length) {
      const size = Math.max(length + chunk.length, length * 2, 4096);
      const next = new Uint8Array(size);
      next.set(this.#bytes.subarray(this.#start, this.#end));
      this.#bytes = next;
      this.#start = 0;
      this.#end = length;
      this.#owned = true;
    }
    this.#bytes.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The bytes held, as a view valid until the next append or consume. */
  view(): Uint8Array {
    return this.#bytes.subarray(this.#start, this.#end);
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    this.#start += Math.min(n, this.length);
    if (this.#start === this.#end) this.clear();
  }

  /** Removes the first `n` bytes and returns them as an array nobody else writes to. */
  take(n: number): Uint8Array {
    const view = this.#bytes.subarray(this.#start, this.#start + n);
    const out = this.#owned ? view.slice() : view;
    this.consume(n);
    return out;
  }

  /** Drops everything. */
  clear(): void {
    this.#bytes = EMPTY;
    this.#start = 0;
    this.#end = 0;
    this.#owned = false;
  }
}

const enum S {
  Size,
  SizeCr,
  ExtName,
  ExtValueStart,
  ExtToken,
  ExtQuoted,
  ExtEscape,
  ExtQuoteEnd,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  TrailerValue,
  TrailerCr,
  EndLf,
  Done,
}

const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** Field-value bytes: HTAB, SP, visible ASCII, obs-text. */
function isFieldValueByte(byte: number): boolean {
  return byte === 9 || (byte >= 0x20 && byte !== 0x7f);
}

/** Quoted-string content (qdtext): HTAB, SP, visible ASCII except `"` and `\`, obs-text. */
function isQdtext(byte: number): boolean {
  return isFieldValueByte(byte) && byte !== 0x22 && byte !== 0x5c;
}

/**
 * Decodes one chunked body; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const input = new InputBuffer();
 * input.append(new TextEncoder().encode("3\r\nabc\r\n0\r\n\r\n"));
 * const parts: string[] = [];
 * const decoder = new ChunkedDecoder();
 * assert.equal(decoder.decode(input, (bytes) => parts.push(new TextDecoder().decode(bytes))), true);
 * assert.deepEqual(parts, ["abc"]);
 * ```
 */
export class ChunkedDecoder {
  #state = S.Size;
  #digits = 0;
  #size = 0;
  #lineBytes = 0;
  /** Whether the current extension name has a character yet. */
  #extName = false;
  #trailerBytes = 0;

  /** True once the last chunk and the trailer section were read. */
  get done(): boolean {
    return this.#state === S.Done;
  }

  /**
   * Consumes what it can of `input`; body bytes go to `deliver` as one fresh array per
   * call. Returns true when the body is complete. Throws {@linkcode HttpError}.
   */
  decode(input: InputBuffer, deliver: (bytes: Uint8Array) => void): boolean {
    const bytes = input.view();
    const parts: Uint8Array[] = [];
    let total = 0;
    let i = 0;
    while (i < bytes.length && this.#state !== S.Done) {
      if (this.#state === S.Data) {
        const take = Math.min(this.#size, bytes.length - i);
        parts.push(bytes.subarray(i, i + take));
        total += take;
        i += take;
        this.#size -= take;
        if (this.#size === 0) this.#state = S.DataCr;
        continue;
      }
      this.#byte(bytes[i++]);
    }
    if (total > 0) deliver(parts.length === 1 ? parts[0].slice() : concat(parts, total));
    input.consume(i);
    return this.#state === S.Done;
  }

  #byte(b: number): void {
    switch (this.#state) {
      case S.Size: {
        const digit = hexValue(b);
        if (digit >= 0) {
          if (this.#size === 0 && digit === 0 && this.#digits > 0) return this.#line();
          if (this.#size > 0xfff_ffff_ffff / 16) throw new HttpError(400, "chunk size too large");
          this.#size = this.#size * 16 + digit;
          this.#digits++;
          return this.#line();
        }
        if (this.#digits === 0) throw new HttpError(400, "invalid chunk size");
        if (b === 13) this.#state = S.SizeCr;
        else if (b === 0x3b) this.#state = S.ExtName;
        else throw new HttpError(400, "invalid chunk size");
        return this.#line();
      }
      case S.ExtName:
        if (TOKEN[b]) {
          this.#extName = true;
          return this.#line();
        }
        // llhttp refuses `1;` before CR but lets `1;;a` and `1;=b` through; so do we.
        if (!this.#extName && b === 13) throw new HttpError(400, "empty chunk extension name");
        this.#extName = false;
        if (b === 0x3d) this.#state = S.ExtValueStart;
        else if (b === 0x3b) this.#state = S.ExtName;
        else if (b === 13) this.#state = S.SizeCr;
        else throw new HttpError(400, "invalid chunk extension");
        return this.#line();
      case S.ExtValueStart:
        if (b === 0x22) this.#state = S.ExtQuoted;
        else if (b === 13) this.#state = S.SizeCr; // `;a=` (empty value), as llhttp allows
        else if (TOKEN[b]) this.#state = S.ExtToken;
        else throw new HttpError(400, "invalid chunk extension");
        return this.#line();
      case S.ExtToken:
        if (TOKEN[b]) return this.#line();
        if (b === 0x3b) this.#state = S.ExtName;
        else if (b === 13) this.#state = S.SizeCr;
        else throw new HttpError(400, "invalid chunk extension");
        return this.#line();
      case S.ExtQuoted:
        if (b === 0x22) this.#state = S.ExtQuoteEnd;
        else if (b === 0x5c) this.#state = S.ExtEscape;
        else if (!isQdtext(b)) throw new HttpError(400, "invalid chunk extension");
        return this.#line();
      case S.ExtEscape:
        if (!isFieldValueByte(b)) throw new HttpError(400, "invalid chunk extension");
        this.#state = S.ExtQuoted;
        return this.#line();
      case S.ExtQuoteEnd:
        if (b === 0x3b) this.#state = S.ExtName;
        else if (b === 13) this.#state = S.SizeCr;
        else throw new HttpError(400, "invalid chunk extension");
        return this.#line();
      case S.SizeCr:
        if (b !== 10) throw new HttpError(400, "bare CR in a chunk size line");
        this.#lineBytes = 0;
        this.#digits = 0;
        this.#state = this.#size === 0 ? S.TrailerStart : S.Data;
        return;
      case S.DataCr:
        return this.#expect(b, 13, S.DataLf, "missing CRLF after chunk data");
      case S.DataLf:
        return this.#expect(b, 10, S.Size, "missing CRLF after chunk data");
      default:
        return this.#trailerByte(b);
    }
  }

  /** Moves to `next` when `b` is `want`; anything else is malformed. */
  #expect(b: number, want: number, next: S, message: string): void {
    if (b !== want) throw new HttpError(400, message);
    this.#state = next;
  }

  #line() {
    if (++this.#lineBytes > MAX_CHUNK_LINE_BYTES) {
      throw new HttpError(400, "chunk size line too long");
    }
  }

  #trailerByte(b: number): void {
    if (++this.#trailerBytes > MAX_HEAD_BYTES) throw new HttpError(431, "trailers too large");
    switch (this.#state) {
      case S.TrailerStart:
        if (b === 13) this.#state = S.EndLf;
        else if (TOKEN[b]) this.#state = S.TrailerName;
        else throw new HttpError(400, "malformed trailer field");
        return;
      case S.TrailerName:
        if (b === 0x3a) this.#state = S.TrailerValue;
        else if (!TOKEN[b]) throw new HttpError(400, "malformed trailer field");
        return;
      case S.TrailerValue:
        if (b === 13) this.#state = S.TrailerCr;
        else if (!isFieldValueByte(b)) throw new HttpError(400, "invalid trailer value");
        return;
      case S.TrailerCr:
        return this.#expect(b, 10, S.TrailerStart, "bare CR in a trailer");
      case S.EndLf:
        return this.#expect(b, 10, S.Done, "bare CR after the last chunk");
    }
  }
}
