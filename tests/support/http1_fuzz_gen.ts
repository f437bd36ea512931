/**
 * A seeded generator of HTTP/1.1 greet requests for the differential fuzz test: valid
 * requests in many shapes (Content-Length or chunked with random splits, extensions and
 * trailers; HTTP/1.0 or 1.1; extra fields with odd but legal values and OWS) and
 * mutations of the issue-13 vectors (controls in values, VT/FF/NBSP around framing
 * values, bare LF in chunk lines, padded chunk sizes, NUL in the target, TE on HTTP/1.0,
 * missing or doubled Host, duplicate or conflicting framing, bad field names, a
 * Content-Length shorter or longer than the body, bytes after the last chunk), one to three
 * of them pipelined on one connection. Only the HTTP framing varies: every valid request is
 * a well-formed greet call.
 *
 * @module
 */

/** A deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One generated input: the bytes (latin1) and what was done to them. */
export interface FuzzInput {
  text: string;
  mutation: string;
}

const BODY = '{"name":"x"}';

/**
 * Every header field name the generator writes (lowercase), so that a server which can only
 * look fields up by name (ours) can echo all of them.
 */
export const FIELD_NAMES: readonly string[] = [
  "host",
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "x-fuzz-0",
  "x-fuzz-1",
  "x-fuzz-2",
  "x-fuzz-3",
  "x-evil",
  "x-space",
];
const PATH = "/greet.GreetService/Greet";
const SAFE_VALUES = [
  "1",
  "a b",
  "x\ty",
  "(),/:;<=>?@[]{}",
  "caf\xe9",
  '"quoted"',
  "~!#$%&'*+.^_`|",
];
const OWS = ["", " ", "\t", "  ", " \t"];
const EXTENSIONS = ["", ";a", ";a=b", ';a="q"', ';a="q\\"x"', ";a=b;c", ";a="];

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)];

interface Parts {
  method: string;
  target: string;
  version: "1.0" | "1.1";
  fields: [string, string][];
  chunked: boolean;
  chunks: string[];
  trailers: [string, string][];
}

function validParts(rand: Rand): Parts {
  const version = rand() < 0.15 ? "1.0" : "1.1";
  const chunked = version === "1.1" && rand() < 0.5;
  const fields: [string, string][] = [["Host", pick(rand, ["a", "example.com", "127.0.0.1:1"])]];
  fields.push([
    "Content-Type",
    pick(rand, ["application/json", "application/json; charset=utf-8"]),
  ]);
  const extra = Math.floor(rand() * 4);
  for (let i = 0; i < extra; i++) {
    fields.push([`X-Fuzz-${i}`, pick(rand, OWS) + pick(rand, SAFE_VALUES) + pick(rand, OWS)]);
  }
  if (chunked) {
    fields.push([
      pick(rand, ["Transfer-Encoding", "transfer-encoding"]),
      pick(rand, ["chunked", "Chunked", " chunked\t"]),
    ]);
  } else {
    const zeros = rand() < 0.1 ? "0000000000000000" : "";
    fields.push([
      "Content-Length",
      pick(rand, OWS) + zeros + String(BODY.length) + pick(rand, [" ", ""]),
    ]);
  }
  if (version === "1.0" || rand() < 0.3) fields.push(["Connection", "close"]);
  // Fields in random order (Host stays somewhere).
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [fields[i], fields[j]] = [fields[j], fields[i]];
  }
  const chunks: string[] = [];
  if (chunked) {
    let rest = BODY;
    while (rest.length > 0) {
      const n = 1 + Math.floor(rand() * rest.length);
      chunks.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
  }
  const trailers: [string, string][] = chunked && rand() < 0.2 ? [["X-Trailer", "t"]] : [];
  return { method: "POST", target: PATH, version, fields, chunked, chunks, trailers };
}

function sizeLine(rand: Rand, size: number, pad = ""): string {
  const hex = size.toString(16);
  const digits = rand() < 0.2 ? `00${hex}` : rand() < 0.2 ? hex.toUpperCase() : hex;
  return `${digits}${pad}${pick(rand, EXTENSIONS)}\r\n`;
}

function render(rand: Rand, parts: Parts, chunkPad = ""): string {
  let text = `${parts.method} ${parts.target} HTTP/${parts.version}\r\n`;
  for (const [name, value] of parts.fields) {
    text += `${name}:${value.startsWith(" ") || value.startsWith("\t") ? "" : " "}${value}\r\n`;
  }
  text += "\r\n";
  if (!parts.chunked) return text + BODY;
  for (const chunk of parts.chunks) text += sizeLine(rand, chunk.length, chunkPad) + chunk + "\r\n";
  text += `0${pick(rand, EXTENSIONS)}\r\n`;
  for (const [name, value] of parts.trailers) text += `${name}: ${value}\r\n`;
  return text + "\r\n";
}

function setField(parts: Parts, name: string, value: string) {
  const at = parts.fields.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
  if (at >= 0) parts.fields[at] = [parts.fields[at][0], value];
}

const CONTROLS = ["\r", "\n", "\0", "\x01", "\x0b", "\x0c", "\x1f"];
const FRAMING_SPACE = ["\x0b", "\x0c", "\xa0"];

/** The mutations, each a function of a valid request's parts. */
const MUTATIONS: Record<string, (rand: Rand, parts: Parts) => string> = {
  "control in a value": (rand, parts) => {
    parts.fields.push(["X-Evil", `a${pick(rand, CONTROLS)}b`]);
    return render(rand, parts);
  },
  "VT/FF/NBSP around a framing value": (rand, parts) => {
    const name = parts.chunked ? "transfer-encoding" : "content-length";
    const value = parts.chunked ? "chunked" : String(BODY.length);
    const space = pick(rand, FRAMING_SPACE);
    setField(parts, name, rand() < 0.5 ? `${space}${value}` : `${value}${space}`);
    return render(rand, parts);
  },
  "bare LF in a chunk extension": (rand, _parts) => {
    const p = { ...validParts(rand), version: "1.1" as const };
    p.fields = p.fields.filter(([n]) =>
      !/^(content-length|transfer-encoding|connection)$/i.test(n)
    );
    p.fields.push(["Transfer-Encoding", "chunked"]);
    p.chunked = true;
    p.chunks = [BODY];
    p.trailers = [];
    const text = render(rand, p);
    const headEnd = text.indexOf("\r\n\r\n") + 4;
    const size = BODY.length.toString(16);
    return `${text.slice(0, headEnd)}${size};a\nb\r\n${BODY}\r\n0\r\n\r\n`;
  },
  "padded chunk size": (rand, parts) => {
    if (!parts.chunked) return MUTATIONS["NUL in the target"](rand, parts);
    return render(rand, parts, pick(rand, [" ", "\t"]));
  },
  "empty chunk extension name": (rand, parts) => {
    if (!parts.chunked) return MUTATIONS["NUL in the target"](rand, parts);
    const text = render(rand, parts);
    const head = text.slice(0, text.indexOf("\r\n\r\n") + 4);
    const rest = BODY.slice(1);
    const bad = pick(rand, ["1;\r\n", "1;;a\r\n", "1;=b\r\n"]);
    return `${head}${bad}{\r\n${rest.length.toString(16)}\r\n${rest}\r\n0\r\n\r\n`;
  },
  "NUL in the target": (rand, parts) => {
    parts.target = `${PATH}${pick(rand, ["\0", "\x7f", "\xff", "\x01"])}x`;
    return render(rand, parts);
  },
  "Transfer-Encoding on HTTP/1.0": (rand, parts) => {
    parts.version = "1.0";
    parts.fields = parts.fields.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n));
    parts.fields.push(["Transfer-Encoding", "chunked"]);
    parts.chunked = true;
    parts.chunks = [BODY];
    return render(rand, parts);
  },
  "missing Host": (rand, parts) => {
    parts.version = "1.1";
    parts.fields = parts.fields.filter(([n]) => n.toLowerCase() !== "host");
    return render(rand, parts);
  },
  "doubled Host": (rand, parts) => {
    parts.fields.push(["Host", pick(rand, ["a", "b"])]);
    return render(rand, parts);
  },
  "duplicate Content-Length": (rand, parts) => {
    if (parts.chunked) return MUTATIONS["both framings"](rand, parts);
    parts.fields.push(["Content-Length", String(BODY.length)]);
    return render(rand, parts);
  },
  "both framings": (rand, parts) => {
    parts.version = "1.1";
    parts.fields = parts.fields.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n));
    parts.fields.push(["Transfer-Encoding", "chunked"], ["Content-Length", "5"]);
    parts.chunked = true;
    parts.chunks = [BODY];
    return render(rand, parts);
  },
  "space before the colon": (rand, parts) => {
    parts.fields.push(["X-Space ", "1"]);
    return render(rand, parts);
  },
  "control in a field name": (rand, parts) => {
    parts.fields.push([`X-${pick(rand, ["\0", "\x01", "\x7f", "@"])}N`, "1"]);
    return render(rand, parts);
  },
  "Content-Length shorter than the body": (rand, parts) => {
    if (parts.chunked) return MUTATIONS["bytes after the last chunk"](rand, parts);
    setField(parts, "content-length", String(Math.floor(rand() * BODY.length)));
    return render(rand, parts);
  },
  "Content-Length longer than the body": (rand, parts) => {
    if (parts.chunked) return MUTATIONS["chunk size larger than its data"](rand, parts);
    setField(parts, "content-length", String(BODY.length + 1 + Math.floor(rand() * 8)));
    return render(rand, parts);
  },
  "bytes after the last chunk": (rand, parts) => {
    if (!parts.chunked) return MUTATIONS["Content-Length shorter than the body"](rand, parts);
    return render(rand, parts) + pick(rand, ["x", "\r\n", "0\r\n\r\n", "GET / HTTP/1.1\r\n"]);
  },
  "chunk size larger than its data": (rand, parts) => {
    if (!parts.chunked) return MUTATIONS["Content-Length longer than the body"](rand, parts);
    const text = render(rand, parts);
    const head = text.slice(0, text.indexOf("\r\n\r\n") + 4);
    return `${head}${(BODY.length + 2).toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
  },
  "non-digit Content-Length": (rand, parts) => {
    if (parts.chunked) return MUTATIONS["control in a value"](rand, parts);
    setField(parts, "content-length", pick(rand, ["+12", "0x0c", "12,12", "1 2", "-12"]));
    return render(rand, parts);
  },
};

/** Names of the mutations, for the printed counts. */
export const MUTATION_NAMES: readonly string[] = Object.keys(MUTATIONS);

/** One request of the run seeded with `rand`: valid about 40 % of the time. */
export function generateRequest(rand: Rand): FuzzInput {
  const parts = validParts(rand);
  if (rand() < 0.4) return { text: render(rand, parts), mutation: "valid" };
  const mutation = pick(rand, MUTATION_NAMES);
  return { text: MUTATIONS[mutation](rand, parts), mutation };
}

/**
 * The next input of the run seeded with `rand`: one request (60 %), or two or three
 * pipelined on one connection; `mutation` names the first mutated one ("valid" if none).
 */
export function generate(rand: Rand): FuzzInput {
  const count = rand() < 0.6 ? 1 : rand() < 0.6 ? 2 : 3;
  const requests = Array.from({ length: count }, () => generateRequest(rand));
  const mutated = requests.find((r) => r.mutation !== "valid");
  return {
    text: requests.map((r) => r.text).join(""),
    mutation: mutated?.mutation ?? "valid",
  };
}
