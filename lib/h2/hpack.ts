/**
 * HPACK (RFC 7541): header block decoding and encoding with Huffman strings and a dynamic
 * table. Field names and values are byte strings, held as JavaScript strings with one char
 * per byte (latin1), the way HTTP/2 carries them.
 *
 * Bounds against hostile peers: the dynamic table never exceeds the size we advertised
 * (SETTINGS_HEADER_TABLE_SIZE), and a block whose decoded list exceeds the maximum header
 * list size (counted as RFC 9113 §6.5.2 says: name + value + 32 per field) is still parsed
 * to keep the table in step, but its fields are dropped, so an HPACK bomb (a short block
 * repeating a large indexed entry) costs its own size in work and nothing in memory.
 *
 * @module
 */
import { huffmanDecode, huffmanEncode, huffmanLength } from "./huffman.ts";
import {
  DynamicTable,
  STATIC_COUNT,
  staticName,
  staticNameIndex,
  staticPairIndex,
  staticValue,
} from "./_hpack_table.ts";

/**
 * A malformed header block: the connection must end with COMPRESSION_ERROR.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.throws(() => new HpackDecoder().decode(Uint8Array.from([0x80])), HpackError); // index 0
 * ```
 */
export class HpackError extends Error {
  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = "HpackError";
  }
}

/**
 * Decoded fields as a flat list: name, value, name, value, … in block order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const fields: FieldList = [":method", "GET"];
 * assert.equal(fields.length / 2, 1);
 * ```
 */
export type FieldList = string[];

/**
 * Per-field overhead in the header list size (RFC 9113 §6.5.2) and table entries.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(FIELD_OVERHEAD, 32);
 * ```
 */
export const FIELD_OVERHEAD = 32;

/** Builds a latin1 string of `bytes[start, end)`. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 24) {
    let text = "";
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
    return text;
  }
  let text = "";
  for (let i = start; i < end; i += 8192) {
    const part = bytes.subarray(i, Math.min(end, i + 8192));
    text += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return text;
}

/**
 * Decodes header blocks of one connection (one dynamic table, kept across blocks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const decoder = new HpackDecoder();
 * // RFC 7541 C.3.1: :method GET, :scheme http, :path /, :authority www.example.com
 * const block = Uint8Array.from([
 *   0x82, 0x86, 0x84, 0x41, 0x0f, ...new TextEncoder().encode("www.example.com"),
 * ]);
 * assert.deepEqual(decoder.decode(block), [
 *   ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com",
 * ]);
 * assert.equal(decoder.tableSize, 57);
 * ```
 */
export class HpackDecoder {
  #table: DynamicTable;
  #maxTableSize: number;
  #maxListSize: number;
  #scratch = new Uint8Array(256);
  #block: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #end = 0;

  /**
   * `maxTableSize`: the SETTINGS_HEADER_TABLE_SIZE we advertised (size updates above it
   * are errors); `maxListSize`: the largest decoded list kept.
   */
  constructor(maxTableSize = 4096, maxListSize = 64 * 1024) {
    this.#table = new DynamicTable(maxTableSize);
    this.#maxTableSize = maxTableSize;
    this.#maxListSize = maxListSize;
  }

  /** Octets in the dynamic table now. */
  get tableSize(): number {
    return this.#table.size;
  }

  /**
   * Decodes `block[start, end)`: the fields, or `null` when the list exceeded the maximum
   * header list size (the block was still fully processed). Throws {@linkcode HpackError}.
   */
  decode(block: Uint8Array, start = 0, end = block.length): FieldList | null {
    this.#block = block;
    this.#pos = start;
    this.#end = end;
    const fields: FieldList = [];
    let size = 0;
    let tooLarge = false;
    let fieldSeen = false;
    while (this.#pos < this.#end) {
      const byte = block[this.#pos];
      let name: string;
      let value: string;
      if (byte & 0x80) {
        const index = this.#integer(7);
        if (index === 0) throw new HpackError("indexed field with index 0");
        name = this.#name(index);
        value = this.#value(index);
      } else if ((byte & 0xe0) === 0x20) {
        if (fieldSeen) throw new HpackError("dynamic table size update after a field");
        const max = this.#integer(5);
        if (max > this.#maxTableSize) throw new HpackError("table size update above the limit");
        this.#table.resize(max);
        continue;
      } else {
        const indexing = (byte & 0xc0) === 0x40;
        const index = this.#integer(indexing ? 6 : 4);
        name = index === 0 ? this.#string() : this.#name(index);
        value = this.#string();
        if (indexing) this.#table.add(name, value);
      }
      fieldSeen = true;
      size += name.length + value.length + FIELD_OVERHEAD;
      if (size > this.#maxListSize) tooLarge = true;
      if (!tooLarge) fields.push(name, value);
    }
    this.#block = EMPTY;
    return tooLarge ? null : fields;
  }

  #name(index: number): string {
    if (index <= STATIC_COUNT) return staticName(index);
    const dynamic = index - STATIC_COUNT;
    if (dynamic > this.#table.length) throw new HpackError(`index ${index} out of range`);
    return this.#table.name(dynamic);
  }

  #value(index: number): string {
    if (index <= STATIC_COUNT) return staticValue(index);
    return this.#table.value(index - STATIC_COUNT);
  }

  /** An integer with an N-bit prefix (RFC 7541 §5.1), at most 2^28 + prefix. */
  #integer(prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = this.#block[this.#pos++] & mask;
    if (value < mask) return value;
    for (let shift = 0; shift <= 21; shift += 7) {
      if (this.#pos >= this.#end) throw new HpackError("truncated integer");
      const byte = this.#block[this.#pos++];
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new HpackError("integer too large");
  }

  /** A string literal (RFC 7541 §5.2). */
  #string(): string {
    if (this.#pos >= this.#end) throw new HpackError("truncated field");
    const huffman = (this.#block[this.#pos] & 0x80) !== 0;
    const length = this.#integer(7);
    const start = this.#pos;
    const end = start + length;
    if (end > this.#end) throw new HpackError("string longer than its block");
    this.#pos = end;
    if (!huffman) return latin1(this.#block, start, end);
    const needed = Math.ceil(length * 8 / 5);
    if (this.#scratch.length < needed) this.#scratch = new Uint8Array(Math.max(needed, 1024));
    const written = huffmanDecode(this.#block, start, end, this.#scratch);
    if (written < 0) throw new HpackError("invalid Huffman code");
    return latin1(this.#scratch, 0, written);
  }
}

const EMPTY = new Uint8Array(0);

/** How a field is written (RFC 7541 §6.2). */
type Indexing = "index" | "plain" | "never";

/** Names whose values change per message (never worth a table entry) or are secrets. */
const UNINDEXED = new Set(["content-length", "date", "grpc-message", ":path", "etag"]);
const SECRET = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
/** Larger entries are not indexed: they would flush the table for one use. */
const MAX_INDEXED_ENTRY = 512;

function indexingOf(name: string, value: string): Indexing {
  if (SECRET.has(name)) return "never";
  if (UNINDEXED.has(name)) return "plain";
  return name.length + value.length + FIELD_OVERHEAD > MAX_INDEXED_ENTRY ? "plain" : "index";
}

/**
 * Encodes header blocks of one connection. Exact matches in the static or dynamic table
 * become one indexed byte; other fields are literals, added to the dynamic table unless
 * their values change per message or are secrets. Strings are Huffman-coded when shorter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const encoder = new HpackEncoder();
 * const decoder = new HpackDecoder();
 * for (let round = 0; round < 2; round++) {
 *   encoder.begin();
 *   encoder.field(":status", "200");
 *   encoder.field("content-type", "application/grpc");
 *   const block = encoder.finish();
 *   assert.deepEqual(decoder.decode(block), [":status", "200", "content-type", "application/grpc"]);
 *   if (round === 1) assert.equal(block.length, 2); // both indexed now
 * }
 * ```
 */
export class HpackEncoder {
  #table: DynamicTable;
  /** name → value → insertion number of the newest entry with that pair. */
  #pairs = new Map<string, Map<string, number>>();
  /** name → insertion number of the newest entry with that name. */
  #names = new Map<string, number>();
  /** Smallest size set since the last block, and the final one (-1: none pending). */
  #resizeLow = -1;
  #resizeTo = -1;
  #out = new Uint8Array(512);
  #pos = 0;
  #huffman: boolean;

  /** `huffman: false` writes every string raw (RFC 7541 C.3 and C.5 do). */
  constructor(maxTableSize = 4096, options: { huffman?: boolean } = {}) {
    this.#huffman = options.huffman ?? true;
    this.#table = new DynamicTable(maxTableSize);
    this.#table.onEvict = (name, value, insertion) => {
      const values = this.#pairs.get(name);
      if (values?.get(value) === insertion) {
        values.delete(value);
        if (values.size === 0) this.#pairs.delete(name);
      }
      if (this.#names.get(name) === insertion) this.#names.delete(name);
    };
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE (capped at 4096 by us); the change is
   * signalled at the start of the next block, as RFC 7541 §4.2 requires.
   */
  setMaxTableSize(size: number): void {
    const next = Math.min(size, 4096);
    if (next === this.#table.maxSize && this.#resizeTo < 0) return;
    this.#resizeLow = this.#resizeLow < 0 ? next : Math.min(this.#resizeLow, next);
    this.#resizeTo = next;
    this.#table.resize(next);
  }

  /** Starts a block. */
  begin(): void {
    this.#pos = 0;
    if (this.#resizeTo >= 0) {
      if (this.#resizeLow < this.#resizeTo) this.#integer(this.#resizeLow, 5, 0x20);
      this.#integer(this.#resizeTo, 5, 0x20);
      this.#resizeLow = this.#resizeTo = -1;
    }
  }

  /** Adds one field (lowercase name) to the block. */
  field(name: string, value: string): void {
    const staticPair = staticPairIndex(name, value);
    if (staticPair > 0) return this.#integer(staticPair, 7, 0x80);
    const dynamicPair = this.#pairs.get(name)?.get(value);
    if (dynamicPair !== undefined) {
      return this.#integer(STATIC_COUNT + this.#table.inserted - dynamicPair + 1, 7, 0x80);
    }
    let nameIndex = staticNameIndex(name);
    if (nameIndex === 0) {
      const dynamicName = this.#names.get(name);
      if (dynamicName !== undefined) {
        nameIndex = STATIC_COUNT + this.#table.inserted - dynamicName + 1;
      }
    }
    const indexing = indexingOf(name, value);
    if (indexing === "index") this.#integer(nameIndex, 6, 0x40);
    else this.#integer(nameIndex, 4, indexing === "never" ? 0x10 : 0);
    if (nameIndex === 0) this.#string(name);
    this.#string(value);
    if (indexing === "index") this.#insert(name, value);
  }

  /** The finished block: a view valid until the next {@linkcode begin}. */
  finish(): Uint8Array {
    return this.#out.subarray(0, this.#pos);
  }

  #insert(name: string, value: string) {
    this.#table.add(name, value);
    const insertion = this.#table.inserted;
    if (this.#table.length === 0) return; // too large: the table was emptied instead
    let values = this.#pairs.get(name);
    if (!values) this.#pairs.set(name, values = new Map());
    values.set(value, insertion);
    this.#names.set(name, insertion);
  }

  #reserve(bytes: number) {
    if (this.#pos + bytes <= this.#out.length) return;
    const grown = new Uint8Array(Math.max(this.#out.length * 2, this.#pos + bytes));
    grown.set(this.#out.subarray(0, this.#pos));
    this.#out = grown;
  }

  #integer(value: number, prefixBits: number, flags: number) {
    this.#reserve(6);
    const mask = (1 << prefixBits) - 1;
    if (value < mask) {
      this.#out[this.#pos++] = flags | value;
      return;
    }
    this.#out[this.#pos++] = flags | mask;
    value -= mask;
    while (value >= 0x80) {
      this.#out[this.#pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.#out[this.#pos++] = value;
  }

  #string(text: string) {
    const coded = this.#huffman ? huffmanLength(text) : text.length;
    if (coded < text.length) {
      this.#integer(coded, 7, 0x80);
      this.#reserve(coded);
      this.#pos = huffmanEncode(text, this.#out, this.#pos);
      return;
    }
    this.#integer(text.length, 7, 0);
    this.#reserve(text.length);
    const out = this.#out;
    let pos = this.#pos;
    for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
    this.#pos = pos;
  }
}
