/**
 * The module graph keeps its layers honest:
 * - a `_`-prefixed file (or folder) is private to the folder that holds it and that folder's
 *   subfolders: no file elsewhere in lib/, the entrypoints, tests/, tools/ or bench/ imports
 *   it (doc examples included); other folders go through `mod.ts` or a public file;
 * - only `mod.ts` files re-export;
 * - the graph has no import cycle (a cycle makes load order matter and hides which module
 *   owns what), neither among our files nor reachable from an entrypoint.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ENTRYPOINTS = ["server.ts", "client.ts", "cleaner.ts", "demo.ts"];
/** Where our own TypeScript lives (generated code included: it must obey the rules too). */
const FOLDERS = ["lib", "tests", "tools", "bench", "examples"];
/** Not ours to police: a separate Deno project with its own config. */
const EXCLUDED = ["tests/support/dubbojs/"];

/** Every `.ts` file of the checks, relative to the repository root. */
async function sourceFiles(): Promise<string[]> {
  const files = [...ENTRYPOINTS];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (EXCLUDED.some((prefix) => `${path}/`.startsWith(prefix))) continue;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && /\.(ts|mts)$/.test(entry.name)) files.push(path);
    }
  };
  for (const folder of FOLDERS) await walk(folder);
  return files.sort();
}

/** Relative specifiers a source text imports or re-exports (doc examples included). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** `path` (relative to the root) resolved against the file `from`. */
function resolve(from: string, specifier: string): string {
  const url = new URL(specifier, new URL(from, ROOT));
  return url.pathname.slice(ROOT.pathname.length);
}

/**
 * Why `importer` may not import `target` (both relative to the root), or `undefined` when it
 * may: a `_` segment of the target's path is private to the folder holding it.
 */
function privacyViolation(importer: string, target: string): string | undefined {
  const segments = target.split("/");
  for (let i = 0; i < segments.length; i++) {
    if (!segments[i].startsWith("_")) continue;
    const owner = segments.slice(0, i).join("/");
    const inside = owner === "" || importer.startsWith(`${owner}/`);
    if (!inside) return `${importer} imports ${target}, private to ${owner || "the root"}/`;
  }
  return undefined;
}

/** `text` without its comments (doc examples are not the module's own code). */
function codeOf(text: string): string {
  return text.replace(/\/\*[^]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** The local names of `import { a, b as c }` and `import d from` statements. */
function importedNames(code: string): Set<string> {
  const names = new Set<string>();
  const pattern = /\bimport\s+(?:type\s+)?(\w+)?\s*,?\s*(?:\{([^}]*)\})?\s*from/g;
  for (const match of code.matchAll(pattern)) {
    if (match[1] && match[1] !== "type") names.add(match[1]);
    for (const part of (match[2] ?? "").split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()?.trim();
      if (name) names.add(name);
    }
  }
  return names;
}

/**
 * The re-export statements of a source text's code: `export ... from`, and `export { name }`
 * of an imported name.
 */
function reExports(text: string): string[] {
  const code = codeOf(text);
  const shown = (statement: string) => statement.trim().replace(/\s+/g, " ");
  const fromPattern = /^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*from\s*["'][^"']+["']/gm;
  const found = [...code.matchAll(fromPattern)].map((m) => shown(m[0]));
  const imported = importedNames(code);
  for (const match of code.matchAll(/^\s*export\s+(?:type\s+)?\{([^}]*)\}\s*;/gm)) {
    const names = match[1].split(",")
      .map((n) => n.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0]);
    if (names.some((name) => imported.has(name))) found.push(shown(match[0]));
  }
  return found;
}

/** One cycle as a list of modules, or `undefined` when the graph is acyclic. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

/** A file's text, what it imports (doc examples included), and what its own code imports. */
interface Source {
  text: string;
  imports: string[];
  codeImports: string[];
}

/** Every file's text and local imports. */
async function sources(): Promise<Map<string, Source>> {
  const out = new Map<string, Source>();
  for (const file of await sourceFiles()) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    out.set(file, {
      text,
      imports: specifiers(text).map((s) => resolve(file, s)),
      codeImports: specifiers(codeOf(text)).map((s) => resolve(file, s)),
    });
  }
  return out;
}

Deno.test("imports: the checks catch what they look for", () => {
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["a"]]])), ["a", "b", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), undefined);
  // A folder's own files and subfolders may use its private files; nobody else may.
  assert.equal(privacyViolation("lib/http1/mod.ts", "lib/http1/_server.ts"), undefined);
  assert.equal(privacyViolation("lib/http1/x/deep.ts", "lib/http1/_server.ts"), undefined);
  assert.match(
    privacyViolation("lib/exporters/scrape.ts", "lib/http1/_server.ts") ?? "",
    /private to lib\/http1\//,
  );
  assert.match(privacyViolation("tests/a_test.ts", "lib/_flags.ts") ?? "", /private to lib\//);
  assert.equal(privacyViolation("lib/config.ts", "lib/_flags.ts"), undefined);
  // A private folder belongs to the folder holding it.
  assert.match(privacyViolation("tests/x.ts", "bench/_private/y.ts") ?? "", /private to bench\//);
  assert.equal(privacyViolation("bench/x.ts", "bench/_private/y.ts"), undefined);
  // (The quotes are built so that this file's own scan does not read these as imports.)
  const q = '"';
  assert.deepEqual(
    specifiers(`import { a } from ${q}./_a.ts${q};\n * import b from ${q}../b/_b.ts${q};`),
    ["./_a.ts", "../b/_b.ts"],
  );
  assert.deepEqual(
    reExports(`export { a, type B } from ${q}./_a.ts${q};\nexport const c = 1;`),
    [`export { a, type B } from ${q}./_a.ts${q}`],
  );
  assert.deepEqual(
    reExports(`import { d } from ${q}./d.ts${q};\nconst e = 1;\nexport { d };\nexport { e };`),
    ["export { d };"],
  );
  assert.deepEqual(
    reExports(
      `/**\n * export { a } from ${q}./a.ts${q};\n */\nexport type { X } from ${q}./x.ts${q};`,
    ),
    [`export type { X } from ${q}./x.ts${q}`],
  );
});

Deno.test("imports: no file imports another folder's private (_) file", async () => {
  const violations: string[] = [];
  for (const [file, { imports }] of await sources()) {
    for (const target of imports) {
      const violation = privacyViolation(file, target);
      if (violation) violations.push(violation);
    }
  }
  assert.deepEqual(violations, []);
});

Deno.test("imports: only mod.ts files re-export", async () => {
  const offenders: string[] = [];
  for (const [file, { text }] of await sources()) {
    if (file.endsWith("/mod.ts") || file.startsWith("lib/gen/")) continue;
    for (const statement of reExports(text)) offenders.push(`${file}: ${statement}`);
  }
  assert.deepEqual(offenders, []);
});

Deno.test("imports: no import cycle among our files", async () => {
  const edges = new Map<string, string[]>();
  for (const [file, { codeImports }] of await sources()) edges.set(file, codeImports);
  const cycle = findCycle(edges);
  assert.equal(cycle, undefined, `cycle: ${cycle?.join(" → ")}`);
});

interface Dependency {
  code?: { specifier: string };
  type?: { specifier: string };
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

/** Our own modules and the local modules each imports (types and code alike), per Deno. */
async function graph(entry: string): Promise<Map<string, string[]>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const info: { modules: ModuleInfo[] } = JSON.parse(new TextDecoder().decode(output.stdout));
  const edges = new Map<string, string[]>();
  for (const module of info.modules) {
    if (!module.specifier.startsWith("file:")) continue;
    const targets = (module.dependencies ?? [])
      .flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .filter((s): s is string => s !== undefined && s.startsWith("file:"));
    edges.set(module.specifier, targets);
  }
  return edges;
}

for (const entry of ENTRYPOINTS) {
  Deno.test(`imports: no import cycle reachable from ${entry}`, async () => {
    const edges = await graph(entry);
    assert.ok(edges.size > 1, `${entry} has local imports`);
    const cycle = findCycle(edges);
    const shown = cycle?.map((s) => s.slice(ROOT.href.length)).join(" → ");
    assert.equal(cycle, undefined, `cycle: ${shown}`);
  });
}
