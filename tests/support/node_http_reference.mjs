// The reference for tests/http1_fuzz_test.ts: Node's own `http` server (llhttp, default
// strictness) answering 200 to every request it accepts. Two SPEC rules llhttp leaves to
// the application are added the way Node applications add them: one Host header, and
// no Transfer-Encoding on HTTP/1.0. Prints `listening <port>` once ready.
import http from "node:http";

const server = http.createServer({ requireHostHeader: true }, (req, res) => {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === "host") hosts++;
  }
  const teOnHttp10 = req.httpVersion === "1.0" && req.headers["transfer-encoding"] !== undefined;
  if (hosts > 1 || teOnHttp10) {
    res.writeHead(400, { connection: "close" });
    res.end();
    return;
  }
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"greeting":"x"}');
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
