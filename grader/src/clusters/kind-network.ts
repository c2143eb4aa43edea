import { createHash } from "node:crypto";
import { MANAGED_BY_LABELS } from "../labels.ts";
import {
  ensureChainJump,
  IPTABLES,
  removeRulesByComment,
  runIptables,
  runIptablesChecked,
  type Family,
} from "../process/iptables.ts";

/**
 * Each kind cluster gets a Docker network of its own (kind joins a network that exists when
 * KIND_EXPERIMENTAL_DOCKER_NETWORK names it), with a bridge whose name labgrader chooses, so host
 * rules can hold that bridge's traffic: its node and pods answer the host's connections (the API
 * server's published port) and talk among themselves, and reach nothing else — not the host's own
 * addresses, not another cluster, not the metadata range, not the Internet. Docker already keeps
 * different bridges apart; these rules are what keeps a cluster off the host and the outside.
 */

/** Jumped to from INPUT (IPv4 and IPv6): what a cluster's bridge may send to the host itself. */
export const INPUT_CHAIN = "LABGRADER-KIND-IN";
/** Jumped to from DOCKER-USER (IPv4): what a cluster's bridge may send through the host. */
export const FORWARD_CHAIN = "LABGRADER-KIND-FWD";

export interface KindNetwork {
  /** The Docker network, named as the cluster is. */
  name: string;
  /** Its Linux bridge (at most 15 characters). */
  bridge: string;
}

export function kindNetwork(cluster: string): KindNetwork {
  return { name: cluster, bridge: `lgk-${createHash("sha256").update(cluster).digest("hex").slice(0, 11)}` };
}

const comment = (cluster: string) => `labgrader-kind-${cluster}`;

export const kindNetworkCommands = {
  /** No masquerading: even a packet past the rules would leave with an address nothing answers. */
  create: (cluster: string, network = kindNetwork(cluster)) => [
    "network",
    "create",
    "--driver",
    "bridge",
    "--opt",
    `com.docker.network.bridge.name=${network.bridge}`,
    "--opt",
    "com.docker.network.bridge.enable_ip_masquerade=false",
    ...Object.entries(MANAGED_BY_LABELS).flatMap(([key, value]) => ["--label", `${key}=${value}`]),
    "--label",
    `io.x-k8s.kind.cluster=${cluster}`,
    network.name,
  ],
  remove: (cluster: string) => ["network", "rm", kindNetwork(cluster).name],
  exists: (cluster: string) => [
    "network",
    "ls",
    "--filter",
    `name=^${kindNetwork(cluster).name}$`,
    "--format",
    "{{.Name}}",
  ],
};

type Rule = { family: Family; chain: string; rule: string[] };

/**
 * The rules of one cluster, per family and chain, in order. Refusals are answered, not dropped: a
 * TCP connection is reset (resets are not rate-limited, so a probe learns at once even while the
 * cluster's DNS retries fill the host's ICMP budget), anything else gets an ICMP "prohibited".
 */
export function kindNetworkRules(cluster: string): Rule[] {
  const { bridge } = kindNetwork(cluster);
  const tag = ["-m", "comment", "--comment", comment(cluster)];
  const answered = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED"];
  const refuse = (family: Family, chain: string, match: string[]): Rule[] => [
    { family, chain, rule: [...match, "-p", "tcp", ...tag, "-j", "REJECT", "--reject-with", "tcp-reset"] },
    {
      family,
      chain,
      rule: [
        ...match,
        ...tag,
        "-j",
        "REJECT",
        "--reject-with",
        family === 4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited",
      ],
    },
  ];
  return [
    ...([4, 6] as const).flatMap((family) => [
      { family, chain: INPUT_CHAIN, rule: ["-i", bridge, ...answered, ...tag, "-j", "RETURN"] },
      ...refuse(family, INPUT_CHAIN, ["-i", bridge]),
    ]),
    { family: 4, chain: FORWARD_CHAIN, rule: ["-i", bridge, "-o", bridge, ...tag, "-j", "RETURN"] },
    { family: 4, chain: FORWARD_CHAIN, rule: ["-i", bridge, ...answered, ...tag, "-j", "RETURN"] },
    ...refuse(4, FORWARD_CHAIN, ["-i", bridge]),
    // Nothing outside starts a connection into the cluster either (the API server is published on loopback, not forwarded).
    ...refuse(4, FORWARD_CHAIN, ["-o", bridge, "-m", "conntrack", "--ctstate", "NEW"]),
  ];
}

/** Puts one cluster's rules in place; FORWARD_CHAIN hangs off Docker's DOCKER-USER, the place Docker keeps for rules of others. */
export async function addKindNetworkRules(cluster: string): Promise<void> {
  await ensureChainJump(4, INPUT_CHAIN, "INPUT");
  await ensureChainJump(6, INPUT_CHAIN, "INPUT");
  await ensureChainJump(4, FORWARD_CHAIN, "DOCKER-USER");
  for (const { family, chain, rule } of kindNetworkRules(cluster))
    await runIptablesChecked(IPTABLES[family], ["-w", "-A", chain, ...rule]);
}

export async function removeKindNetworkRules(cluster: string): Promise<void> {
  for (const family of [4, 6] as const) await removeRulesByComment(family, INPUT_CHAIN, comment(cluster));
  await removeRulesByComment(4, FORWARD_CHAIN, comment(cluster));
}

/** Rules of this cluster still in place, as `iptables -S` lists them (for tests and the reaper). */
export async function kindNetworkRulesOf(cluster: string): Promise<string[]> {
  const lines: string[] = [];
  for (const [family, chain] of [
    [4, INPUT_CHAIN],
    [6, INPUT_CHAIN],
    [4, FORWARD_CHAIN],
  ] as const) {
    const listed = await runIptables(IPTABLES[family], ["-w", "-S", chain]);
    if (listed.code === 0)
      lines.push(...listed.stdout.split("\n").filter((l) => l.includes(`--comment ${comment(cluster)}`)));
  }
  return lines;
}
