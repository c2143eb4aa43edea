import { chmod, chown, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Relay {
  close(): Promise<void>;
}

/**
 * The grader's half of a sandbox's only way out: a unix socket (owned by the sandbox uid, its home
 * being the only place it can reach) whose every connection is relayed to one TCP address, the
 * cluster's API server. The sandbox's half (socat in its network namespace) feeds it.
 */
export async function startRelay(socket: string, target: { host: string; port: number }, uid: number): Promise<Relay> {
  await rm(socket, { force: true });
  const sockets = new Set<Socket>();
  const server: Server = createServer((inside) => {
    const outside = connect(target.port, target.host);
    sockets.add(inside).add(outside);
    const end = () => {
      inside.destroy();
      outside.destroy();
      sockets.delete(inside);
      sockets.delete(outside);
    };
    inside.on("error", end).on("close", end);
    outside.on("error", end).on("close", end);
    inside.pipe(outside);
    outside.pipe(inside);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => resolve());
  });
  await chown(socket, uid, uid);
  await chmod(socket, 0o600);
  return {
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socket, { force: true });
    },
  };
}

/** One relay per address, each on its own socket; closing the result closes them all. */
export async function startRelays(
  relays: { socket: string; host: string; port: number }[],
  uid: number,
): Promise<Relay> {
  const started: Relay[] = [];
  const close = async () => {
    await Promise.all(started.map((r) => r.close()));
  };
  try {
    for (const r of relays) started.push(await startRelay(r.socket, { host: r.host, port: r.port }, uid));
  } catch (e) {
    await close();
    throw e;
  }
  return { close };
}
