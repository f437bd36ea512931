// The reference for tests/http1_fuzz_test.ts: Node's own HTTP/1.1 request parser (llhttp,
// through `_http_common`'s HTTPParser, at the strictness Node's `http` server uses) run on
// each input, with the rules Node's server and the SPEC add on top: a request without Host
// on HTTP/1.1, with two Host fields, or with Transfer-Encoding on HTTP/1.0 is answered 400;
// after a request that does not keep the connection alive, the server closes; a connection
// that ends in the middle of a request is answered 400 (Node's server does so).
//
// Reads one input per line on stdin (base64), writes one JSON line per input:
// {"requests":[{"method","target","headers":{lowercase name: values joined ", "},"body"}],
//  "end":"end"|"error","reason"}. The parse of the parser, without a server's timing.
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import readline from "node:readline";

const require = createRequire(import.meta.url);
const { HTTPParser, methods } = require("_http_common");

/** How a server on llhttp parses `input` (then the peer's FIN). */
function parse(input) {
  const messages = [];
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {}, 0, HTTPParser.kLenientNone);
  // Fields and target flushed before the head completed (Node's parser does so, e.g. for a
  // message that follows one with trailers); fields flushed within a body are its trailers.
  let pending = { fields: [], url: "" };
  const inBody = () => messages.length > 0 && !messages.at(-1).done;
  parser[HTTPParser.kOnHeaders] = (headers, url) => {
    if (inBody()) return; // trailers: neither side echoes them
    pending.fields.push(...headers);
    pending.url += url ?? "";
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _major,
    minor,
    headers,
    method,
    url,
    _status,
    _message,
    _upgrade,
    keepAlive,
  ) => {
    const fields = [...pending.fields, ...(headers ?? [])];
    const target = pending.url + (url ?? "");
    pending = { fields: [], url: "" };
    const message = { minor, fields, method: methods[method], target, keepAlive };
    messages.push({ ...message, body: [], done: false });
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk) => messages.at(-1).body.push(Buffer.from(chunk));
  parser[HTTPParser.kOnMessageComplete] = () => messages.at(-1).done = true;
  const executed = parser.execute(input);
  const failure = executed instanceof Error ? executed : parser.finish();
  const requests = [];
  for (const message of messages) {
    const headers = {};
    let hosts = 0;
    for (let i = 0; i < message.fields.length; i += 2) {
      const name = message.fields[i].toLowerCase();
      if (name === "host") hosts++;
      headers[name] = name in headers
        ? `${headers[name]}, ${message.fields[i + 1]}`
        : message.fields[i + 1];
    }
    const refused = hosts > 1 || (hosts === 0 && message.minor === 1) ||
      (message.minor === 0 && "transfer-encoding" in headers);
    if (refused) return { requests, end: "error", reason: "Host / Transfer-Encoding rule" };
    if (!message.done) break;
    requests.push({
      method: message.method,
      target: message.target,
      headers,
      body: Buffer.concat(message.body).toString("latin1"),
    });
    if (!message.keepAlive) return { requests, end: "end" };
  }
  if (failure instanceof Error) return { requests, end: "error", reason: failure.code };
  return { requests, end: "end" };
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === "") continue;
  process.stdout.write(JSON.stringify(parse(Buffer.from(line, "base64"))) + "\n");
}
