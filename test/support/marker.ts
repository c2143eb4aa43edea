import { createServer, type AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";

export interface Marker {
  port: number;
  /** The addresses of whoever connected: empty while nothing got through. */
  seen: string[];
  close(): void;
}

/** A TCP server on every address of the host that notes who connected and hangs up: what a hostile probe must never reach. */
export async function startMarker(): Promise<Marker> {
  const seen: string[] = [];
  const server = createServer((socket) => {
    seen.push(String(socket.remoteAddress));
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  return { port: (server.address() as AddressInfo).port, seen, close: () => void server.close() };
}

/** The host's own IPv4 address (not loopback, not one of Docker's bridges or veths), where a marker listens too. */
export function hostAddress(): string | undefined {
  return Object.entries(networkInterfaces())
    .filter(([name]) => !/^(docker|br-|lgk-|veth)/.test(name))
    .flatMap(([, addresses]) => addresses ?? [])
    .find((i) => i.family === "IPv4" && !i.internal)?.address;
}
