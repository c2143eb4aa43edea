import { messageChain } from "../errors.ts";
import { runCommand } from "./command.ts";

/** iptables for IPv4, ip6tables for IPv6. */
export const IPTABLES = { 4: "iptables", 6: "ip6tables" } as const;
export type Family = keyof typeof IPTABLES;

export interface IptablesRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function runOnce(tool: string, args: string[]): Promise<IptablesRun> {
  const result = await runCommand(tool, args, { timeoutMs: 30_000 }).catch((e: unknown) => ({
    code: -1,
    stdout: "",
    stderr: e instanceof Error ? messageChain(e) : String(e),
  }));
  return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * iptables-nft reads the table while other programs (dockerd, kube-proxy, another worker) commit
 * changes to it, and then may answer that a chain "is incompatible" or that the resource is busy:
 * a torn read, not a broken table. Such answers are tried again.
 */
const TORN_READ = /is incompatible|Resource temporarily unavailable/;

export async function runIptables(tool: string, args: string[]): Promise<IptablesRun> {
  for (let attempt = 1; ; attempt++) {
    const result = await runOnce(tool, args);
    if (result.code === 0 || attempt === 5 || !TORN_READ.test(result.stderr)) return result;
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}

export async function runIptablesChecked(tool: string, args: string[]): Promise<IptablesRun> {
  const result = await runIptables(tool, args);
  if (result.code !== 0) throw new Error(`${tool} ${args.join(" ")} failed: ${result.stderr.trim()}`);
  return result;
}

const ensuring = new Map<string, Promise<void>>();

/**
 * Creates `chain` (if another process has not) and makes `parent` jump to it first. Checked on
 * every call (a flushed table loses the jump), one call at a time per process: grades starting
 * together would otherwise each find no jump and each insert one.
 */
export function ensureChainJump(family: Family, chain: string, parent: string): Promise<void> {
  const key = `${family} ${chain} ${parent}`;
  const next = (ensuring.get(key) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => ensureChainJumpNow(family, chain, parent));
  ensuring.set(key, next);
  return next;
}

async function ensureChainJumpNow(family: Family, chain: string, parent: string): Promise<void> {
  const tool = IPTABLES[family];
  const listed = await runIptables(tool, ["-w", "-S", chain]);
  if (listed.code !== 0) {
    const created = await runIptables(tool, ["-w", "-N", chain]);
    // Another worker may have created it in between.
    if (created.code !== 0 && !/exists/i.test(created.stderr))
      throw new Error(`${tool} -N ${chain} failed: ${created.stderr.trim()}`);
  }
  const jumps = await runIptables(tool, ["-w", "-C", parent, "-j", chain]);
  if (jumps.code !== 0) await runIptablesChecked(tool, ["-w", "-I", parent, "1", "-j", chain]);
}

/** The rules of `chain` that carry `--comment comment`, as `iptables -S` lists them, turned into the arguments that delete them. */
export function deletionsByComment(chain: string, comment: string, listing: string): string[][] {
  const marker = `--comment ${comment}`;
  return listing
    .split("\n")
    .filter((line) => line.startsWith(`-A ${chain} `) && (line.endsWith(` ${marker}`) || line.includes(` ${marker} `)))
    .map((line) => ["-D", ...line.split(" ").slice(1)]);
}

/** Deletes every rule of `chain` carrying `comment`; the chain and its jump stay for others. */
export async function removeRulesByComment(family: Family, chain: string, comment: string): Promise<void> {
  const tool = IPTABLES[family];
  const listed = await runIptables(tool, ["-w", "-S", chain]);
  if (listed.code !== 0) return;
  for (const rule of deletionsByComment(chain, comment, listed.stdout)) await runIptablesChecked(tool, ["-w", ...rule]);
}
