// Runs first under plain `deno bench` (files run in path order): without the benches'
// permissions it ends the run with one line naming `deno task bench` and `deno bench -P`.
import { preflight } from "../tests/support/preflight.ts";

await preflight("bench");
