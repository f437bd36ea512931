import assert from "node:assert/strict";
import { taskArgs } from "./support/programs.ts";
import { waitFor } from "./support/services.ts";

Deno.test("demo: deno task demo shows live traffic and both scrape endpoints, Ctrl-C exits 0", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: taskArgs("demo"),
    cwd: new URL("..", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const drained = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  }));
  try {
    // The summary line refreshes every second; wait for one that counts real calls.
    await waitFor("a summary line with calls", () => /calls=[1-9]\d*/.test(output), 20_000)
      .catch((error) => assert.fail(`${error.message}\n${output}`));
    assert.match(output, /http:\/\/127\.0\.0\.1:9099\/prometheus/);
    assert.match(output, /http:\/\/127\.0\.0\.1:9097\/prometheus/);
    for (
      const [port, name] of [[9099, "dubbo_provider_requests_total"], [
        9097,
        "dubbo_consumer_requests_total",
      ]] as const
    ) {
      const text = await (await fetch(`http://127.0.0.1:${port}/prometheus`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${name}{`));
      assert.ok(line && Number(line.split(" ").at(-1)) > 0, `${name} on ${port}: ${line}`);
    }
  } finally {
    child.kill("SIGINT");
  }
  const status = await child.status;
  await drained;
  assert.equal(status.code, 0, output);
});
