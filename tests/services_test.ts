import assert from "node:assert/strict";
import {
  bcryptHash,
  startPrometheus,
  startPushgateway,
  startZooKeeper,
  waitFor,
} from "./support/services.ts";
import { fourLetterWord, WaitAborted } from "../tools/services.ts";
import { spawnProcess } from "./support/process.ts";

/** What a 30 s wait for something that never comes rejects with. */
async function waitRejection(): Promise<Error> {
  const error = await waitFor("something that never comes", () => false, 30_000).then(
    () => assert.fail("the wait ended"),
    (e: Error) => e,
  );
  return error;
}

Deno.test("harness: ZooKeeper answers ruok and srvr, and stops by PID", async () => {
  const zk = await startZooKeeper();
  try {
    assert.equal(await fourLetterWord(zk.port, "ruok"), "imok");
    assert.match(await fourLetterWord(zk.port, "srvr"), /Mode: standalone/);
    assert.ok(zk.pid() > 0);
  } finally {
    await zk.close();
  }
  assert.equal(await fourLetterWord(zk.port, "ruok"), "");
});

Deno.test("harness: Pushgateway accepts a push and Prometheus scrapes it", async () => {
  await using pgw = await startPushgateway();
  const put = await fetch(`${pgw.url}/metrics/job/harness/instance/a`, {
    method: "PUT",
    body: "harness_value 42\n",
  });
  await put.body?.cancel();
  assert.equal(put.status, 200);
  await using prom = await startPrometheus({
    config: [
      "global: {scrape_interval: 1s}",
      "scrape_configs:",
      "  - job_name: pushgateway",
      "    honor_labels: true",
      `    static_configs: [{targets: ["${pgw.address}"]}]`,
      "",
    ].join("\n"),
  });
  let value = "";
  const deadline = Date.now() + 20_000;
  while (value === "" && Date.now() < deadline) {
    const response = await fetch(`${prom.url}/api/v1/query?query=harness_value`);
    const body = await response.json();
    value = body.data.result[0]?.value[1] ?? "";
    if (value === "") await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(value, "42");
});

Deno.test("harness: Pushgateway with basic auth rejects anonymous and accepts the password", async () => {
  await using pgw = await startPushgateway({
    basicAuth: { user: "ops", bcryptHash: bcryptHash("s3cret") },
  });
  const anonymous = await fetch(`${pgw.url}/api/v1/status`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
  const authed = await fetch(`${pgw.url}/api/v1/status`, {
    headers: { authorization: `Basic ${btoa("ops:s3cret")}` },
  });
  await authed.body?.cancel();
  assert.equal(authed.status, 200);
});

Deno.test("harness: a restarted ZooKeeper keeps its port and answers again", async () => {
  await using zk = await startZooKeeper();
  await zk.stop();
  assert.equal(await fourLetterWord(zk.port, "ruok"), "");
  await zk.restart();
  assert.equal(await fourLetterWord(zk.port, "ruok"), "imok");
});

Deno.test("harness: a service that dies during a test fails the next wait at once with its log", async () => {
  await using zk = await startZooKeeper();
  Deno.kill(zk.pid(), "SIGKILL"); // not through the harness: as if it crashed
  const error = await waitRejection();
  // Not the 30 s timeout: the exit, with the code and ZooKeeper's own last lines.
  assert.ok(error instanceof WaitAborted, String(error));
  assert.match(error.message, /zookeeper \(pid \d+\) exited on its own .*SIGKILL/);
  const lastLine = zk.log().trim().split("\n").at(-1)!;
  assert.ok(lastLine && error.message.endsWith(lastLine), error.message);
});

Deno.test("harness: a server process that exits on its own fails the next wait at once with its last lines", async () => {
  await using server = spawnProcess(
    "sh",
    ["-c", "echo ready; sleep 0.3; echo last words; exit 3"],
    {
      name: "dying server",
      persistent: true,
    },
  );
  await server.waitForLine(/ready/);
  const error = await waitRejection();
  assert.ok(error instanceof WaitAborted, String(error));
  assert.match(error.message, /dying server \(pid \d+\) exited with code 3/);
  assert.match(error.message, /last words/);
  // A stop the test asks for is no failure.
  await using stopped = spawnProcess("sleep", ["60"], { name: "stopped", persistent: true });
  await stopped.stop();
  await waitFor("nothing", () => true);
});
