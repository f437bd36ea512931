/**
 * HPACK's indexing tables (RFC 7541 §2.3): the static table, lookup maps over it for the
 * encoder, and the dynamic table, a ring of entries bounded by its size in octets
 * (name length + value length + 32 each, §4.1).
 *
 * @module
 */

/** RFC 7541 Appendix A, index 1–61 (position 0 unused). */
const STATIC: readonly (readonly [string, string])[] = [
  ["", ""],
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/**
 * Entries in the static table (61).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(STATIC_COUNT, 61);
 * ```
 */
export const STATIC_COUNT = STATIC.length - 1;

/**
 * Name of static entry `index` (1–61).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(staticName(2), ":method");
 * ```
 */
export function staticName(index: number): string {
  return STATIC[index][0];
}

/**
 * Value of static entry `index` (1–61).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(staticValue(3), "POST");
 * ```
 */
export function staticValue(index: number): string {
  return STATIC[index][1];
}

/** Name → value → lowest static index, and name → lowest static index. */
function staticMaps(): { pairs: Map<string, Map<string, number>>; names: Map<string, number> } {
  const pairs = new Map<string, Map<string, number>>();
  const names = new Map<string, number>();
  for (let i = STATIC_COUNT; i >= 1; i--) {
    const [name, value] = STATIC[i];
    let values = pairs.get(name);
    if (!values) pairs.set(name, values = new Map());
    values.set(value, i); // iterating down leaves the lowest index
    names.set(name, i);
  }
  return { pairs, names };
}

const MAPS = staticMaps();

/**
 * Static index of the exact pair `name: value`, or 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(staticPairIndex(":status", "200"), 8);
 * assert.equal(staticPairIndex(":status", "201"), 0);
 * ```
 */
export function staticPairIndex(name: string, value: string): number {
  return MAPS.pairs.get(name)?.get(value) ?? 0;
}

/**
 * Lowest static index whose name is `name`, or 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(staticNameIndex("content-type"), 31);
 * assert.equal(staticNameIndex("grpc-status"), 0);
 * ```
 */
export function staticNameIndex(name: string): number {
  return MAPS.names.get(name) ?? 0;
}

/** Per-entry overhead of RFC 7541 §4.1. */
const ENTRY_OVERHEAD = 32;

/**
 * The dynamic table: newest entry is index 1 (HPACK index `STATIC_COUNT + 1`). Entries
 * also carry an insertion number so the encoder can find them again by key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const table = new DynamicTable(64);
 * table.add("custom-key", "custom-header"); // 10 + 13 + 32 = 55 octets
 * assert.equal(table.size, 55);
 * assert.equal(table.name(1), "custom-key");
 * table.add("a", "b"); // 34 more: evicts the first
 * assert.equal(table.length, 1);
 * assert.equal(table.value(1), "b");
 * ```
 */
export class DynamicTable {
  #names: string[] = [];
  #values: string[] = [];
  #sizes: number[] = [];
  /** Ring position of the oldest entry. */
  #head = 0;
  #length = 0;
  #size = 0;
  #maxSize: number;
  /** Entries inserted so far; the newest has insertion number `#inserted`. */
  #inserted = 0;
  /** Called with each evicted entry and its insertion number (for the encoder's maps). */
  onEvict: ((name: string, value: string, insertion: number) => void) | undefined;

  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  /** Entries held. */
  get length(): number {
    return this.#length;
  }

  /** Octets held, per RFC 7541 §4.1. */
  get size(): number {
    return this.#size;
  }

  /** The size bound. */
  get maxSize(): number {
    return this.#maxSize;
  }

  /** Insertion number of the newest entry. */
  get inserted(): number {
    return this.#inserted;
  }

  #slot(index: number): number {
    return (this.#head + this.#length - index) % this.#names.length;
  }

  /** Name of dynamic entry `index` (1 = newest); the caller checks the range. */
  name(index: number): string {
    return this.#names[this.#slot(index)];
  }

  /** Value of dynamic entry `index` (1 = newest). */
  value(index: number): string {
    return this.#values[this.#slot(index)];
  }

  /** Sets the bound (a size update), evicting as needed. */
  resize(maxSize: number): void {
    this.#maxSize = maxSize;
    this.#evictTo(maxSize);
  }

  /** Inserts an entry, evicting old ones; one larger than the bound empties the table. */
  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.#evictTo(this.#maxSize - size);
    this.#inserted++;
    if (size > this.#maxSize) return;
    if (this.#length === this.#names.length) this.#grow();
    const slot = (this.#head + this.#length) % this.#names.length;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#sizes[slot] = size;
    this.#length++;
    this.#size += size;
  }

  #grow() {
    const names: string[] = [];
    const values: string[] = [];
    const sizes: number[] = [];
    for (let i = this.#length; i >= 1; i--) {
      const slot = this.#slot(i);
      names.push(this.#names[slot]);
      values.push(this.#values[slot]);
      sizes.push(this.#sizes[slot]);
    }
    const capacity = Math.max(8, this.#names.length * 2);
    while (names.length < capacity) {
      names.push("");
      values.push("");
      sizes.push(0);
    }
    this.#names = names;
    this.#values = values;
    this.#sizes = sizes;
    this.#head = 0;
  }

  #evictTo(limit: number) {
    while (this.#length > 0 && this.#size > limit) {
      const slot = this.#head;
      this.#size -= this.#sizes[slot];
      const insertion = this.#inserted - this.#length + 1;
      this.onEvict?.(this.#names[slot], this.#values[slot], insertion);
      this.#names[slot] = "";
      this.#values[slot] = "";
      this.#head = (slot + 1) % this.#names.length;
      this.#length--;
    }
  }
}
