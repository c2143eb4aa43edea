import { isIPv4, isIPv6 } from "node:net";

/** IPv6 groups, all eight, for an address that may use "::" or end in dotted IPv4. */
function ipv6Groups(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const parts = (text: string) =>
    text === "" ? [] : text.split(":").flatMap((g) => (g.includes(".") ? ipv4AsGroups(g) : [g]));
  const before = parts(head);
  const after = tail === undefined ? [] : parts(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - before.length - after.length).fill("0");
  return [...before, ...zeros, ...after].map((g) => parseInt(g, 16).toString(16));
}

function ipv4AsGroups(ipv4: string): string[] {
  const [a, b, c, d] = ipv4.split(".").map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/**
 * The part of a client's address that one party controls, for per-address limits: an IPv4
 * address, or the /64 of an IPv6 address (a single host or household is usually given a whole
 * /64, so counting each of its addresses apart would be no limit at all).
 */
export function clientNetwork(ip: string): string {
  const address = ip.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return `${ipv6Groups(address).slice(0, 4).join(":")}::/64`;
  return ip;
}
