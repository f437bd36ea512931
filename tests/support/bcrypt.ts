/**
 * bcrypt hashes for the Pushgateway's basic auth in tests.
 *
 * @module
 */
import bcrypt from "bcryptjs";

/** A bcrypt hash of `password` for a Pushgateway `--web.config.file`. */
export function bcryptHash(password: string): string {
  // Cost 4 (the minimum): the gateway checks it on every request, and tests push often.
  return bcrypt.hashSync(password, 4);
}
