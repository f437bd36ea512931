/**
 * The test harness's services: the real ZooKeeper, Prometheus and Pushgateway of
 * tools/services.ts (whose other names, such as `Service` or `fourLetterWord`, tests import
 * from there), watched (tests/support/watchdog.ts) so that one exiting during a test
 * fails it at once; a `waitFor` that gives up as soon as a watched process died; and what
 * only tests need (bcrypt hashes for basic auth).
 *
 * @module
 */
import bcrypt from "bcryptjs";
import * as services from "../../tools/services.ts";
import { assertNoneExited, unwatch, watch } from "./watchdog.ts";

/** A bcrypt hash of `password` for a Pushgateway `--web.config.file`. */
export function bcryptHash(password: string): string {
  // Cost 4 (the minimum): the gateway checks it on every request, and tests push often.
  return bcrypt.hashSync(password, 4);
}

/**
 * tools/services.ts's `waitFor`, failing at once (with the exit code and last log lines)
 * when a process or service the test started exited on its own.
 */
export function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs?: number,
  stepMs?: number,
): Promise<void> {
  return services.waitFor(
    what,
    () => {
      assertNoneExited();
      return check();
    },
    timeoutMs,
    stepMs,
  );
}

/** Watches `service` until it is closed. */
function watched(service: services.Service): services.Service {
  watch(service);
  const close = service.close;
  const closeAndUnwatch = async () => {
    unwatch(service);
    await close();
  };
  return Object.assign(service, {
    close: closeAndUnwatch,
    [Symbol.asyncDispose]: closeAndUnwatch,
  });
}

/** tools/services.ts's ZooKeeper, watched. */
export async function startZooKeeper(
  options?: services.ServiceOptions,
): Promise<services.Service> {
  return watched(await services.startZooKeeper(options));
}

/** tools/services.ts's Prometheus, watched. */
export async function startPrometheus(
  options?: services.PrometheusOptions,
): Promise<services.Service> {
  return watched(await services.startPrometheus(options));
}

/** tools/services.ts's Pushgateway, watched. */
export async function startPushgateway(
  options?: services.PushgatewayOptions,
): Promise<services.Service> {
  return watched(await services.startPushgateway(options));
}
