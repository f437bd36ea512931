/**
 * Imported first by the tests whose validators load `uri-js` (via ajv), which requires
 * Node's deprecated `punycode` module: Deno would print "[DEP0040] DeprecationWarning" into
 * every `deno task test`. Deprecation warnings are turned off for that test module only
 * (each test module runs in its own worker).
 *
 * @module
 */
import process from "node:process";

(process as { noDeprecation?: boolean }).noDeprecation = true;
