import { lookup } from "node:dns/promises";
import { isIPv4, isIPv6 } from "node:net";
import {
  deletionsByComment,
  ensureChainJump,
  IPTABLES as TOOLS,
  removeRulesByComment,
  runIptables,
  runIptablesChecked as runChecked,
  type Family,
} from "../process/iptables.ts";

/** The chain every sandbox's rules live in, jumped to from OUTPUT; it matches only sandbox uids. */
export const CHAIN = "LABGRADER-SANDBOX";

/** A TCP endpoint the sandbox may connect to: its own cluster's API server. */
export interface Endpoint {
  address: string;
  port: number;
}

export type RuleSet = Record<Family, string[][]>;

const commentFor = (uid: number) => `labgrader-uid-${uid}`;

/**
 * The rules for one sandbox uid, in order: its API server endpoints are accepted, every other TCP
 * connection is reset (so the operator sees "connection refused" at once rather than a timeout),
 * and everything else (UDP, DNS, ICMP) is rejected.
 */
export function firewallRules(uid: number, allowed: Endpoint[]): RuleSet {
  const owner = ["-m", "owner", "--uid-owner", String(uid), "-m", "comment", "--comment", commentFor(uid)];
  const forFamily = (family: Family): string[][] => [
    ...allowed
      .filter((e) => (family === 4 ? isIPv4(e.address) : isIPv6(e.address)))
      .map((e) => [...owner, "-p", "tcp", "-d", e.address, "--dport", String(e.port), "-j", "ACCEPT"]),
    [...owner, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
    [...owner, "-j", "REJECT"],
  ];
  return { 4: forFamily(4), 6: forFamily(6) };
}

/** The API server's addresses: a kubeconfig may name it by host name (kind's "localhost", say). */
export async function apiServerEndpoints(server: string): Promise<Endpoint[]> {
  const url = new URL(server);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  if (isIPv4(host) || isIPv6(host)) return [{ address: host, port }];
  const addresses = await lookup(host, { all: true });
  return addresses.map((a) => ({ address: a.address, port }));
}

const ensureChain = (family: Family) => ensureChainJump(family, CHAIN, "OUTPUT");

export async function addFirewallRules(uid: number, allowed: Endpoint[]): Promise<void> {
  const rules = firewallRules(uid, allowed);
  for (const family of [4, 6] as const) {
    await ensureChain(family);
    for (const rule of rules[family]) await runChecked(TOOLS[family], ["-w", "-A", CHAIN, ...rule]);
  }
}

/** The rules of one uid as `iptables -S` prints them, turned into the arguments that delete them. */
export function deletionsFor(uid: number, listing: string): string[][] {
  return deletionsByComment(CHAIN, commentFor(uid), listing);
}

/** Removes every rule of this uid; the chain and the jump stay for other sandboxes. */
export async function removeFirewallRules(uid: number): Promise<void> {
  for (const family of [4, 6] as const) await removeRulesByComment(family, CHAIN, commentFor(uid));
}

/** Rules of this uid still in place (for tests and the reaper). */
export async function firewallRulesOf(uid: number): Promise<string[]> {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const listed = await runIptables(TOOLS[family], ["-w", "-S", CHAIN]);
    if (listed.code === 0)
      lines.push(...deletionsFor(uid, listed.stdout).map((r) => `${TOOLS[family]} ${r.join(" ")}`));
  }
  return lines;
}

export async function firewallProblems(): Promise<string[]> {
  const problems: string[] = [];
  for (const family of [4, 6] as const) {
    const tool = TOOLS[family];
    const result = await runIptables(tool, ["-w", "-S", "OUTPUT"]);
    if (result.code !== 0)
      problems.push(
        `${tool} cannot list OUTPUT (${result.stderr.trim() || "not installed"}); the sandbox needs it to cut the operator off the network`,
      );
  }
  return problems;
}
