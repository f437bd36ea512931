/**
 * Every doc example in lib/ checks something: it asserts (its code runs in `deno task
 * test:doc`), or it is marked `no-assert` where a runnable example has nothing to check
 * (it needs a ZooKeeper, or shows a type's shape).
 */
import assert from "node:assert/strict";

const LIB = new URL("./", import.meta.url);

/** The ```ts blocks of a source text that neither assert nor say `no-assert`. */
function uncheckedExamples(text: string): number[] {
  const lines = text.split("\n");
  const found: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^ \* ```ts\b/.test(lines[i])) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith(" * ```")) end++;
    const body = lines.slice(i + 1, end).join("\n");
    if (!lines[i].includes("no-assert") && !/\bassert\b/.test(body)) found.push(i + 1);
    i = end;
  }
  return found;
}

async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name === "gen") continue; // generated code
    const url = new URL(entry.isDirectory ? `${entry.name}/` : entry.name, dir);
    if (entry.isDirectory) yield* sources(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

Deno.test("doc examples: the check finds an example that checks nothing", () => {
  const fence = "```";
  const text = [
    "/**",
    " * @example",
    ` * ${fence}ts`,
    " * console.log(1);",
    ` * ${fence}`,
    ` * ${fence}ts`,
    " * assert.equal(1, 1);",
    ` * ${fence}`,
    ` * ${fence}ts no-assert`,
    " * await registry.close();",
    ` * ${fence}`,
    " */",
  ].join("\n");
  assert.deepEqual(uncheckedExamples(text), [3]);
});

Deno.test("doc examples: every example in lib/ asserts, or says no-assert", async () => {
  const unchecked: string[] = [];
  for await (const url of sources(LIB)) {
    const where = url.pathname.slice(LIB.pathname.length);
    for (const line of uncheckedExamples(await Deno.readTextFile(url))) {
      unchecked.push(`lib/${where}:${line}`);
    }
  }
  assert.deepEqual(unchecked, []);
});
