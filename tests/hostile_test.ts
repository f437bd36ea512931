/**
 * Issue 13: the Triple and scrape ports of the real provider process
 * (`deno task server --registry=none --push=false`) survive hostile clients. One test per
 * vector; each asserts a bound (RSS growth, fds, CPU seconds, bytes, time to close) with
 * generous margins, measured from /proc, with bounded loops and raw sockets.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import {
  closeWaitCount,
  cpuSeconds,
  fdCount,
  greetRequest,
  latin1Bytes,
  rawRequest,
  readAll,
  rssBytes,
  startProviderProcess,
  writeAllBytes,
} from "./support/raw_http.ts";
import { waitFor } from "../tools/services.ts";

const MiB = 1024 * 1024;
const PREFACE = latin1Bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const EMPTY_SETTINGS = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/** A chunked greet request's head; the body follows. */
const CHUNKED = "POST /greet.GreetService/Greet HTTP/1.1\r\nHost: a\r\n" +
  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

/** Requests llhttp and hyper answer with 400 and close; so must we. */
const SMUGGLING: [string, string][] = [
  ["CR in a value", greetRequest("X-A: a\rb\r\n")],
  ["bare LF in a value", greetRequest("X-A: a\nb\r\n")],
  ["NUL in a value", greetRequest("X-A: a\0b\r\n")],
  ["0x01 in a value", greetRequest("X-A: a\x01b\r\n")],
  ["VT before Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\x0b3\r\n\r\nabc"],
  ["FF after Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\x0c\r\n\r\nabc"],
  ["NBSP before Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \xa03\r\n\r\nabc"],
  [
    "VT after Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n",
  ],
  [
    "NBSP before Transfer-Encoding",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n",
  ],
  [
    "bare LF in a chunk extension",
    CHUNKED + "1;a\nb\r\nx\r\n0\r\n\r\n",
  ],
  [
    "space-padded chunk size",
    CHUNKED + " 1\r\nx\r\n0\r\n\r\n",
  ],
  [
    "chunk size padded after",
    CHUNKED + "1 \r\nx\r\n0\r\n\r\n",
  ],
  ["NUL in the target", "POST /greet\0x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"],
  [
    "Transfer-Encoding on HTTP/1.0",
    "POST / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  ],
  ["missing Host", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"],
  ["doubled Host", "POST / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 0\r\n\r\n"],
];

Deno.test("hostile: every smuggling vector gets 400 and a closed connection", async (t) => {
  await using server = await startProviderProcess();
  for (const [name, request] of SMUGGLING) {
    await t.step(name, async () => {
      const result = await rawRequest(server.port, request, { timeoutMs: 5000 });
      assert.deepEqual(result.statuses, [400], result.text);
      assert(result.closed, "connection left open");
    });
  }
  // And the same port still serves a valid request.
  const ok = await rawRequest(server.port, greetRequest("Connection: close\r\n"));
  assert.deepEqual(ok.statuses, [200]);
});

Deno.test("hostile: a Content-Type with bare LFs is never copied into a response head", async () => {
  await using server = await startProviderProcess();
  const injected = greetRequest(
    "X-Ok: 1\r\nContent-Type: application/json\nX-Injected: 1\n\nHTTP/1.1 200 OK\r\n",
  ).replace("Content-Type: application/json\r\n", "");
  const result = await rawRequest(server.port, injected, { timeoutMs: 5000 });
  assert(!/x-injected/i.test(result.text), result.text);
  assert.deepEqual(result.statuses.length, 1, result.text);
  assert(result.closed);
  // A valid but unusual content type is answered with one of ours, not the request's text.
  const odd = await rawRequest(
    server.port,
    greetRequest("Connection: close\r\n").replace(
      "Content-Type: application/json",
      "Content-Type: application/json; charset=utf-8; x-evil=1",
    ),
  );
  assert.deepEqual(odd.statuses, [200], odd.text);
  assert(/\r\ncontent-type: application\/json\r\n/.test(odd.text), odd.text);
  assert(!odd.text.includes("x-evil"));
});

Deno.test("hostile: pipelining without reading answers keeps memory bounded", async () => {
  await using server = await startProviderProcess();
  const before = rssBytes(server.pid);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const batch = latin1Bytes(greetRequest().repeat(2000)); // ~240 KB per write
  let sent = 0;
  const deadline = Date.now() + 15_000;
  // Write until the server stops reading (a write stays pending) or the bounds are hit.
  while (Date.now() < deadline && sent < 400 * MiB) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = await Promise.race([
      writeAllBytes(conn, batch).then(() => false, () => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), 2000)),
    ]);
    clearTimeout(timer);
    if (stalled) break;
    sent += batch.length;
  }
  const grown = rssBytes(server.pid) - before;
  conn.close();
  console.log(`pipelining: server stopped reading after ${sent} bytes; RSS +${grown} bytes`);
  assert(sent < 100 * MiB, `server kept reading: ${sent} bytes accepted`);
  assert(grown < 250 * MiB, `RSS grew ${grown} bytes`);
});

Deno.test("hostile: a chunked body in 1-byte chunks costs about its own size", async () => {
  await using server = await startProviderProcess();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const head = "POST /greet.GreetService/Greet HTTP/1.1\r\nHost: a\r\n" +
    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  await writeAllBytes(conn, latin1Bytes(head));
  const before = rssBytes(server.pid);
  const block = latin1Bytes("1\r\nx\r\n".repeat(64 * 1024)); // 64 Ki body bytes per write
  const blocks = 56; // 3.5 MiB of body, under the 4 MiB message limit
  for (let i = 0; i < blocks; i++) await writeAllBytes(conn, block);
  // The body is still open: what the server holds now is what it costs.
  await waitFor("server read the body", () => fdCount(server.pid) > 0, 2000);
  const probe = await rawRequest(server.port, greetRequest("Connection: close\r\n"));
  assert.deepEqual(probe.statuses, [200]);
  const grown = rssBytes(server.pid) - before;
  conn.close();
  console.log(`1-byte chunks: 3.5 MiB body, RSS +${grown} bytes`);
  assert(grown < 200 * MiB, `RSS grew ${grown} bytes for a 3.5 MiB body`);
});

/** Opens an h2c connection, sends the preface, then a plain FIN; resolves when the server closed. */
async function h2cFin(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAllBytes(conn, PREFACE);
    await writeAllBytes(conn, EMPTY_SETTINGS);
    await conn.closeWrite();
    return (await readAll(conn, 10_000)).closed;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test("hostile: 1,000 h2c connections closed with a plain FIN leak no fds", async () => {
  await using server = await startProviderProcess();
  const before = fdCount(server.pid);
  let closedByServer = 0;
  for (let round = 0; round < 50; round++) {
    const results = await Promise.all(Array.from({ length: 20 }, () => h2cFin(server.port)));
    closedByServer += results.filter(Boolean).length;
  }
  // And what curl --http2-prior-knowledge does, a few times.
  for (let i = 0; i < 10; i++) {
    const curl = await new Deno.Command("curl", {
      args: [
        "-s",
        "--http2-prior-knowledge",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name":"x"}',
        `http://127.0.0.1:${server.port}/greet.GreetService/Greet`,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.deepEqual(new TextDecoder().decode(curl.stdout), '{"greeting":"x"}');
  }
  await waitFor("fds released", () => fdCount(server.pid) <= before + 5, 10_000).catch(() => {});
  const after = fdCount(server.pid);
  console.log(`h2c FIN: fds ${before} → ${after}, ${closedByServer} closed by the server`);
  assert.deepEqual(closedByServer, 1000);
  assert(after <= before + 5, `fds ${before} → ${after}`);
  assert.deepEqual(closeWaitCount(server.pid), 0);
});

Deno.test("hostile: h2c advertises 100 streams and caps a session's body memory", async () => {
  await using server = await startProviderProcess();
  const before = rssBytes(server.pid);
  const session = http2.connect(`http://127.0.0.1:${server.port}`);
  session.on("error", () => {});
  const settings = await new Promise<http2.Settings>((resolve) =>
    session.once("remoteSettings", resolve)
  );
  assert.deepEqual(settings.maxConcurrentStreams, 100);
  const chunk = new Uint8Array(256 * 1024);
  let peak = 0;
  const streams = Array.from({ length: 200 }, () => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/greet.GreetService/Greet",
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.resume();
    const done = new Promise<void>((resolve) => stream.once("close", () => resolve()));
    const pump = async () => {
      for (let i = 0; i < 16 && !stream.destroyed; i++) { // up to 4 MiB each, never ended
        if (!stream.write(chunk)) {
          await Promise.race([
            new Promise((r) => stream.once("drain", r)),
            done,
            new Promise((r) => setTimeout(r, 3000)),
          ]);
        }
        peak = Math.max(peak, rssBytes(server.pid) - before);
      }
    };
    return { stream, pumped: pump(), done };
  });
  await Promise.all(streams.map((s) => s.pumped));
  peak = Math.max(peak, rssBytes(server.pid) - before);
  session.destroy();
  await Promise.all(streams.map((s) => s.done));
  console.log(`h2c 200 streams: RSS peak +${peak} bytes`);
  assert(peak < 250 * MiB, `RSS grew ${peak} bytes`);
});

Deno.test("hostile: h2c responses queued for a closed window are bounded", async () => {
  await using server = await startProviderProcess();
  const before = rssBytes(server.pid);
  // A client that never opens its flow-control window: no response body can be sent.
  const session = http2.connect(`http://127.0.0.1:${server.port}`, {
    settings: { initialWindowSize: 0 },
  });
  session.on("error", () => {});
  const ended = new Promise<string>((resolve) => {
    session.once("goaway", (code: number) => resolve(`goaway ${code}`));
    session.once("close", () => resolve("close"));
    setTimeout(() => resolve("still open"), 30_000);
  });
  const name = "x".repeat(512 * 1024);
  let peak = 0;
  for (let i = 0; i < 40 && !session.closed && !session.destroyed; i++) {
    const stream = session.request({
      ":method": "POST",
      ":path": "/greet.GreetService/Greet",
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.end(JSON.stringify({ name })); // 40 × 512 KiB of answers to queue
    peak = Math.max(peak, rssBytes(server.pid) - before);
  }
  const outcome = await ended;
  peak = Math.max(peak, rssBytes(server.pid) - before);
  session.destroy();
  console.log(`h2c closed window: ${outcome}; RSS peak +${peak} bytes`);
  assert.notEqual(outcome, "still open");
  assert(peak < 250 * MiB, `RSS grew ${peak} bytes`);
});

Deno.test("hostile: silent, partial, trickled and idle connections are closed", async () => {
  await using server = await startProviderProcess();
  const started = Date.now();
  const closedWithin = async (label: string, open: () => Promise<boolean>, boundMs: number) => {
    const closed = await open();
    const took = Date.now() - started;
    assert(closed, `${label}: not closed`);
    assert(took < boundMs, `${label}: closed after ${took} ms`);
  };
  const silent = async (port: number) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return (await readAll(conn, 25_000)).closed;
  };
  const partialPreface = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await writeAllBytes(conn, PREFACE.subarray(0, 10));
    return (await readAll(conn, 25_000)).closed;
  };
  const trickled = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const head = latin1Bytes(greetRequest());
    let closed = false;
    const reading = readAll(conn, 25_000).then((r) => {
      closed = r.closed;
      return r;
    });
    for (let i = 0; i < head.length && !closed && Date.now() - started < 25_000; i++) {
      try {
        await writeAllBytes(conn, head.subarray(i, i + 1));
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 2000)); // the attacker's pace, not a sync
    }
    const result = await reading;
    return result.closed && (result.statuses.length === 0 || result.statuses[0] === 408);
  };
  const idleKeepAlive = async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await writeAllBytes(conn, latin1Bytes(greetRequest()));
    const result = await readAll(conn, 80_000);
    return result.closed && result.statuses[0] === 200;
  };
  const idleSession = async () => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on("error", () => {});
    const closed = new Promise<boolean>((resolve) => {
      session.once("close", () => resolve(true));
      setTimeout(() => resolve(false), 80_000);
    });
    const stream = session.request({
      ":method": "POST",
      ":path": "/greet.GreetService/Greet",
      "content-type": "application/json",
    });
    stream.on("error", () => {});
    stream.resume();
    stream.end('{"name":"x"}');
    return await closed;
  };
  await Promise.all([
    closedWithin("silent Triple connection", () => silent(server.port), 20_000),
    closedWithin("silent metrics connection", () => silent(server.metricsPort), 20_000),
    closedWithin("partial preface", partialPreface, 20_000),
    closedWithin("head trickled 1 byte / 2 s", trickled, 22_000),
    closedWithin("idle keep-alive", idleKeepAlive, 75_000),
    closedWithin("idle h2c session", idleSession, 75_000),
  ]);
});

Deno.test("hostile: a 60 KB head sent byte by byte costs little CPU", async () => {
  await using server = await startProviderProcess();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const request = latin1Bytes(
    greetRequest(`X-Pad: ${"a".repeat(60_000)}\r\nConnection: close\r\n`),
  );
  const before = cpuSeconds(server.pid);
  const reading = readAll(conn, 30_000);
  for (let i = 0; i < request.length; i++) await writeAllBytes(conn, request.subarray(i, i + 1));
  const result = await reading;
  const used = cpuSeconds(server.pid) - before;
  assert.deepEqual(result.statuses, [200]);
  console.log(`60 KB head byte by byte: ${used} CPU seconds`);
  assert(used < 2.5, `server used ${used} CPU seconds`);
});

Deno.test("hostile: after a 429 for a huge Content-Length the drain is bounded", async () => {
  await using server = await startProviderProcess();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const head = "POST /greet.GreetService/Greet HTTP/1.1\r\nHost: a\r\n" +
    "Content-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n";
  await writeAllBytes(conn, latin1Bytes(head));
  const reading = readAll(conn, 20_000);
  const block = new Uint8Array(256 * 1024);
  let sent = 0;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && sent < 2048 * MiB) {
    try {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = await Promise.race([
        writeAllBytes(conn, block).then(() => false),
        new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), 3000)),
      ]);
      clearTimeout(timer);
      if (stalled) break;
      sent += block.length;
    } catch {
      break; // closed by the server
    }
  }
  const result = await reading;
  try {
    conn.close();
  } catch { /* closed */ }
  assert.deepEqual(result.statuses, [429], result.text);
  assert(result.closed, "connection not closed");
  console.log(`429 drain: ${sent} bytes accepted before close`);
  assert(sent < 64 * MiB, `server drained ${sent} bytes`);
});

Deno.test("hostile: out of file descriptors, accept backs off and both ports survive", async () => {
  await using server = await startProviderProcess();
  const limit = 128;
  const setLimit = await new Deno.Command("prlimit", {
    args: ["--pid", String(server.pid), `--nofile=${limit}:${limit}`],
  }).output();
  assert(setLimit.success, "prlimit failed");
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2 * limit; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.metricsPort }));
    }
    await server.program.waitForLine(/out of file descriptors/, 10_000);
    const cpuBefore = cpuSeconds(server.pid);
    const wall = Date.now();
    // A scrape while exhausted: queued in the backlog, never a crash.
    const scrape = rawRequest(
      server.metricsPort,
      "GET /prometheus HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      { timeoutMs: 30_000 },
    );
    await waitFor("3 s exhausted", () => Date.now() - wall > 3000, 5000);
    const spent = cpuSeconds(server.pid) - cpuBefore;
    console.log(`fd exhaustion: ${spent} CPU seconds in 3 s`);
    assert(spent < 1.5, `accept loop used ${spent} CPU seconds in 3 s`);
    for (const conn of conns.splice(0)) conn.close();
    const scraped = await scrape;
    assert.deepEqual(scraped.statuses, [200], scraped.text.slice(0, 300));
    const greet = await rawRequest(server.port, greetRequest("Connection: close\r\n"));
    assert.deepEqual(greet.statuses, [200]);
    const episodes = server.program.output().match(/out of file descriptors/g) ?? [];
    // One line per port and episode.
    assert(episodes.length <= 2, server.program.output());
    assert(!/panic|Uncaught/.test(server.program.output()), server.program.output());
  } finally {
    for (const conn of conns) conn.close();
  }
});

Deno.test("hostile: --max-connections closes new connections before fds run out", async () => {
  await using server = await startProviderProcess(["--max-connections=20"]);
  const before = fdCount(server.pid);
  const conns = await Promise.all(
    Array.from({ length: 60 }, () => Deno.connect({ hostname: "127.0.0.1", port: server.port })),
  );
  const results = await Promise.all(conns.map((conn) => readAll(conn, 1500)));
  const closed = results.filter((r) => r.closed).length;
  const during = fdCount(server.pid);
  for (const conn of conns) conn.close();
  assert(closed >= 40, `${closed} of 60 closed`);
  assert(during <= before + 25, `fds ${before} → ${during}`);
  // Once ours are gone the port serves again.
  await waitFor("a greet after the connections closed", async () => {
    const greet = await rawRequest(server.port, greetRequest("Connection: close\r\n"));
    return greet.statuses[0] === 200;
  });
  console.log(`max-connections=20: ${closed} of 60 closed at once; fds ${before} → ${during}`);
});
