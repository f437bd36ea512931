// Runs first (files run in path order). Under plain `deno test` here (the runtime config, which
// includes only this file) or without the suite's permissions, it ends the whole run with one
// line naming `deno task test [files]`.
import { preflight } from "./tests/support/preflight.ts";

Deno.test({
  name: "preflight: the development config and the suite's permissions are in force",
  sanitizeExit: false,
  fn: () => preflight("test"),
});
