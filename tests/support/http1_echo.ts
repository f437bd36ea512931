/**
 * Our HTTP/1.1 server (the one the provider's Triple port and the scrape port run) with a
 * handler that echoes every request it parses as JSON, in the shape of
 * tests/support/node_http_reference.mjs: method, target, the header fields the fuzz
 * generator can send ({@linkcode FIELD_NAMES}; repeated fields joined with ", ") and the
 * body (latin1). For tests/http1_fuzz_test.ts. Prints `listening <port>` once ready.
 *
 * `deno run --allow-net=127.0.0.1 tests/support/http1_echo.ts`
 *
 * @module
 */
import { serveHttp1 } from "../../lib/http1/mod.ts";
import { FIELD_NAMES } from "./http1_fuzz_gen.ts";

/** latin1 text of `bytes`. */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

const server = serveHttp1({
  hostname: "127.0.0.1",
  port: 0,
  label: "echo",
  handler: {
    open(head, sink) {
      const chunks: Uint8Array[] = [];
      let done = false;
      return {
        get done() {
          return done;
        },
        data: (chunk) => chunks.push(chunk),
        end() {
          done = true;
          const headers: Record<string, string> = {};
          for (const name of FIELD_NAMES) {
            const value = head.header(name);
            if (value !== undefined) headers[name] = value;
          }
          const echo = JSON.stringify({
            method: head.method,
            target: head.path,
            headers,
            body: chunks.map(latin1).join(""),
          });
          sink.send({
            status: 200,
            headers: { "content-type": "application/json" },
            body: new TextEncoder().encode(echo),
          });
        },
        abort() {
          done = true;
        },
      };
    },
  },
});
console.log(`listening ${server.port}`);
