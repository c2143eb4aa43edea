import { randomInt } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { ownIdentity } from "./liveness.ts";
import { createLock, formatOwner, ownerAlive, parseOwner, readLock, reapLock, removeLock } from "./owned-locks.ts";

/** A TCP port nobody listens on right now (the kernel's choice), for a server we are about to start. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Whether nothing listens on the port, on loopback or on any address. */
async function bindable(port: number): Promise<boolean> {
  const tryListen = (host: string) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
  return (await tryListen("127.0.0.1")) && (await tryListen("0.0.0.0"));
}

export interface PortReservation {
  ports: number[];
  release(): Promise<void>;
}

/**
 * Below Linux's ephemeral range (32768 and up), so that no outgoing connection is handed a port
 * between our check and the server's start.
 */
const RANGE = { first: 20_000, last: 32_000 } as const;

/**
 * Ports for servers we are about to start, reserved across every process on this host that uses
 * the same folder: a lock file per port names its owner, so two clusters created at the same
 * moment never pick the same port (each port is also checked to be free right now). The
 * reservation lasts until `release`, or until its owner dies.
 */
export async function reservePorts(dir: string, count: number, note: string): Promise<PortReservation> {
  await mkdir(dir, { recursive: true });
  const ports: number[] = [];
  const release = async () => {
    await Promise.all(ports.map((p) => removeLock(join(dir, String(p)))));
  };
  try {
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > 1_000) throw new Error(`found no ${count} free ports between ${RANGE.first} and ${RANGE.last}`);
      const port = randomInt(RANGE.first, RANGE.last + 1);
      const lock = join(dir, String(port));
      let taken = await createLock(lock, formatOwner(ownIdentity(), note));
      if (!taken && !ownerAlive(parseOwner(await readLock(lock))) && (await reapLock(lock)))
        taken = await createLock(lock, formatOwner(ownIdentity(), note));
      if (!taken) continue;
      if (await bindable(port)) ports.push(port);
      else await removeLock(lock);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { ports, release };
}
