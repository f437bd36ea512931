// Size rules of lib/ (README "Code layout"): no file over 400 lines and no function over 80,
// generated code aside. Functions are found the way `deno fmt` lays them out: a line that opens a
// function, method or arrow body with `{` at its end, closed by the first `}` at the same indent.
import assert from "node:assert/strict";

const LIB = new URL(".", import.meta.url).pathname;
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

/** The lib/ sources the rules cover: TypeScript outside lib/gen/. */
function sources(dir = LIB): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory && entry.name !== "gen") files.push(...sources(`${path}/`));
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

const OPENS_FUNCTION = new RegExp(
  String.raw`^(\s*)(export\s+)?(default\s+)?(async\s+)?(` +
    String.raw`function\*?\s*[\w$]*\s*[<(]` + // function declarations and expressions
    String.raw`|(static\s+)?(async\s+)?(get\s+|set\s+)?#?[\w$]+\s*(<[^>]*>)?\s*\(` + // methods
    String.raw`|(const|let)\s+[\w$]+\s*(:[^=]+)?=\s*(async\s*)?(\([^)]*\)|[\w$]+)\s*(:[^=]+)?=>` + // arrows
    String.raw`)`,
);
const CONTROL = /^\s*(if|for|while|switch|catch|return|else|do|try)\b/;

/** Each function of `text` longer than `max` lines: `line: first line of its head`. */
function longFunctions(text: string, max: number): string[] {
  const lines = text.split("\n");
  const found: string[] = [];
  lines.forEach((line, start) => {
    const head = OPENS_FUNCTION.exec(line);
    if (!head || !line.trimEnd().endsWith("{") || CONTROL.test(line)) return;
    const indent = head[1].length;
    for (let end = start + 1; end < lines.length; end++) {
      const next = lines[end];
      if (next.trim() === "" || next.length - next.trimStart().length !== indent) continue;
      if (!next.trimStart().startsWith("}")) continue;
      if (end - start + 1 > max) found.push(`${start + 1}: ${line.trim().slice(0, 70)}`);
      return;
    }
  });
  return found;
}

Deno.test("size: the function finder sees a long function and passes a short one", () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  step(${i});`).join("\n");
  assert.equal(longFunctions(`function long() {\n${body(90)}\n}\n`, 80).length, 1);
  assert.equal(
    longFunctions(`export async function ok(a: number) {\n${body(10)}\n}\n`, 80).length,
    0,
  );
  assert.equal(longFunctions(`class A {\n  #m(): void {\n${body(85)}\n  }\n}\n`, 80).length, 1);
  assert.equal(longFunctions(`const f = (x: number) => {\n${body(85)}\n};\n`, 80).length, 1);
});

Deno.test("size: no lib/ file over 400 lines, generated code aside", () => {
  const over = sources()
    .map((path) => ({ path, lines: Deno.readTextFileSync(path).split("\n").length - 1 }))
    .filter(({ lines }) => lines > MAX_FILE_LINES)
    .map(({ path, lines }) => `${path.slice(LIB.length)}: ${lines} lines`);
  assert.deepEqual(over, []);
});

Deno.test("size: no lib/ function over 80 lines, generated code aside", () => {
  const over = sources().flatMap((path) =>
    longFunctions(Deno.readTextFileSync(path), MAX_FUNCTION_LINES).map((where) =>
      `${path.slice(LIB.length)}:${where}`
    )
  );
  assert.deepEqual(over, []);
});
