// A provider that speaks HTTP/1.1 only and resets (TCP RST) any connection that starts with
// the HTTP/2 preface, as some proxies and servers do. Node can reset (SO_LINGER 0); Deno
// cannot. Prints {"port":N} and serves until it is stopped. tests/transport_mismatch_test.ts.
import net from "node:net";

const server = net.createServer((socket) => {
  socket.once("data", (chunk) => {
    if (chunk.toString("latin1").startsWith("PRI ")) return socket.resetAndDestroy();
    socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });
  socket.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
