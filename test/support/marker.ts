import { createServer, type AddressInfo } from "node:net";

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
