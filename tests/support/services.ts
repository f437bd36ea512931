/**
 * The test harness's services: the real ZooKeeper, Prometheus and Pushgateway of
 * tools/services.ts, plus what only tests need (bcrypt hashes for basic auth).
 *
 * @module
 */
import bcrypt from "bcryptjs";

export * from "../../tools/services.ts";

/** A bcrypt hash of `password` for a Pushgateway `--web.config.file`. */
export function bcryptHash(password: string): string {
  // Cost 4 (the minimum): the gateway checks it on every request, and tests push often.
  return bcrypt.hashSync(password, 4);
}
