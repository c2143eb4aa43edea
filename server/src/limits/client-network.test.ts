import { describe, expect, test } from "vitest";
import { clientNetwork } from "./client-network.ts";

describe("clientNetwork", () => {
  test.each([
    ["IPv4 as it is", "192.0.2.7", "192.0.2.7"],
    ["IPv4 mapped into IPv6 is the IPv4 address", "::ffff:192.0.2.7", "192.0.2.7"],
    ["IPv6: its /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    [
      "IPv6 with :: and leading zeros: the same /64 written differently",
      "2001:0db8:0001:0002::ff",
      "2001:db8:1:2::/64",
    ],
    ["IPv6 whose /64 is mostly zeros", "2001:db8::1", "2001:db8:0:0::/64"],
    ["IPv6 loopback", "::1", "0:0:0:0::/64"],
    ["IPv6 with a zone", "fe80::1%eth0", "fe80:0:0:0::/64"],
    ["IPv6 ending in dotted IPv4 (not mapped)", "64:ff9b::192.0.2.7", "64:ff9b:0:0::/64"],
    ["anything else as it came", "unknown", "unknown"],
  ])("%s", (_name, ip, network) => {
    expect(clientNetwork(ip)).toBe(network);
  });

  test("two addresses of one /64 share a network; the next /64 is another", () => {
    expect(clientNetwork("2001:db8:a:b::1")).toBe(clientNetwork("2001:db8:a:b:ffff:ffff:ffff:ffff"));
    expect(clientNetwork("2001:db8:a:c::1")).not.toBe(clientNetwork("2001:db8:a:b::1"));
  });
});
