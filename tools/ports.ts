/** Free loopback TCP ports for the services started by tools/ and the tests. */

const handedOut = new Set<number>();

/**
 * A TCP port that is free on 127.0.0.1 right now (asked from the OS, never handed out
 * twice by this process).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return await Promise.resolve(port);
    }
  }
  throw new Error("no free port found");
}
