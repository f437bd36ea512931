/**
 * Differential fuzz of the HTTP/1.1 parser (issue 13): seeded requests, valid and mutated
 * (tests/support/http1_fuzz_gen.ts), go to our provider process and to Node's own `http`
 * server (llhttp, tests/support/node_http_reference.mjs). Every input must get the same
 * verdict from both: accepted (200) or rejected (an error status or none, and closed).
 * Inputs that ever disagreed live in tests/fixtures/http1_fuzz/ and are replayed first.
 * Bounded in count and time; set FUZZ_SEED to replay a run, FUZZ_COUNT to change its size.
 */
import assert from "node:assert/strict";
import { latin1Bytes, rawRequest, startProviderProcess } from "./support/raw_http.ts";
import { generate, MUTATION_NAMES, prng } from "./support/http1_fuzz_gen.ts";

const FIXTURES = new URL("./fixtures/http1_fuzz/", import.meta.url);
const REFERENCE = new URL("./support/node_http_reference.mjs", import.meta.url).pathname;
const TIME_BUDGET_MS = 40_000;
const CONCURRENCY = 6;

type Verdict = "accepted" | "rejected" | "no answer";

/** How one server judged `bytes`. */
async function verdictOf(port: number, bytes: Uint8Array): Promise<Verdict> {
  const result = await rawRequest(port, bytes, { halfClose: true, timeoutMs: 5000 });
  if (result.statuses[0] === 200) return "accepted";
  return result.closed ? "rejected" : "no answer";
}

async function startReference(): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = new Deno.Command("node", {
    args: [REFERENCE],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`reference server exited: ${text}`);
    text += value;
  }
  const port = Number(text.match(/listening (\d+)/)![1]);
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}

function fixtureName(bytes: Uint8Array): Promise<string> {
  return crypto.subtle.digest("SHA-256", bytes.slice()).then((hash) =>
    Array.from(new Uint8Array(hash).slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("")
  );
}

function loadFixtures(): Uint8Array[] {
  const inputs: Uint8Array[] = [];
  try {
    for (const entry of Deno.readDirSync(FIXTURES)) {
      if (entry.name.endsWith(".bin")) {
        inputs.push(Deno.readFileSync(new URL(entry.name, FIXTURES)));
      }
    }
  } catch { /* no fixtures yet */ }
  return inputs;
}

Deno.test("HTTP/1.1 differential fuzz: our provider and Node's llhttp agree on every input", async () => {
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 2 ** 31);
  const count = Number(Deno.env.get("FUZZ_COUNT") ?? 4000);
  await using ours = await startProviderProcess();
  const reference = await startReference();
  const disagreements: string[] = [];
  const judge = async (bytes: Uint8Array, label: string) => {
    const [mine, theirs] = await Promise.all([
      verdictOf(ours.port, bytes),
      verdictOf(reference.port, bytes),
    ]);
    if (mine === theirs) return mine;
    const name = await fixtureName(bytes);
    Deno.writeFileSync(new URL(`${name}.bin`, FIXTURES), bytes);
    disagreements.push(`${label} (${name}.bin): ours ${mine}, llhttp ${theirs}: ${
      JSON.stringify(
        new TextDecoder("latin1").decode(bytes).slice(0, 300),
      )
    }`);
    return mine;
  };
  try {
    const fixtures = loadFixtures();
    for (const bytes of fixtures) await judge(bytes, "regression fixture");
    const rand = prng(seed);
    const inputs = Array.from({ length: count }, () => generate(rand));
    const counts = new Map<string, { accepted: number; rejected: number }>();
    const started = Date.now();
    let next = 0;
    let judged = 0;
    const worker = async () => {
      while (next < inputs.length && Date.now() - started < TIME_BUDGET_MS) {
        const input = inputs[next++];
        const verdict = await judge(latin1Bytes(input.text), input.mutation);
        const entry = counts.get(input.mutation) ?? { accepted: 0, rejected: 0 };
        if (verdict === "accepted") entry.accepted++;
        else entry.rejected++;
        counts.set(input.mutation, entry);
        judged++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(
      `http1 fuzz: seed ${seed}, ${fixtures.length} fixtures, ${judged}/${count} inputs in ` +
        `${Date.now() - started} ms, ${disagreements.length} disagreements`,
    );
    for (const name of ["valid", ...MUTATION_NAMES]) {
      const entry = counts.get(name) ?? { accepted: 0, rejected: 0 };
      console.log(`  ${name}: ${entry.accepted} accepted, ${entry.rejected} rejected`);
    }
    assert(judged >= Math.min(count, 300), `only ${judged} inputs judged`);
    assert.deepEqual(disagreements, [], `replay with FUZZ_SEED=${seed}`);
  } finally {
    await reference.stop();
  }
});
