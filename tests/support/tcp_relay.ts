/**
 * A loopback TCP relay in front of a server that counts the connections it accepts:
 * tests use it to prove a client reuses its connections.
 *
 * @module
 */

/** A running relay. */
export interface TcpRelay {
  /** The relay's own port (point the client here). */
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops accepting and closes every relayed connection. */
  close(): Promise<void>;
}

async function pipe(from: Deno.TcpConn, to: Deno.TcpConn) {
  try {
    await from.readable.pipeTo(to.writable, { preventClose: true });
    await to.closeWrite();
  } catch {
    // one side went away; the finally of the pair closes both
  }
}

/** Starts a relay from a free loopback port to `127.0.0.1:targetPort`. */
export function startTcpRelay(targetPort: number): TcpRelay {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.TcpConn>();
  const pairs: Promise<void>[] = [];
  let accepted = 0;
  const accepting = (async () => {
    for await (const inbound of listener) {
      accepted++;
      open.add(inbound);
      pairs.push(
        (async () => {
          let outbound: Deno.TcpConn | undefined;
          try {
            outbound = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
            open.add(outbound);
            await Promise.all([pipe(inbound, outbound), pipe(outbound, inbound)]);
          } finally {
            for (const conn of [inbound, outbound]) {
              if (!conn) continue;
              open.delete(conn);
              try {
                conn.close();
              } catch {
                // already closed
              }
            }
          }
        })().catch(() => {}),
      );
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => accepted,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await accepting;
      await Promise.all(pairs);
    },
  };
}
