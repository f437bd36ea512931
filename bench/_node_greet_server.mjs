// Node's own servers for bench/hardening_bench.ts: a greet JSON echo on `http` (HTTP/1.1)
// and on `http2` (h2c), each on its own loopback port. Prints `{"http1":…,"h2c":…}`;
// stops at the end of stdin.
import http from "node:http";
import http2 from "node:http2";

const echo = (body) => JSON.stringify({ greeting: JSON.parse(body).name });
const h1 = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => body += chunk);
  req.on("end", () => {
    const out = echo(body);
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(out),
    });
    res.end(out);
  });
});
const h2 = http2.createServer();
h2.on("stream", (stream) => {
  let body = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => body += chunk);
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/json" });
    stream.end(echo(body));
  });
});
const listen = (server) =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
const [p1, p2] = await Promise.all([listen(h1), listen(h2)]);
console.log(JSON.stringify({ http1: p1, h2c: p2 }));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
