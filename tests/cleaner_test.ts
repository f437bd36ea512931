/**
 * pgw-cleaner against a real Pushgateway: the program as `deno task cleaner` runs it
 * (same permissions) for end-to-end behaviour, the library for cases that need a clock
 * or a faulty network in between.
 */
import assert from "node:assert/strict";
import {
  base64Url,
  describeKey,
  groupPath,
  needsBase64,
  Pushgateway,
  runCycle,
} from "../lib/cleaner/mod.ts";
import { freePort } from "../tools/ports.ts";
import { startProgram } from "./support/programs.ts";
import { bcryptHash, startPushgateway, waitFor } from "./support/services.ts";

/** Basic-auth credentials for a request. */
interface Auth {
  user: string;
  pass: string;
}

/** A fresh job prefix no other test (or earlier run) uses, e.g. `dubbo_t3f9a1c_`. */
function uniquePrefix(base = "dubbo_"): string {
  return `${base}t${crypto.randomUUID().slice(0, 8)}_`;
}

function headers(auth?: Auth): Record<string, string> {
  return auth ? { authorization: `Basic ${btoa(`${auth.user}:${auth.pass}`)}` } : {};
}

/**
 * PUTs `body` (text format) to the group with this grouping key; `pushedAt` adds a
 * `job_pushed_at_seconds` gauge with that value.
 */
async function pushGroup(
  gatewayUrl: string,
  key: Record<string, string>,
  options: { pushedAt?: number; auth?: Auth; body?: string } = {},
): Promise<void> {
  await pushPath(gatewayUrl, groupPath(key), options);
}

/** PUTs to a literal `/metrics/job/...` path (for checking our encoding against it). */
async function pushPath(
  gatewayUrl: string,
  path: string,
  options: { pushedAt?: number; auth?: Auth; body?: string } = {},
): Promise<void> {
  let body = options.body ?? "cleaner_test_value 1\n";
  if (options.pushedAt !== undefined) {
    body += `# TYPE job_pushed_at_seconds gauge\njob_pushed_at_seconds ${options.pushedAt}\n`;
  }
  const response = await fetch(`${gatewayUrl}${path}`, {
    method: "PUT",
    headers: headers(options.auth),
    body,
  });
  const text = await response.text();
  assert.equal(response.status, 200, `push ${path}: ${text}`);
}

/** A group as the gateway lists it. */
interface ListedGroup {
  labels: Record<string, string>;
  pushTimeSeconds: number;
}

/** The groups whose job starts with `prefix`. */
async function listGroups(
  gatewayUrl: string,
  prefix: string,
  auth?: Auth,
): Promise<ListedGroup[]> {
  const response = await fetch(`${gatewayUrl}/api/v1/metrics`, { headers: headers(auth) });
  assert.equal(response.status, 200);
  const body = await response.json() as {
    data: { labels: Record<string, string>; push_time_seconds: { metrics: { value: string }[] } }[];
  };
  return body.data
    .filter((group) => group.labels.job.startsWith(prefix))
    .map((group) => ({
      labels: group.labels,
      pushTimeSeconds: Number(group.push_time_seconds.metrics[0].value),
    }));
}

/** The groups under `prefix` as sorted `describe`-style strings, for equality checks. */
async function groupNames(
  gatewayUrl: string,
  prefix: string,
  auth?: Auth,
): Promise<string[]> {
  return (await listGroups(gatewayUrl, prefix, auth))
    .map((group) =>
      Object.entries(group.labels).sort(([a], [b]) => a < b ? -1 : 1)
        .map(([name, value]) => `${name}=${value}`).join(",")
    )
    .sort();
}

/** Deletes every group whose job starts with `prefix` and waits until they are gone. */
async function removeGroups(gatewayUrl: string, prefix: string, auth?: Auth) {
  try {
    for (const group of await listGroups(gatewayUrl, prefix, auth)) {
      const response = await fetch(`${gatewayUrl}${groupPath(group.labels)}`, {
        method: "DELETE",
        headers: headers(auth),
      });
      await response.body?.cancel();
    }
  } catch { /* gateway already down */ }
}

/** A Unix time (seconds) a day ago: certainly stale for any TTL the tests use. */
function dayAgo(): number {
  return Math.floor(Date.now() / 1000) - 86_400;
}

/** Now in Unix seconds: fresh for a TTL of minutes or more. */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

const TASK_ENV = { PUSHGATEWAY_URL: "", PUSHGATEWAY_USER: "", PUSHGATEWAY_PASS: "" };

/** Runs `deno task cleaner <args>` to completion; returns exit code and output. */
async function runCleanerOnce(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const program = startProgram("cleaner", args, { ...TASK_ENV, ...env });
  const code = await program.exited;
  return { code, output: program.output() };
}

Deno.test("cleaner: grouping-key paths use @base64 exactly where a plain segment cannot work", () => {
  assert.equal(
    groupPath({ instance: "10.0.0.1:9099", job: "dubbo_server" }),
    "/metrics/job/dubbo_server/instance/10.0.0.1%3A9099",
  );
  assert.equal(groupPath({ job: "dubbo_client" }), "/metrics/job/dubbo_client");
  assert.equal(
    groupPath({ job: "dubbo_x", instance: "a/b c" }),
    "/metrics/job/dubbo_x/instance@base64/YS9iIGM=",
  );
  assert.equal(
    groupPath({ job: "dubbo_x", instance: "" }),
    "/metrics/job/dubbo_x/instance@base64/=",
  );
  assert.equal(groupPath({ job: "a/b" }), "/metrics/job@base64/YS9i");
  assert.equal(
    groupPath({ job: "j", zone: "eu", instance: "p%q" }),
    "/metrics/job/j/instance/p%25q/zone/eu",
  );
  // URL-safe alphabet: "?>?" is "Pz4_" in URL-safe base64 ("Pz4/" in the standard one).
  assert.equal(base64Url("?>?"), "Pz4_");
  assert.equal(base64Url("ü/"), "w7wv");
  assert.ok(needsBase64(" ") && needsBase64("\t") && needsBase64("") && !needsBase64("a:b"));
  assert.throws(() => groupPath({ instance: "x" }), /without a job/);
  assert.equal(
    describeKey({ instance: "a", job: "j", zone: "" }),
    '{job="j",instance="a",zone=""}',
  );
});

Deno.test("cleaner: deletes stale groups by their full key, keeps fresh ones and other prefixes", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  const other = uniquePrefix("batch_");
  try {
    const old = dayAgo();
    // Pushed with hand-written paths, so our encoding is checked against the gateway.
    await pushPath(pgw.url, `/metrics/job/${prefix}server/instance/10.0.0.1%3A9099`, {
      pushedAt: old,
    });
    await pushPath(pgw.url, `/metrics/job/${prefix}server/instance@base64/${btoa("a/b c")}`, {
      pushedAt: old,
    });
    await pushPath(pgw.url, `/metrics/job/${prefix}noinstance`, { pushedAt: old });
    await pushPath(pgw.url, `/metrics/job/${prefix}zoned/instance/i1/zone@base64/=`, {
      pushedAt: old,
    });
    await pushPath(pgw.url, `/metrics/job@base64/${btoa(`${prefix}a/b`)}/instance/x`, {
      pushedAt: old,
    });
    await pushPath(pgw.url, `/metrics/job/${prefix}fresh/instance/f1`, { pushedAt: nowSeconds() });
    await pushPath(pgw.url, `/metrics/job/${other}old/instance/o1`, { pushedAt: old });
    assert.equal((await groupNames(pgw.url, prefix)).length, 6);

    const { code, output } = await runCleanerOnce([
      `--pushgw=${pgw.url}`,
      `--job-prefix=${prefix}`,
      "--ttl=1h",
    ]);
    assert.equal(code, 0, output);
    assert.deepEqual(await groupNames(pgw.url, prefix), [`instance=f1,job=${prefix}fresh`]);
    assert.deepEqual(await groupNames(pgw.url, other), [`instance=o1,job=${other}old`]);
    assert.match(output, new RegExp(`deleted \\{job="${prefix}server",instance="a/b c"\\} age 1d`));
    assert.match(output, new RegExp(`deleted \\{job="${prefix}noinstance"\\} age`));
    assert.match(output, /checked 6, stale 5, deleted 5, errors 0/);
    assert.doesNotMatch(output, new RegExp(`${other}`));
  } finally {
    await removeGroups(pgw.url, prefix);
    await removeGroups(pgw.url, other);
    await pgw.close();
  }
});

Deno.test("cleaner: --dry-run lists what it would delete and deletes nothing", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  try {
    await pushGroup(pgw.url, { job: `${prefix}old`, instance: "a b" }, { pushedAt: dayAgo() });
    await pushGroup(pgw.url, { job: `${prefix}new`, instance: "n" }, { pushedAt: nowSeconds() });
    const before = await groupNames(pgw.url, prefix);
    const { code, output } = await runCleanerOnce([
      `--pushgw=${pgw.url}`,
      `--job-prefix=${prefix}`,
      "--dry-run",
    ]);
    assert.equal(code, 0, output);
    assert.deepEqual(await groupNames(pgw.url, prefix), before);
    assert.match(output, new RegExp(`would delete \\{job="${prefix}old",instance="a b"\\}`));
    assert.doesNotMatch(output, new RegExp(`${prefix}new`));
    assert.match(output, /checked 2, stale 1, would delete 1, deleted 0, errors 0/);
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner: an empty --job-prefix considers every job", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix("batch_");
  try {
    await pushGroup(pgw.url, { job: `${prefix}old` }, { pushedAt: dayAgo() });
    await pushGroup(pgw.url, { job: `${prefix}new` }, { pushedAt: nowSeconds() });
    // Dry run: the gateway may hold other tests' groups, which this test must not delete.
    const { code, output } = await runCleanerOnce([
      `--pushgw=${pgw.url}`,
      "--job-prefix=",
      "--dry-run",
    ]);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`would delete \\{job="${prefix}old"\\}`));
    assert.match(output, /all jobs/);
    const report = await runCycle({
      gateway: new Pushgateway({ url: pgw.url }),
      ttlMs: 3_600_000,
      jobPrefix: prefix.slice(0, 6),
      log: () => {},
    });
    assert.equal(report.deleted, 1);
    assert.deepEqual(await groupNames(pgw.url, prefix), [`job=${prefix}new`]);
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner: without job_pushed_at_seconds the gateway's push_time_seconds decides", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  try {
    await pushGroup(pgw.url, { job: `${prefix}old`, instance: "o" });
    const [old] = await listGroups(pgw.url, `${prefix}old`);
    // Wait (by the wall clock, as the cleaner sees it) until that push is over 1 s old.
    await waitFor(
      "the first push to be older than 1s",
      () => Date.now() / 1000 - old.pushTimeSeconds > 1.2,
    );
    await pushGroup(pgw.url, { job: `${prefix}new`, instance: "n" });
    const [fresh] = await listGroups(pgw.url, `${prefix}new`);
    const lines: string[] = [];
    const report = await runCycle({
      gateway: new Pushgateway({ url: pgw.url }),
      ttlMs: 1000,
      jobPrefix: prefix,
      // The clock half a second after the fresh push: old is over 1.5 s, fresh 0.5 s.
      now: () => fresh.pushTimeSeconds * 1000 + 500,
      log: (line) => lines.push(line),
    });
    assert.deepEqual(
      { checked: report.checked, stale: report.stale, deleted: report.deleted },
      { checked: 2, stale: 1, deleted: 1 },
    );
    assert.deepEqual(await groupNames(pgw.url, prefix), [`instance=n,job=${prefix}new`]);
    assert.match(lines.join("\n"), /deleted .*old.* \(push_time_seconds\)/);
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner: job_pushed_at_seconds wins over a recent push_time_seconds", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  try {
    // Just pushed (push_time_seconds is now), but the program says its last push is old.
    await pushGroup(pgw.url, { job: `${prefix}zombie`, instance: "z" }, { pushedAt: dayAgo() });
    // A fresh job_pushed_at_seconds keeps its group.
    await pushGroup(pgw.url, { job: `${prefix}alive`, instance: "a" }, {
      pushedAt: nowSeconds(),
    });
    const report = await runCycle({
      gateway: new Pushgateway({ url: pgw.url }),
      ttlMs: 3_600_000,
      jobPrefix: prefix,
      log: () => {},
    });
    assert.equal(report.deleted, 1);
    assert.deepEqual(await groupNames(pgw.url, prefix), [`instance=a,job=${prefix}alive`]);
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner: basic auth from PUSHGATEWAY_USER/PUSHGATEWAY_PASS; a wrong password exits 1 without leaking it", async () => {
  const auth = { user: "cleaner", pass: "s3cret-Pa55" };
  const pgw = await startPushgateway({
    basicAuth: { user: auth.user, bcryptHash: bcryptHash(auth.pass) },
  });
  const prefix = uniquePrefix();
  try {
    await pushGroup(pgw.url, { job: `${prefix}old`, instance: "o" }, { pushedAt: dayAgo(), auth });

    const wrong = await runCleanerOnce([`--pushgw=${pgw.url}`, `--job-prefix=${prefix}`], {
      PUSHGATEWAY_USER: auth.user,
      PUSHGATEWAY_PASS: "wrong-Pa55word",
    });
    assert.equal(wrong.code, 1, wrong.output);
    assert.match(wrong.output, new RegExp(`${pgw.url.replaceAll(".", "\\.")}.*HTTP 401`));
    assert.match(wrong.output, /PUSHGATEWAY_USER and PUSHGATEWAY_PASS/);
    assert.doesNotMatch(wrong.output, /wrong-Pa55word/);
    assert.equal((await groupNames(pgw.url, prefix, auth)).length, 1);

    const right = await runCleanerOnce([`--pushgw=${pgw.url}`, `--job-prefix=${prefix}`], {
      PUSHGATEWAY_USER: auth.user,
      PUSHGATEWAY_PASS: auth.pass,
    });
    assert.equal(right.code, 0, right.output);
    assert.doesNotMatch(right.output, /s3cret-Pa55/);
    assert.match(right.output, /deleted 1, errors 0/);
    assert.deepEqual(await groupNames(pgw.url, prefix, auth), []);
  } finally {
    await removeGroups(pgw.url, prefix, auth);
    await pgw.close();
  }
});

Deno.test("cleaner: an unreachable gateway exits 1 with a message naming it", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const { code, output } = await runCleanerOnce([`--pushgw=${url}`], {
    PUSHGATEWAY_USER: "u",
    PUSHGATEWAY_PASS: "never-shown-pass",
  });
  assert.equal(code, 1, output);
  assert.match(
    output,
    new RegExp(`cannot read groups from the Pushgateway at ${url}: .*refused`, "i"),
  );
  assert.match(output, /checked 0, stale 0, deleted 0, errors 1/);
  assert.doesNotMatch(output, /never-shown-pass/);
});

Deno.test("cleaner: PUSHGATEWAY_URL is the default for --pushgw", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  try {
    await pushGroup(pgw.url, { job: `${prefix}old` }, { pushedAt: dayAgo() });
    const { code, output } = await runCleanerOnce([`--job-prefix=${prefix}`], {
      PUSHGATEWAY_URL: pgw.address,
    });
    assert.equal(code, 0, output);
    assert.match(output, /deleted 1, errors 0/);
    assert.deepEqual(await groupNames(pgw.url, prefix), []);
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner: bad usage exits 2 before touching the network; --help exits 0", async () => {
  for (const args of [["--ttl=soon"], ["--bogus"], ["--interval=0"], ["--pushgw=ftp://x"]]) {
    const { code, output } = await runCleanerOnce(args);
    assert.equal(code, 2, `${args}: ${output}`);
    assert.match(output, /cleaner: --\w+/);
  }
  const help = await runCleanerOnce(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.output, /--job-prefix/);
});

/** The value of an unlabelled sample in a text exposition, or `undefined`. */
async function scrape(url: string): Promise<Record<string, number>> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const values: Record<string, number> = {};
  for (const line of (await response.text()).split("\n")) {
    const match = /^(pgw_cleaner_\w+) (\S+)$/.exec(line);
    if (match) values[match[1]] = Number(match[2]);
  }
  return values;
}

Deno.test("cleaner daemon: cleans at start, serves its metrics, exits 0 on SIGTERM and SIGINT", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  try {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      await pushGroup(pgw.url, { job: `${prefix}old`, instance: signal }, { pushedAt: dayAgo() });
      await pushGroup(pgw.url, { job: `${prefix}new`, instance: signal }, {
        pushedAt: nowSeconds(),
      });
      const port = await freePort();
      // An interval of an hour: anything deleted now was deleted by the cycle at start.
      await using daemon = startProgram("cleaner", [
        `--pushgw=${pgw.url}`,
        `--job-prefix=${prefix}`,
        "--daemon",
        "--interval=1h",
        `--metrics-port=${port}`,
        "--host=127.0.0.1",
      ], TASK_ENV);
      await daemon.waitForLine(new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
      await daemon.waitForLine(/checked \d+, stale 1, deleted 1, errors 0/);
      assert.deepEqual(await groupNames(pgw.url, `${prefix}old`), []);

      const metrics = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.equal(metrics.pgw_cleaner_checked_total, signal === "SIGTERM" ? 2 : 3);
      assert.equal(metrics.pgw_cleaner_deleted_total, 1);
      assert.equal(metrics.pgw_cleaner_errors_total, 0);
      assert.ok(metrics.pgw_cleaner_last_run_timestamp_seconds > Date.now() / 1000 - 3600);
      assert.ok(metrics.pgw_cleaner_last_run_duration_seconds >= 0);
      const notFound = await fetch(`http://127.0.0.1:${port}/other`);
      await notFound.body?.cancel();
      assert.equal(notFound.status, 404);

      daemon.kill(signal);
      assert.equal(await daemon.exited, 0, daemon.output());
      assert.match(daemon.output(), /daemon: stopped/);
    }
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner daemon: survives a gateway outage, counts it, and cleans again after", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  const port = await freePort();
  try {
    await using daemon = startProgram("cleaner", [
      `--pushgw=${pgw.url}`,
      `--job-prefix=${prefix}`,
      "--daemon",
      "--interval=300ms",
      `--metrics-port=${port}`,
      "--host=127.0.0.1",
    ], TASK_ENV);
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await daemon.waitForLine(/checked 0, stale 0, deleted 0, errors 0/);

    await pgw.stop();
    await waitFor(
      "an error counted during the outage",
      async () => (await scrape(metricsUrl)).pgw_cleaner_errors_total >= 1,
    );
    assert.match(
      daemon.output(),
      new RegExp(`cannot read groups from the Pushgateway at ${pgw.url}`),
    );

    await pgw.restart();
    await pushGroup(pgw.url, { job: `${prefix}old`, instance: "x" }, { pushedAt: dayAgo() });
    await waitFor(
      "the stale group deleted after the outage",
      async () => (await scrape(metricsUrl)).pgw_cleaner_deleted_total === 1,
    );
    assert.deepEqual(await groupNames(pgw.url, prefix), []);
    assert.equal(await daemon.stop(), 0, daemon.output());
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner daemon: a metrics port in use exits 1 with a message", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const { code, output } = await runCleanerOnce([
      `--pushgw=http://127.0.0.1:${await freePort()}`,
      "--daemon",
      `--metrics-port=${port}`,
      "--host=127.0.0.1",
    ]);
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}`));
  } finally {
    listener.close();
  }
});

Deno.test("cleaner: a failed delete is reported and exits 1, other deletes go on", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  // A proxy in front of the real gateway that refuses deletes of one group.
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const url = new URL(request.url);
    if (request.method === "DELETE" && url.pathname.includes("blocked")) {
      return new Response("no\n", { status: 503 });
    }
    return fetch(`${pgw.url}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
    });
  });
  const proxyUrl = `http://127.0.0.1:${proxy.addr.port}`;
  try {
    await pushGroup(pgw.url, { job: `${prefix}blocked` }, { pushedAt: dayAgo() });
    await pushGroup(pgw.url, { job: `${prefix}open` }, { pushedAt: dayAgo() });
    const { code, output } = await runCleanerOnce([
      `--pushgw=${proxyUrl}`,
      `--job-prefix=${prefix}`,
    ]);
    assert.equal(code, 1, output);
    assert.match(
      output,
      new RegExp(
        `cannot delete group \\{job="${prefix}blocked"\\} on the Pushgateway at ${proxyUrl}: HTTP 503`,
      ),
    );
    assert.match(output, /checked 2, stale 2, deleted 1, errors 1/);
    assert.deepEqual(await groupNames(pgw.url, prefix), [`job=${prefix}blocked`]);
  } finally {
    await proxy.shutdown();
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});

Deno.test("cleaner: a gateway that never answers times out with a clear message", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  try {
    const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    const problems: string[] = [];
    const report = await runCycle({
      gateway: new Pushgateway({ url, timeoutMs: 300 }),
      ttlMs: 1000,
      jobPrefix: "",
      log: () => {},
      warn: (line) => problems.push(line),
    });
    assert.equal(report.readOk, false);
    assert.equal(report.errors, 1);
    assert.deepEqual(problems, [
      `cannot read groups from the Pushgateway at ${url}: no answer within 0.3s`,
    ]);
  } finally {
    listener.close();
    for (const conn of held) conn.close();
    await accepting;
  }
});

Deno.test("cleaner: a group left by our own client, SIGKILLed in push mode, is removed once stale", async () => {
  const pgw = await startPushgateway();
  const prefix = uniquePrefix();
  const job = `${prefix}client`;
  try {
    const client = startProgram("client", [
      "--registry=none",
      `--url=tri://127.0.0.1:${await freePort()}`,
      "--host=127.0.0.1",
      `--metrics-port=${await freePort()}`,
      "--push-interval=1h",
    ], { ...TASK_ENV, PUSHGATEWAY_URL: pgw.address, JOB_NAME: job });
    let pushedAt = 0;
    try {
      await waitFor("the client's first push", async () => {
        const response = await fetch(`${pgw.url}/api/v1/metrics`);
        const body = await response.json() as {
          data: {
            labels: { job: string };
            job_pushed_at_seconds?: { metrics: { value: string }[] };
          }[];
        };
        const group = body.data.find((group) => group.labels.job === job);
        pushedAt = Number(group?.job_pushed_at_seconds?.metrics[0].value ?? 0);
        return pushedAt > 0;
      });
    } finally {
      client.kill("SIGKILL"); // no graceful DELETE: the group becomes a zombie
      await client.exited;
    }
    assert.equal((await groupNames(pgw.url, job)).length, 1);

    // Fresh under a 1 h TTL: kept.
    const kept = await runCleanerOnce([`--pushgw=${pgw.url}`, `--job-prefix=${prefix}`]);
    assert.equal(kept.code, 0, kept.output);
    assert.equal((await groupNames(pgw.url, job)).length, 1);

    // Stale under a 1 s TTL once its last push is over a second old: removed.
    await waitFor("the zombie to be over 1s old", () => Date.now() / 1000 - pushedAt > 1.5);
    const removed = await runCleanerOnce([
      `--pushgw=${pgw.url}`,
      `--job-prefix=${prefix}`,
      "--ttl=1s",
    ]);
    assert.equal(removed.code, 0, removed.output);
    assert.match(removed.output, new RegExp(`deleted \\{job="${job}",instance="[^"]+"\\}`));
    assert.deepEqual(await groupNames(pgw.url, job), []);
  } finally {
    await removeGroups(pgw.url, prefix);
    await pgw.close();
  }
});
