/**
 * Test support for lib/h2's server tests: a server on a free loopback port whose /alive
 * always answers (so an attack test can end by proving the same server still serves), a
 * handler answering a sized body, and the raw peer's round trips (a PING's ACK as a
 * barrier, an expected GOAWAY).
 *
 * @module
 */
import assert from "node:assert/strict";
import { FrameType } from "./frame.ts";
import { H2Server } from "./server.ts";
import type { ServerStream } from "./server_stream.ts";
import type { H2Limits } from "./_limits.ts";
import type { RawFrame, RawPeer } from "./_raw_peer.ts";
import { H2Client } from "./client.ts";

/**
 * Request pseudo-headers of a GET and a POST to "/".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(GET[":method"], "GET");
 * assert.equal(POST[":method"], "POST");
 * ```
 */
export const GET = { ":method": "GET", ":scheme": "http", ":path": "/" };
export const POST = { ":method": "POST", ":scheme": "http", ":path": "/" };

/**
 * A server with `handler` on a free loopback port; requests for /alive always get 200
 * (see {@linkcode stillServes}); log lines are kept in `lines`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const h2 = startTestServer(sized(3));
 * await stillServes(h2.port);
 * await h2.close();
 * assert.equal(h2.server.stats.sessionsOpen, 0);
 * ```
 */
export function startTestServer(
  handler: (stream: ServerStream) => void,
  limits: Partial<H2Limits> = {},
): { port: number; server: H2Server; lines: string[]; close(): Promise<void> } {
  const lines: string[] = [];
  const server = new H2Server({
    handler: (stream) => stream.path === "/alive" ? stream.end() : handler(stream),
    limits,
    log: (line) => lines.push(line),
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = server.serveListener(listener);
  return {
    port: listener.addr.port,
    server,
    lines,
    async close() {
      listener.close();
      await accepting;
      await server.close(500);
    },
  };
}

/**
 * A handler answering every request with `size` bytes once its body ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(typeof sized(10), "function");
 * ```
 */
export function sized(size: number): (stream: ServerStream) => void {
  return (stream: ServerStream) => {
    stream.onend = () => {
      stream.respond(200);
      stream.write(new Uint8Array(size).fill(7));
      stream.end();
    };
  };
}

/**
 * Proves the same server still answers a request (/alive) on a fresh connection.
 *
 * @example
 * ```ts no-assert
 * // await stillServes(h2.port); // see startTestServer
 * ```
 */
export async function stillServes(port: number): Promise<void> {
  const client = new H2Client();
  try {
    const response = await client.request(`http://127.0.0.1:${port}`, {
      path: "/alive",
      timeoutMs: 3000,
    });
    assert.equal(response.status, 200);
  } finally {
    client.close();
  }
}

/**
 * Sends a PING whose 8 bytes are all `byte`.
 *
 * @example
 * ```ts no-assert
 * // await pingFrame(peer, 1);
 * ```
 */
export function pingFrame(peer: RawPeer, byte: number): Promise<void> {
  return peer.frame(FrameType.PING, 0, 0, new Uint8Array(8).fill(byte));
}

/**
 * Everything the server sends up to the ACK of a PING sent now: what it had to say before
 * (it handles frames in order, so this is a barrier).
 *
 * @example
 * ```ts no-assert
 * // const frames = await framesUntilPingAck(peer);
 * ```
 */
export async function framesUntilPingAck(peer: RawPeer): Promise<RawFrame[]> {
  await pingFrame(peer, 9);
  const frames = [];
  for (;;) {
    const frame = await peer.next();
    assert.ok(frame, "connection closed");
    if (frame.type === FrameType.PING && frame.flags === 1 && frame.payload[0] === 9) return frames;
    frames.push(frame);
  }
}

/**
 * Reads until a GOAWAY and checks its error code.
 *
 * @example
 * ```ts no-assert
 * // await expectGoaway(peer, ErrorCode.ENHANCE_YOUR_CALM);
 * ```
 */
export async function expectGoaway(peer: RawPeer, code: number): Promise<RawFrame> {
  const goaway = await peer.until((f) => f.type === FrameType.GOAWAY);
  assert.equal(new DataView(goaway.payload.buffer).getUint32(4), code);
  return goaway;
}
