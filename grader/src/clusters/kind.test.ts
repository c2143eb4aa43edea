import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { admissionConfiguration, kindClusterConfig, NODE_CONFIG_DIR } from "./kind-config.ts";
import { hardeningObjects } from "./kind-hardening.ts";
import { kindNetwork, kindNetworkCommands, kindNetworkRules } from "./kind-network.ts";
import { createKindProvider, kindCommands, kindFailure, parseKindClusters } from "./kind.ts";

/** A fake `kind` + `docker`: remembers clusters, records every call. */
/** A kind provider whose commands, hardening and host rules are the fake's. */
function providerOver(
  fake: Pick<ReturnType<typeof fakeCommands>, "run" | "harden" | "firewall">,
  extra: { maxParallelCreates?: number } = {},
) {
  return createKindProvider({
    kind: "kind",
    nodeImage: "img",
    cacheDir: mkdtempSync(join(tmpdir(), "kind-test-")),
    env: {},
    log: () => undefined,
    run: fake.run,
    harden: fake.harden,
    firewall: fake.firewall,
    ...extra,
  });
}

function fakeCommands(options: { failCreate?: boolean; leftover?: string; nodeState?: string } = {}) {
  const calls: string[][] = [];
  const clusters = new Set<string>();
  const hardened: string[] = [];
  const networks = new Set<string>();
  const rules = new Set<string>();
  const envs: Record<string, string>[] = [];
  const run = async (cmd: string, args: string[], env: Record<string, string> = {}) => {
    calls.push([cmd, ...args]);
    envs.push(env);
    if (cmd === "docker") {
      if (args[0] === "network" && args[1] === "create") networks.add(args.at(-1)!);
      if (args[0] === "network" && args[1] === "rm") networks.delete(args[2]!);
      if (args[0] === "network" && args[1] === "ls")
        return [...networks].filter((n) => args.includes(`name=^${n}$`)).join("\n");
      if (args[0] === "inspect") {
        if (options.nodeState === "gone")
          throw new Error(`docker inspect failed (exit 1):\nError: No such object: ${args.at(-1)}`);
        return `${options.nodeState ?? "running"}\n`;
      }
      return args[0] === "ps" && options.leftover ? options.leftover : "";
    }
    if (args[0] === "create") {
      if (options.failCreate) throw new Error("docker: cannot connect");
      clusters.add(args[3]!);
    }
    if (args[0] === "delete") clusters.delete(args[3]!);
    return args[0] === "get" ? [...clusters].join("\n") : "";
  };
  const firewall = { add: async (c: string) => void rules.add(c), remove: async (c: string) => void rules.delete(c) };
  return {
    calls,
    envs,
    clusters,
    networks,
    rules,
    hardened,
    run,
    firewall,
    harden: async (kubeconfig: string) => void hardened.push(kubeconfig),
  };
}

describe("kind provider", () => {
  it.each([
    ["lg-a\nlg-b\n", ["lg-a", "lg-b"]],
    ["", []],
    ["No kind clusters found.\n", []],
    ["  lg-a  \n\n", ["lg-a"]],
  ])("parses `kind get clusters` output %j", (stdout, names) => {
    expect(parseKindClusters(stdout)).toEqual(names);
  });

  it("creates with our node image, its own kubeconfig and config, hardens it, and deletes all of it", async () => {
    const fake = fakeCommands();
    const cacheDir = mkdtempSync(join(tmpdir(), "kind-test-"));
    const provider = createKindProvider({
      kind: "/opt/kind",
      nodeImage: "local/kind-node:v1.36.3",
      cacheDir,
      env: {},
      log: () => undefined,
      run: fake.run,
      harden: fake.harden,
      firewall: fake.firewall,
    });
    const cluster = await provider.create({ name: "lg-test", labels: { "labgrader.dev/attempt": "abc" } });
    const dir = join(cacheDir, "kind", "clusters", "lg-test");
    // Its own network and host rules first, then kind, told to use that network.
    expect(fake.calls[0]).toEqual(["docker", ...kindNetworkCommands.create("lg-test")]);
    expect(fake.calls[1]).toEqual([
      "/opt/kind",
      ...kindCommands.create("lg-test", "local/kind-node:v1.36.3", join(dir, "kubeconfig"), join(dir, "kind.yaml")),
    ]);
    expect(fake.envs[1]).toEqual({ KIND_EXPERIMENTAL_DOCKER_NETWORK: "lg-test" });
    expect([...fake.networks]).toEqual(["lg-test"]);
    expect([...fake.rules]).toEqual(["lg-test"]);
    expect(cluster.kubeconfigPath).toBe(join(dir, "kubeconfig"));
    expect(cluster.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "labgrader",
      "labgrader.dev/attempt": "abc",
    });
    expect(fake.hardened).toEqual([join(dir, "kubeconfig")]);
    const admission = parse(readFileSync(join(dir, "node", "admission.yaml"), "utf8")) as object;
    expect(admission).toEqual(admissionConfiguration());
    expect((await provider.list()).map((r) => r.name)).toEqual(["lg-test"]);
    await cluster.dispose();
    expect(fake.calls.slice(-5).map((c) => c.slice(0, 3))).toEqual([
      ["/opt/kind", "delete", "cluster"],
      ["docker", "ps", "-a"],
      ["docker", "volume", "ls"],
      ["docker", "network", "ls"],
      ["docker", "network", "rm"],
    ]);
    expect(fake.networks.size + fake.rules.size).toBe(0);
    expect(await provider.list()).toEqual([]);
  });

  it("tries a failed create once more, then reports it, removing what each try left", async () => {
    const fake = fakeCommands({ failCreate: true });
    const logged: string[] = [];
    const provider = createKindProvider({
      kind: "kind",
      nodeImage: "img",
      cacheDir: mkdtempSync(join(tmpdir(), "kind-test-")),
      env: {},
      log: (l) => logged.push(l),
      run: fake.run,
      harden: fake.harden,
      firewall: fake.firewall,
    });
    await expect(provider.create({ name: "lg-x" })).rejects.toThrow(/while creating kind cluster lg-x/);
    expect(fake.calls.filter((c) => c[0] === "kind").map((c) => c[1])).toEqual([
      "create",
      "delete",
      "create",
      "delete",
    ]);
    expect(logged).toEqual([expect.stringMatching(/^retrying kind cluster creation: .*docker: cannot connect/)]);
    expect(fake.hardened).toEqual([]);
  });

  it("keeps what kind and kubeadm say of a failure, not the Go stack after it", () => {
    const output = [
      'Creating cluster "lg-1" ...',
      'ERROR: failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged lg-1-control-plane kubeadm init" failed with error: exit status 1',
      "error execution phase wait-control-plane: could not check the control plane: context deadline exceeded",
      "k8s.io/kubernetes/cmd/kubeadm/app/cmd/phases/workflow.(*Runner).visitAll",
      "\tk8s.io/kubernetes@v1.36.3/cmd/kubeadm/app/cmd/phases/workflow/runner.go:450",
      "runtime.goexit",
      "\truntime/asm_amd64.s:1771",
    ].join("\n");
    expect(kindFailure(output).split("\n")).toEqual([
      'Creating cluster "lg-1" ...',
      expect.stringMatching(/^ERROR: failed to create cluster/),
      expect.stringMatching(/^error execution phase wait-control-plane/),
    ]);
  });

  it("refuses to call a cluster deleted while a container of it is left", async () => {
    const fake = fakeCommands({ leftover: "lg-y-control-plane\n" });
    const provider = providerOver(fake);
    const cluster = await provider.create({ name: "lg-y" });
    await expect(cluster.dispose()).rejects.toThrow(/left containers \[lg-y-control-plane\]/);
  });

  it.each([
    ["running", []],
    ["exited", ["its node container lg-w-control-plane is exited"]],
    ["gone", ["its node container lg-w-control-plane is gone"]],
  ])("names a node container that is %s as the cluster's problem", async (nodeState, problems) => {
    const fake = fakeCommands({ nodeState });
    const provider = providerOver(fake);
    const cluster = await provider.create({ name: "lg-w" });
    expect(await cluster.problems!()).toEqual(problems);
  });

  it("creates at most maxParallelCreates clusters at once", async () => {
    let running = 0;
    let peak = 0;
    const fake = fakeCommands();
    const run = async (cmd: string, args: string[]) => {
      if (args[0] !== "create") return fake.run(cmd, args);
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return fake.run(cmd, args);
    };
    const provider = providerOver({ ...fake, run }, { maxParallelCreates: 2 });
    await Promise.all(["lg-1", "lg-2", "lg-3", "lg-4", "lg-5"].map((name) => provider.create({ name })));
    expect(peak).toBe(2);
    expect(fake.clusters.size).toBe(5);
  });
});

describe("kind cluster network", () => {
  it("names a bridge per cluster that Linux accepts, and lets its traffic answer the host and stay inside, nothing more", () => {
    const { name, bridge } = kindNetwork("lg-0123abcd");
    expect(name).toBe("lg-0123abcd");
    expect(bridge).toMatch(/^lgk-[0-9a-f]{11}$/);
    expect(kindNetwork("lg-0123abce").bridge).not.toBe(bridge);
    expect(kindNetworkCommands.create("lg-0123abcd")).toContain(`com.docker.network.bridge.name=${bridge}`);
    expect(kindNetworkCommands.create("lg-0123abcd")).toContain("com.docker.network.bridge.enable_ip_masquerade=false");
    const rules = kindNetworkRules("lg-0123abcd").map((r) => `${r.family} ${r.chain} ${r.rule.join(" ")}`);
    const tag = "-m comment --comment labgrader-kind-lg-0123abcd";
    expect(rules).toEqual([
      `4 LABGRADER-KIND-IN -i ${bridge} -m conntrack --ctstate ESTABLISHED,RELATED ${tag} -j RETURN`,
      `4 LABGRADER-KIND-IN -i ${bridge} -p tcp ${tag} -j REJECT --reject-with tcp-reset`,
      `4 LABGRADER-KIND-IN -i ${bridge} ${tag} -j REJECT --reject-with icmp-admin-prohibited`,
      `6 LABGRADER-KIND-IN -i ${bridge} -m conntrack --ctstate ESTABLISHED,RELATED ${tag} -j RETURN`,
      `6 LABGRADER-KIND-IN -i ${bridge} -p tcp ${tag} -j REJECT --reject-with tcp-reset`,
      `6 LABGRADER-KIND-IN -i ${bridge} ${tag} -j REJECT --reject-with icmp6-adm-prohibited`,
      `4 LABGRADER-KIND-FWD -i ${bridge} -o ${bridge} ${tag} -j RETURN`,
      `4 LABGRADER-KIND-FWD -i ${bridge} -m conntrack --ctstate ESTABLISHED,RELATED ${tag} -j RETURN`,
      `4 LABGRADER-KIND-FWD -i ${bridge} -p tcp ${tag} -j REJECT --reject-with tcp-reset`,
      `4 LABGRADER-KIND-FWD -i ${bridge} ${tag} -j REJECT --reject-with icmp-admin-prohibited`,
      `4 LABGRADER-KIND-FWD -o ${bridge} -m conntrack --ctstate NEW -p tcp ${tag} -j REJECT --reject-with tcp-reset`,
      `4 LABGRADER-KIND-FWD -o ${bridge} -m conntrack --ctstate NEW ${tag} -j REJECT --reject-with icmp-admin-prohibited`,
    ]);
  });
});

describe("kind cluster configuration", () => {
  it("mounts the admission configuration into the node and points the API server at it", () => {
    const config = parse(kindClusterConfig({ hostConfigDir: "/cache/x/node" })) as {
      nodes: { extraMounts: { hostPath: string; containerPath: string }[] }[];
      kubeadmConfigPatches: string[];
    };
    expect(config.nodes).toHaveLength(1);
    expect(config.nodes[0]!.extraMounts).toEqual([
      { hostPath: "/cache/x/node", containerPath: NODE_CONFIG_DIR, readOnly: true },
    ]);
    const patch = parse(config.kubeadmConfigPatches[0]!) as {
      apiServer: { extraArgs: { name: string; value: string }[] };
    };
    expect(patch.apiServer.extraArgs).toEqual([
      { name: "admission-control-config-file", value: `${NODE_CONFIG_DIR}/admission.yaml` },
    ]);
  });

  it("enforces Pod Security baseline everywhere but Kubernetes' own namespaces", () => {
    const plugin = (
      admissionConfiguration() as {
        plugins: { configuration: { defaults: Record<string, string>; exemptions: { namespaces: string[] } } }[];
      }
    ).plugins[0]!;
    expect(plugin.configuration.defaults.enforce).toBe("baseline");
    expect(plugin.configuration.exemptions.namespaces).toEqual(["kube-system", "local-path-storage"]);
  });

  it("binds each admission policy it declares", () => {
    const objects = hardeningObjects();
    const policies = objects.filter((o) => o.kind === "ValidatingAdmissionPolicy").map((o) => o.metadata.name);
    const bound = objects
      .filter((o) => o.kind === "ValidatingAdmissionPolicyBinding")
      .map((o) => (o.spec as { policyName: string }).policyName);
    expect(bound.sort()).toEqual(policies.sort());
    expect(policies).toHaveLength(2);
  });
});
