/**
 * `deno task gen:check`: regenerates `lib/gen` from `proto/` into a temporary folder and
 * fails (exit 1, naming the files) when the checked-in output differs, so a `.proto` edit
 * without `deno task gen` cannot land.
 *
 * @module
 */
import { BUF, generateInto, listFiles } from "./gen.ts";

const scratch = await Deno.makeTempDir({ prefix: "gen-check-" });
try {
  await generateInto(scratch);
  const fresh = await listFiles(`${scratch}/lib/gen`);
  const current = await listFiles("lib/gen");
  const differing: string[] = [];
  for (const name of new Set([...fresh.keys(), ...current.keys()])) {
    if (fresh.get(name) !== current.get(name)) differing.push(name);
  }
  if (differing.length > 0) {
    console.error(
      `lib/gen is not what ${BUF} generates from proto/ (${differing.join(", ")}): ` +
        "run `deno task gen` and commit the result",
    );
    Deno.exit(1);
  }
  console.log(`lib/gen is current (${current.size} files)`);
} finally {
  await Deno.remove(scratch, { recursive: true });
}
