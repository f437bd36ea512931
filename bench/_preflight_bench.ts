// Runs first (files run in path order). Under plain `deno bench` here (the runtime config, which
// includes only this file) or without the benches' permissions, it ends the run with one line
// naming `deno task bench [files]`.
import { preflight } from "../tests/support/preflight.ts";

await preflight("bench");
