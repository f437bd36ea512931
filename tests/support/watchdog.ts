/**
 * The test harness's watchdog: the servers, peers and services a test started register
 * here, and every wait of the harness (`waitFor` of tests/support/services.ts, so also
 * `waitForLine`, `settle`, ...) first checks that none of them exited on its own. A dead
 * peer then fails the test at once, with its exit code and last log lines, instead of
 * showing up as a timeout 30–90 s later.
 *
 * Its one set is per test worker: `deno test --parallel` runs each file in its own worker
 * and a file's tests one after another, so the set holds the running test's processes.
 *
 * @module
 */
import { WaitAborted } from "../../tools/services.ts";

/** Something a test started that must not exit unless the test stops it. */
export interface Watched {
  /** An error describing the exit once it exited on its own; else undefined. */
  exitedOnItsOwn(): Error | undefined;
}

const watched = new Set<Watched>();

/** Watches `target` until {@linkcode unwatch}; returns it. */
export function watch<T extends Watched>(target: T): T {
  watched.add(target);
  return target;
}

/** Stops watching `target` (it was stopped, or its exit is expected). */
export function unwatch(target: Watched): void {
  watched.delete(target);
}

/** Throws {@linkcode WaitAborted} (once per exit) when a watched process exited on its own. */
export function assertNoneExited(): void {
  for (const target of watched) {
    const exit = target.exitedOnItsOwn();
    if (exit) {
      watched.delete(target);
      throw new WaitAborted(exit.message);
    }
  }
}
