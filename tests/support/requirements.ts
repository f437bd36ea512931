/** The Debian packages the suite needs: tools/requirements.ts, shared with `deno task stack`. */
export * from "../../tools/requirements.ts";
