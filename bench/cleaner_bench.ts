/**
 * pgw-cleaner: one cycle over 10,000 groups in a real Pushgateway, half of them stale
 * (day-old `job_pushed_at_seconds`), so 5,000 DELETEs. Goal: at most 10 s. Compared with
 * the same cycle deleting one group at a time.
 *
 * Seeding happens before `b.start()`; only the cycle (list, pick, delete) is timed. After
 * each cycle the gateway is read again to prove exactly the fresh half is left.
 */
import assert from "node:assert/strict";
import { Pushgateway, runCycle } from "../lib/cleaner/mod.ts";
import { seedGroups, startBenchGateway } from "./_cleaner_gateway.ts";
import { waitFor } from "../tools/services.ts";

const GROUPS = 10_000;

for (const concurrency of [16, 1]) {
  Deno.bench({
    name: `cleaner cycle, ${GROUPS} groups, ${GROUPS / 2} stale, ${concurrency} DELETEs in flight`,
    group: "cleaner",
    baseline: concurrency === 16,
    n: 1,
    warmup: 0,
    async fn(b) {
      await using gateway = await startBenchGateway();
      const stale = await seedGroups(gateway.url, "dubbo_bench_", GROUPS);
      const pushgateway = new Pushgateway({ url: gateway.url });
      // The gateway applies accepted PUTs asynchronously: wait until every group is listed.
      await waitFor(
        `${GROUPS} groups listed`,
        async () => (await pushgateway.listGroups()).length === GROUPS,
        60_000,
        200,
      );
      const options = {
        gateway: pushgateway,
        ttlMs: 3_600_000,
        jobPrefix: "dubbo_",
        concurrency,
        log: () => {},
      };
      b.start();
      const report = await runCycle(options);
      b.end();
      assert.deepEqual(
        [report.checked, report.stale, report.deleted, report.errors],
        [GROUPS, stale, stale, 0],
      );
      const after = await runCycle(options);
      assert.deepEqual([after.checked, after.stale], [GROUPS - stale, 0]);
    },
  });
}
