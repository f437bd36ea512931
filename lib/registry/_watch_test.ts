import assert from "node:assert/strict";
import type { ZkSession } from "./_zk.ts";
import { WatchRefresher } from "./_watch.ts";

// WatchRefresher only compares sessions by identity: plain objects stand for two sessions.
const first = {} as ZkSession;
const second = {} as ZkSession;

/** A refresher whose reads wait until `release()`; counts reads and errors. */
function setup(fail = false) {
  let current: ZkSession | undefined = first;
  let release = () => {};
  const reads: ZkSession[] = [];
  const errors: unknown[] = [];
  const refresher = new WatchRefresher({
    current: () => current,
    refresh: (session) => {
      reads.push(session);
      return new Promise<void>((resolve, reject) => {
        release = () => fail ? reject(new Error("read failed")) : resolve();
      });
    },
    onError: (error) => errors.push(error),
  });
  return {
    refresher,
    reads,
    errors,
    release: async () => {
      release();
      // Let the refresher's loop run its next step.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
    switchTo: (session: ZkSession | undefined) => current = session,
  };
}

Deno.test("watch refresher: a burst of firings during a read causes exactly one more read", async () => {
  const { refresher, reads, release } = setup();
  const fire = refresher.watcher(first);
  fire();
  for (let i = 0; i < 5; i++) fire();
  assert.equal(reads.length, 1);
  await release();
  assert.equal(reads.length, 2);
  await release();
  assert.equal(reads.length, 2);
  fire();
  assert.equal(reads.length, 3);
  await release();
});

Deno.test("watch refresher: one callback per session, ignored once the session is replaced", async () => {
  const { refresher, reads, release, switchTo } = setup();
  assert.equal(refresher.watcher(first), refresher.watcher(first));
  assert.notEqual(refresher.watcher(first), refresher.watcher(second));
  const old = refresher.watcher(first);
  switchTo(second);
  old();
  assert.equal(reads.length, 0);
  refresher.watcher(second)();
  assert.deepEqual(reads, [second]);
  await release();
});

Deno.test("watch refresher: close() stops reacting, and a failed read is reported once", async () => {
  const failing = setup(true);
  failing.refresher.watcher(first)();
  failing.refresher.watcher(first)();
  await failing.release();
  assert.equal(failing.reads.length, 1);
  assert.equal(failing.errors.length, 1);

  const closed = setup();
  closed.refresher.close();
  assert.equal(closed.refresher.closed, true);
  closed.refresher.watcher(first)();
  assert.equal(closed.reads.length, 0);
});
