/**
 * Differential fuzz of the HTTP/1.1 parser (issue 13, tightened in issue 22): seeded inputs
 * of one to three pipelined requests, valid and mutated (tests/support/http1_fuzz_gen.ts),
 * go over a socket to our HTTP/1.1 server (the one the Triple and scrape ports run, echoing
 * every request it parses: tests/support/http1_echo.ts), and to Node's own parser, llhttp,
 * with the rules Node's server adds (tests/support/llhttp_reference.mjs). For every input
 * the whole parse must agree: how many requests, each one's method, target, header fields
 * and body, and how the connection ended (closed after the last request, or an error
 * answer). A framing disagreement (the request-smuggling class) shows as a different count
 * or body.
 *
 * Every input is judged. The run is a fixed list of seeds plus one random seed, printed with
 * any failure; `FUZZ_SEED=<n>` replays one seed alone, `FUZZ_COUNT` sets inputs per seed.
 * Inputs that ever disagreed are written to tests/fixtures/http1_fuzz/ and replayed first.
 */
import assert from "node:assert/strict";
import { latin1Bytes, rawRequest } from "./support/raw_http.ts";
import { generate, MUTATION_NAMES, prng } from "./support/http1_fuzz_gen.ts";
import { spawnProcess } from "./support/process.ts";

const FIXTURES = new URL("./fixtures/http1_fuzz/", import.meta.url);
const REFERENCE = new URL("./support/llhttp_reference.mjs", import.meta.url).pathname;
const ECHO = new URL("./support/http1_echo.ts", import.meta.url).pathname;
const FIXED_SEEDS = [1, 7, 42, 1234, 20261127];
const PER_SEED = Number(Deno.env.get("FUZZ_COUNT") ?? 2000);
const CONCURRENCY = 6;
/** A bound on the whole run: past it the test fails (not every input was judged). */
const RUN_LIMIT_MS = 240_000;

/** One request as a server parsed it (the echo). */
interface Echo {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: string;
}

/** What a server made of one input. */
interface Parse {
  requests: Echo[];
  /**
   * `end`: closed after the last request; `error`: an error answer (then closed); `open`:
   * still open 5 s after our FIN; `garbled`: bytes that are no answer.
   */
  end: "end" | "error" | "open" | "garbled";
  /** The error answer's status or llhttp's error code (printed, not compared). */
  reason?: string;
}

/** Reads the echo answers in `bytes` (latin1 of what one connection returned). */
export function parseAnswers(bytes: Uint8Array, closed: boolean): Parse {
  const requests: Echo[] = [];
  const text = new TextDecoder("latin1").decode(bytes);
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text.slice(at, at + 20));
    if (headEnd < 0 || !status) return { requests, end: "garbled" };
    if (status[1] !== "200") return { requests, end: "error", reason: status[1] };
    const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(text.slice(at, headEnd + 2));
    if (!length) return { requests, end: "garbled" };
    const bodyStart = headEnd + 4;
    const body = bytes.subarray(bodyStart, bodyStart + Number(length[1]));
    const echo = JSON.parse(new TextDecoder().decode(body)) as Echo;
    echo.headers = Object.fromEntries(Object.entries(echo.headers).sort());
    requests.push(echo);
    at = bodyStart + Number(length[1]);
  }
  return { requests, end: closed ? "end" : "open" };
}

/** How the server on `port` parsed `bytes` (sent, then our side half-closed). */
async function parseOf(port: number, bytes: Uint8Array): Promise<Parse> {
  const result = await rawRequest(port, bytes, { halfClose: true, timeoutMs: 5000 });
  return parseAnswers(latin1Bytes(result.text), result.closed);
}

/** llhttp's parse of every input (one node process for the batch). */
async function referenceParses(inputs: Uint8Array[]): Promise<Parse[]> {
  const node = new Deno.Command("node", {
    args: [REFERENCE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = node.stdin.getWriter();
  const lines = inputs.map((bytes) => btoa(String.fromCharCode(...bytes)) + "\n").join("");
  await writer.write(new TextEncoder().encode(lines));
  await writer.close();
  const { code, stdout, stderr } = await node.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const parses = new TextDecoder().decode(stdout).trim().split("\n").map((line) => {
    const parse = JSON.parse(line) as Parse;
    for (const echo of parse.requests) {
      echo.headers = Object.fromEntries(Object.entries(echo.headers).sort());
    }
    return parse;
  });
  assert.equal(parses.length, inputs.length, "llhttp parsed every input");
  return parses;
}

/** Starts `command args`, a server that prints `listening <port>`; stopped by PID. */
async function startEchoServer(name: string, command: string, args: string[]) {
  const server = spawnProcess(command, args, { name, persistent: true });
  const [, port] = await server.waitForLine(/listening (\d+)/, 30_000);
  return Object.assign(server, { port: Number(port) });
}

function fixtureName(bytes: Uint8Array): Promise<string> {
  return crypto.subtle.digest("SHA-256", bytes.slice()).then((hash) =>
    Array.from(new Uint8Array(hash).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("")
  );
}

function loadFixtures(): Uint8Array[] {
  const inputs: Uint8Array[] = [];
  for (const entry of Deno.readDirSync(FIXTURES)) {
    if (entry.name.endsWith(".bin")) inputs.push(Deno.readFileSync(new URL(entry.name, FIXTURES)));
  }
  return inputs;
}

Deno.test("HTTP/1.1 parse answers: echoes, an error, garbage", () => {
  const echo = '{"method":"POST","target":"/","headers":{"x":"1","host":"a"},"body":"\u00e9"}';
  const utf8 = new TextEncoder().encode(echo);
  const answer = (status: string, body: Uint8Array) =>
    latin1Bytes(`HTTP/1.1 ${status}\r\ncontent-length: ${body.length}\r\n\r\n`);
  const two = new Uint8Array([
    ...answer("200 OK", utf8),
    ...utf8,
    ...answer("200 OK", utf8),
    ...utf8,
    ...latin1Bytes("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"),
  ]);
  const parsed = parseAnswers(two, true);
  assert.equal(parsed.end, "error");
  assert.equal(parsed.reason, "400");
  assert.equal(parsed.requests.length, 2);
  assert.deepEqual(parsed.requests[0], {
    method: "POST",
    target: "/",
    headers: { host: "a", x: "1" },
    body: "\u00e9",
  });
  assert.equal(parseAnswers(latin1Bytes("HTTP/1.1 200 OK\r\n"), true).end, "garbled");
  assert.deepEqual(parseAnswers(new Uint8Array(0), false), { requests: [], end: "open" });
});

Deno.test("HTTP/1.1 differential fuzz: our parser and Node's llhttp parse every input alike", async () => {
  const replay = Deno.env.get("FUZZ_SEED");
  const randomSeed = Math.floor(Math.random() * 2 ** 31);
  const seeds = replay !== undefined ? [Number(replay)] : [...FIXED_SEEDS, randomSeed];
  await using ours = await startEchoServer("our HTTP/1.1 echo", Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    ECHO,
  ]);
  const inputs = [
    ...loadFixtures().map((bytes) => ({ label: "regression fixture", bytes })),
    ...seeds.flatMap((seed) => {
      const rand = prng(seed);
      return Array.from({ length: PER_SEED }, () => {
        const input = generate(rand);
        return { label: `seed ${seed} ${input.mutation}`, bytes: latin1Bytes(input.text) };
      });
    }),
  ];
  const references = await referenceParses(inputs.map((input) => input.bytes));
  const disagreements: string[] = [];
  const counts = new Map<string, Record<Parse["end"], number>>();
  const started = Date.now();
  let next = 0;
  let judged = 0;
  let requests = 0;
  const judge = async (index: number) => {
    const { label, bytes } = inputs[index];
    const mine = await parseOf(ours.port, bytes);
    const reference = references[index];
    const same = (p: Parse) => JSON.stringify({ requests: p.requests, end: p.end });
    if (same(mine) !== same(reference)) {
      const name = await fixtureName(bytes);
      Deno.writeFileSync(new URL(`${name}.bin`, FIXTURES), bytes);
      disagreements.push(
        `${label} (${name}.bin): ${
          JSON.stringify(new TextDecoder("latin1").decode(bytes).slice(0, 400))
        }\n  ours:   ${JSON.stringify(mine)}\n  llhttp: ${JSON.stringify(reference)}`,
      );
    }
    const kind = label.replace(/^seed \d+ /, "");
    const entry = counts.get(kind) ?? { end: 0, error: 0, open: 0, garbled: 0 };
    entry[mine.end]++;
    counts.set(kind, entry);
    requests += mine.requests.length;
    judged++;
  };
  const worker = async () => {
    while (next < inputs.length && Date.now() - started < RUN_LIMIT_MS) await judge(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  console.log(
    `http1 fuzz: seeds ${seeds.join(", ")}; ${judged}/${inputs.length} inputs ` +
      `(${requests} requests parsed) in ${Date.now() - started} ms, ` +
      `${disagreements.length} disagreements`,
  );
  for (const name of ["regression fixture", "valid", ...MUTATION_NAMES]) {
    console.log(`  ${name}: ${JSON.stringify(counts.get(name) ?? {})}`);
  }
  const replayHint = `seeds ${seeds.join(", ")} (the random one: FUZZ_SEED=${randomSeed})`;
  assert.equal(judged, inputs.length, `only ${judged} inputs judged; ${replayHint}`);
  assert.deepEqual(disagreements, [], replayHint);
});
