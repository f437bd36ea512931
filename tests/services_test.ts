import assert from "node:assert/strict";
import {
  fourLetterWord,
  startPrometheus,
  startPushgateway,
  startZooKeeper,
} from "../tools/services.ts";
import { bcryptHash } from "./support/bcrypt.ts";

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
