/**
 * The module graph of every entrypoint is acyclic: a cycle makes load order matter and
 * hides which module owns what.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ENTRYPOINTS = ["server.ts", "client.ts", "cleaner.ts", "demo.ts"];

interface Dependency {
  code?: { specifier: string };
  type?: { specifier: string };
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

/** Our own modules and the local modules each imports (types and code alike). */
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

Deno.test("imports: findCycle reports a cycle and accepts a tree", () => {
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["a"]]])), ["a", "b", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), undefined);
});

for (const entry of ENTRYPOINTS) {
  Deno.test(`imports: no import cycle reachable from ${entry}`, async () => {
    const edges = await graph(entry);
    assert.ok(edges.size > 1, `${entry} has local imports`);
    const cycle = findCycle(edges);
    const shown = cycle?.map((s) => s.slice(ROOT.href.length)).join(" → ");
    assert.equal(cycle, undefined, `cycle: ${shown}`);
  });
}
