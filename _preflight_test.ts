// Runs first under plain `deno test` (files run in path order): without the suite's
// permissions it ends the whole run with one line naming `deno task test` and `deno test -P`.
import { preflight } from "./tests/support/preflight.ts";

Deno.test({
  name: "preflight: the suite's permissions are granted",
  sanitizeExit: false,
  fn: () => preflight("test"),
});
