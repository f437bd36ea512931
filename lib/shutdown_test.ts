import assert from "node:assert/strict";
import { onShutdown } from "./shutdown.ts";

Deno.test("shutdown: steps run in order, a hanging step is cut off, the rest still run", async () => {
  const order: string[] = [];
  const lines: string[] = [];
  let exitCode = -1;
  const shutdown = onShutdown([
    { name: "first", run: () => void order.push("first") },
    { name: "hangs", run: () => new Promise<void>(() => order.push("hangs")) },
    {
      name: "fails",
      run: () => {
        order.push("fails");
        throw new Error("boom");
      },
    },
    { name: "last", run: () => void order.push("last") },
  ], { budgetMs: 300, log: (line) => lines.push(line), exit: (code) => exitCode = code });
  assert.equal(shutdown.signal.aborted, false);
  await shutdown.now("test", 3);
  assert.equal(shutdown.signal.aborted, true);
  assert.deepEqual(order, ["first", "hangs"]);
  assert.equal(exitCode, 3);
  assert.ok(lines.some((line) => line.includes("hangs did not finish")), lines.join("\n"));
});

Deno.test("shutdown: a failing step is logged and does not stop later steps", async () => {
  const order: string[] = [];
  const lines: string[] = [];
  const shutdown = onShutdown([
    { name: "fails", run: () => Promise.reject(new Error("zk down")) },
    { name: "after", run: () => void order.push("after") },
  ], { budgetMs: 1000, log: (line) => lines.push(line), exit: () => {} });
  await Promise.all([shutdown.now("one"), shutdown.now("twice")]);
  assert.deepEqual(order, ["after"]);
  assert.ok(lines.some((line) => line.includes("fails failed: zk down")));
  assert.equal(lines.filter((line) => line.startsWith("shutting down")).length, 1);
});
