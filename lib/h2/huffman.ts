/**
 * The Huffman code of HPACK (RFC 7541 §5.2, Appendix B). The code is canonical, so the
 * table below holds only each symbol's code length; the codes are rebuilt from it at load
 * time. Decoding walks a tree of 256-entry tables one input byte at a time (no per-bit
 * loop); encoding packs codes into a 32-bit accumulator.
 *
 * @module
 */

/** Code length in bits of each symbol 0–255, then EOS (256); RFC 7541 Appendix B. */
// deno-fmt-ignore
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7,
  7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21,
  23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24,
  21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];
const EOS = 256;

/** Canonical codes: symbols ordered by (length, symbol) get consecutive codes. */
function canonicalCodes(): Uint32Array {
  const order = [...CODE_LENGTHS.keys()].sort((a, b) => CODE_LENGTHS[a] - CODE_LENGTHS[b] || a - b);
  const codes = new Uint32Array(CODE_LENGTHS.length);
  let code = 0;
  let previous = CODE_LENGTHS[order[0]];
  for (let i = 0; i < order.length; i++) {
    const length = CODE_LENGTHS[order[i]];
    if (i > 0) code = (code + 1) * 2 ** (length - previous);
    previous = length;
    codes[order[i]] = code;
  }
  return codes;
}

const CODES = canonicalCodes();

/** Entry flags of the decoding tables: a leaf holds `symbol << 4 | bits used`. */
const LEAF = 0x40000000;

/**
 * Decoding tables, 256 entries each; table 0 is the root. An entry is either a child
 * table number, or (with LEAF) a symbol and how many of the 8 looked-up bits it uses.
 */
function decodingTables(): Int32Array {
  const tables: number[][] = [new Array(256).fill(-1)];
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = CODES[symbol];
    let length = CODE_LENGTHS[symbol];
    let table = 0;
    while (length > 8) {
      length -= 8;
      const index = Math.floor(code / 2 ** length) & 0xff;
      let child = tables[table][index];
      if (child < 0) {
        child = tables.length;
        tables.push(new Array(256).fill(-1));
        tables[table][index] = child;
      }
      table = child;
    }
    const shift = 8 - length;
    const first = (code & ((1 << length) - 1)) << shift;
    for (let i = 0; i < 1 << shift; i++) tables[table][first + i] = LEAF | symbol << 4 | length;
  }
  return Int32Array.from(tables.flat());
}

const TABLES = decodingTables();

/**
 * Decodes the Huffman-coded bytes `input[start, end)` into `out` (which must hold
 * `(end - start) * 8 / 5` bytes: no code is shorter than 5 bits). Returns the number of
 * bytes written, or -1 for an invalid code: EOS inside the string, padding longer than 7
 * bits, or padding that is not the EOS prefix (all ones), as RFC 7541 §5.2 requires.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // "www.example.com" from RFC 7541 C.4.1
 * const coded = Uint8Array.from([0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]);
 * const out = new Uint8Array(32);
 * const n = huffmanDecode(coded, 0, coded.length, out);
 * assert.equal(new TextDecoder().decode(out.subarray(0, n)), "www.example.com");
 * assert.equal(huffmanDecode(Uint8Array.from([0x00]), 0, 1, out), -1); // zero padding
 * ```
 */
export function huffmanDecode(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  let bits = 0; // accumulated input bits, at most 15 of them live
  let count = 0; // how many of `bits` are unread
  let pending = 0; // bits read since the last symbol ended (the padding, at the end)
  let table = 0;
  let written = 0;
  for (let i = start; i < end; i++) {
    bits = (bits << 8 | input[i]) & 0xffff;
    count += 8;
    while (count >= 8) {
      const entry = TABLES[table << 8 | (bits >>> (count - 8)) & 0xff];
      if ((entry & LEAF) === 0) {
        table = entry;
        count -= 8;
        pending += 8;
        continue;
      }
      const symbol = (entry >> 4) & 0x1ff;
      if (symbol === EOS) return -1;
      out[written++] = symbol;
      count -= entry & 0xf;
      pending = 0;
      table = 0;
    }
  }
  // Fewer than 8 bits left (perhaps inside a long code's child table): codes that end
  // within them, then the padding.
  while (count > 0) {
    const entry = TABLES[table << 8 | (bits << (8 - count)) & 0xff];
    const used = entry & 0xf;
    if ((entry & LEAF) === 0 || used > count) break;
    const symbol = (entry >> 4) & 0x1ff;
    if (symbol === EOS) return -1;
    out[written++] = symbol;
    count -= used;
    pending = 0;
    table = 0;
  }
  if (pending + count > 7) return -1; // padding longer than 7 bits (or a code cut short)
  const mask = (1 << count) - 1;
  return (bits & mask) === mask ? written : -1;
}

/**
 * Bytes that {@linkcode huffmanEncode} needs for `text` (each char a byte, 0–255).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(huffmanLength("www.example.com"), 12); // RFC 7541 C.4.1
 * ```
 */
export function huffmanLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) bits += CODE_LENGTHS[text.charCodeAt(i) & 0xff];
  return (bits + 7) >>> 3;
}

/**
 * Writes `text`'s Huffman code into `out` at `offset`, padded with ones; returns the new
 * offset. `out` must have {@linkcode huffmanLength} bytes free.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const out = new Uint8Array(huffmanLength("no-cache"));
 * assert.equal(huffmanEncode("no-cache", out, 0), 6);
 * assert.deepEqual([...out], [0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]); // RFC 7541 C.4.2
 * ```
 */
export function huffmanEncode(text: string, out: Uint8Array, offset: number): number {
  let bits = 0; // pending output bits, fewer than 8 between symbols
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i) & 0xff;
    let length = CODE_LENGTHS[symbol];
    const code = CODES[symbol];
    // Codes are up to 30 bits: feed them in pieces of at most 16 so `bits` stays small.
    while (length > 0) {
      const take = length > 16 ? length - 16 : length;
      length -= take;
      bits = bits * (1 << take) + (Math.floor(code / 2 ** length) & ((1 << take) - 1));
      count += take;
      while (count >= 8) {
        count -= 8;
        out[offset++] = (bits >>> count) & 0xff;
      }
      bits &= (1 << count) - 1;
    }
  }
  if (count > 0) out[offset++] = ((bits << (8 - count)) | (0xff >>> count)) & 0xff;
  return offset;
}
