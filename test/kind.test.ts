import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { managerEnvironment } from "../grader/src/runner/manager-environment.ts";
import { kindNetworkRulesOf } from "../grader/src/clusters/kind-network.ts";
import { prepareProvider, type PreparedProvider } from "../grader/src/clusters/select.ts";
import type { GradeResult } from "../grader/src/contracts.ts";
import type { Lab } from "../grader/src/engine/lab.ts";
import type { ValidationOutcome } from "../grader/src/grading/validate.ts";
import { hostCapacity } from "../grader/src/grading/capacity.ts";
import { gradeOperator } from "../grader/src/grading/grade.ts";
import { loadLab } from "../grader/src/labs/load.ts";
import { labgrader } from "./support/cli.ts";
import { hostAddress, startMarker } from "./support/marker.ts";
import { goEnv, referenceOperatorDir, repoRoot, tempDir, testConfig, testToolchain } from "./support/env.ts";

const LAB = "composing-operators";
const MUTANT = "trusts-phase";

/** Names of Docker objects (containers, volumes, networks) of one of these clusters. */
function kindLeftovers(names: string[]): string[] {
  const docker = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
  const containers = docker(["ps", "-a", "--format", "{{.Names}}"]);
  const volumes = docker(["volume", "ls", "--format", "{{.Name}} {{.Labels}}"]);
  const networks = docker(["network", "ls", "--format", "{{.Name}}"]);
  return [...containers, ...volumes, ...networks].filter((line) => names.some((n) => line.includes(n)));
}

const clustersMade = (output: string) => [
  ...new Set([...output.matchAll(/kind cluster (lg-[0-9a-f]+)/g)].map((m) => m[1]!)),
];

// The course deploys its operator with `make docker-build`, `kind load docker-image` and
// `make deploy`: on the kind provider labgrader does the same, so the operator runs in a pod
// under its own ServiceAccount and role, and its StatefulSets' pods are real.
// The two grades are independent and mostly wait on the lab's own timings: they run side by side.
describe.concurrent("grading on kind, the operator deployed in the cluster", () => {
  let prepared: PreparedProvider;
  const made: string[] = [];

  beforeAll(async () => {
    // The project's setup built (or loaded) the node image; a test never builds it.
    prepared = await prepareProvider(
      "kind",
      {
        config: testConfig(),
        toolchain: await testToolchain(),
        env: process.env,
        log: (l) => made.push(...clustersMade(l)),
      },
      false,
    );
  }, 300_000);

  /** The operator/ project with the hostile fixture's files in place of its own. */
  function hostileProject(): string {
    const project = join(tempDir("hostile-kind"), "postgres-operator");
    cpSync(referenceOperatorDir, project, { recursive: true, filter: (src) => !src.includes("/bin") });
    cpSync(join(repoRoot, "test/fixtures/hostile-operator"), project, { recursive: true });
    return project;
  }

  /** Grades a hostile project on kind as a worker would; the manager's log ("" if it never ran) and the cluster it had. */
  async function gradeHostile(
    project: string,
    operatorName: string,
    managerArgs: string[],
    lab: Lab,
  ): Promise<{ result: GradeResult; log: string; cluster: string }> {
    const toolchain = await testToolchain();
    const workDir = tempDir("hostile-kind-grade");
    let cluster = "";
    const result = await gradeOperator({
      lab,
      source: { kind: "project", dir: project },
      operatorName,
      provider: {
        ...prepared.provider,
        create: async (options) => {
          const created = await prepared.provider.create(options);
          made.push(created.name);
          cluster = created.name;
          return created;
        },
      },
      ...(prepared.kubectl ? { kubectl: prepared.kubectl } : {}),
      workDir,
      controllerGen: toolchain.binaries["controller-gen"],
      goEnv: goEnv(),
      managerEnv: managerEnvironment(process.env),
      capacity: hostCapacity(testConfig()),
      managerArgs,
    });
    const logFile = join(workDir, "manager.log");
    return { result, log: existsSync(logFile) ? readFileSync(logFile, "utf8") : "", cluster };
  }

  afterAll(() => {
    // Every cluster made here was deleted with its node containers, their volumes, and nothing else of theirs.
    expect(made.length).toBeGreaterThan(0);
    expect(kindLeftovers(made)).toEqual([]);
  });

  it(
    "gives the reference operator full marks and fails the mutant on exactly its listed checks",
    { timeout: 1_500_000 },
    async () => {
      const file = join(tempDir("kind-validate"), "validate.json");
      const run = await labgrader(
        [
          "validate",
          "--lab",
          "composing-operators",
          "--provider",
          "kind",
          "--only",
          `reference,${MUTANT}`,
          "--concurrency",
          "2",
          "--json",
          file,
        ],
        1_500_000,
      );
      made.push(...clustersMade(run.stderr));
      if (!existsSync(file))
        throw new Error(`validate wrote no report (exit ${run.code}):\n${run.stderr.slice(-4000)}`);
      const report = JSON.parse(readFileSync(file, "utf8")) as {
        outcomes: ValidationOutcome[];
        results: GradeResult[];
      };
      // validate names each operator by lab: labs' mutants may share a name.
      const outcome = (name: string) => report.outcomes.find((o) => o.operator === `composing-operators/${name}`)!;
      const result = (name: string) => report.results.find((r) => r.operator === name)!;
      // A failure names each check that did not pass, with its message, before the run's last output.
      const why = (name: string) =>
        result(name)
          .checks.filter((c) => c.status !== "passed")
          .map((c) => `${c.id} (${c.status}): ${c.message}`)
          .join("\n");
      expect(report.results.map((r) => r.provider)).toEqual(["kind", "kind"]);
      expect(outcome("reference"), `${why("reference")}\n${run.stderr.slice(-3000)}`).toMatchObject({
        ok: true,
        missed: [],
        unexpected: [],
        errors: [],
      });
      expect(`${result("reference").score}/${result("reference").maxScore}`).toBe("50/50");
      // The reference asks for three managers (Lab 7.3); Lab 8.2 is graded with one.
      expect(result("reference").findings).toEqual([
        "Deployment postgres-operator-system/postgres-operator-controller-manager asks for 3 replicas; labgrader runs one manager.",
      ]);
      expect(outcome(MUTANT), `${why(MUTANT)}\n${run.stderr.slice(-3000)}`).toMatchObject({
        ok: true,
        missed: [],
        unexpected: [],
        errors: [],
      });
      // The operators ran in their pods: the failed checks' evidence holds the log read from the API server.
      const log = result(MUTANT)
        .checks.filter((c) => c.status === "failed")
        .flatMap((c) => (c.evidence?.logs ?? []).map((l) => l.text))
        .join("\n");
      expect(log).toMatch(/\tReconciling\t\{"controller": "database"/);
      expect(run.code).toBe(0);
    },
  );

  it(
    "keeps a hostile operator's pod off the host and other networks, and refuses its privileged and hostPath pods, writes to kube-system and a privileged namespace",
    { timeout: 900_000 },
    async () => {
      // A marker on every address of the host, and a container on another Docker network standing in for another cluster's node.
      const marker = await startMarker();
      const port = marker.port;
      // The host's address on Docker's default bridge, another bridge than the cluster's.
      const bridgeAddress = networkInterfaces().docker0?.find((i) => i.family === "IPv4")?.address;
      const docker = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim();
      // A listening Postgres: a refusal then comes from the rules, not from an empty port. Its image
      // declares a volume: an anonymous one is made for it, and must go with it. Only its own are
      // followed: the kind clusters of the tests beside this one come and go with volumes of theirs.
      const volumes = () => docker(["volume", "ls", "--quiet"]).split("\n").filter(Boolean);
      const standIn = docker(["run", "-d", "--rm", "-e", "POSTGRES_HOST_AUTH_METHOD=trust", "postgres:14"]);
      const standInAddress = docker(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", standIn]);
      const standInVolumes = docker([
        "inspect",
        "--format",
        '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}',
        standIn,
      ])
        .split(" ")
        .filter(Boolean);
      await vi.waitFor(
        () =>
          new Promise<void>((resolve, reject) =>
            connect(5432, standInAddress)
              .once("connect", function (this: Socket) {
                this.destroy();
                resolve();
              })
              .once("error", reject),
          ),
        { timeout: 120_000, interval: 500 },
      );
      const targets = [
        ...[bridgeAddress, hostAddress()].filter(Boolean).map((a) => `${a}:${port}`),
        `${standInAddress}:5432`,
        "169.254.169.254:80",
      ];
      // Without the lab's allow-list, so that the hostile role reaches the cluster's admission: this
      // proves the backstop (Pod Security, labgrader's policies) holds on its own.
      const lab = { ...(await loadLab(LAB)), permissions: undefined };
      const { result, log, cluster } = await gradeHostile(
        hostileProject(),
        "hostile pods",
        ["--hostile=pods", `--dial=${targets.join(",")}`],
        lab,
      ).finally(() => {
        marker.close();
        docker(["rm", "--force", "--volumes", standIn]);
      });
      // A --rm container's volumes go a moment after `docker rm` returns.
      expect(standInVolumes.length).toBeGreaterThan(0);
      await vi.waitFor(() => expect(volumes().filter((v) => standInVolumes.includes(v))).toEqual([]), {
        timeout: 60_000,
        interval: 500,
      });
      // Reset by the cluster's host rules, at once, though each listens (the marker, Postgres): the host's addresses, another network, the metadata range.
      expect(targets.length).toBeGreaterThanOrEqual(3);
      for (const target of targets)
        expect(log).toMatch(
          new RegExp(`^HOSTILE dial ${target.replaceAll(".", "\\.")}: dial tcp .*: connect: connection refused$`, "m"),
        );
      expect(marker.seen).toEqual([]);
      expect(await kindNetworkRulesOf(cluster)).toEqual([]);
      expect(result.status, result.reason).toBe("graded");
      expect(log).toMatch(/^HOSTILE start pods uid=65532/m);
      expect(log).toMatch(
        /^HOSTILE create privileged pod: pods "hostile-privileged" is forbidden: violates PodSecurity "baseline:latest": .*privileged/m,
      );
      expect(log).toMatch(
        /^HOSTILE create hostPath pod in default: pods "hostile-hostpath" is forbidden: violates PodSecurity "baseline:latest": .*hostPath volumes/m,
      );
      expect(log).toMatch(
        /^HOSTILE create privileged statefulset in kube-system: .*labgrader: an operator may not write to kube-system/m,
      );
      expect(log).toMatch(
        /^HOSTILE create privileged namespace: .*labgrader: an operator may not make a namespace privileged/m,
      );
      expect(log).toMatch(/^HOSTILE label namespace default privileged: namespaces "default" is forbidden/m);
      for (const what of [
        "mint a kube-proxy token",
        "exec into kube-proxy",
        "add an ephemeral container to kube-proxy",
        "delete a policy binding",
      ]) {
        expect(log).toMatch(new RegExp(`^HOSTILE ${what}: HTTP 403 .*forbidden`, "m"));
      }
      expect(log).toMatch(/^HOSTILE pods: done$/m);
      expect(log.split("\n").filter((l) => l.endsWith(": succeeded"))).toEqual([]);
      expect(result.findings.join("\n")).toContain('Your role asks for "patch", "update" on namespaces (core)');
    },
  );

  it(
    "ends a grade whose node container stops as not gradable, naming it, with no check failed",
    { timeout: 900_000 },
    async () => {
      const toolchain = await testToolchain();
      let node: string | undefined;
      const result = await gradeOperator({
        lab: await loadLab(LAB),
        source: { kind: "project", dir: referenceOperatorDir },
        operatorName: "reference, its node killed",
        provider: {
          ...prepared.provider,
          create: async (options) => {
            const created = await prepared.provider.create(options);
            made.push(created.name);
            node = `${created.name}-control-plane`;
            return created;
          },
        },
        ...(prepared.kubectl ? { kubectl: prepared.kubectl } : {}),
        workDir: tempDir("kind-node-killed"),
        controllerGen: toolchain.binaries["controller-gen"],
        goEnv: goEnv(),
        managerEnv: managerEnvironment(process.env),
        capacity: hostCapacity(testConfig()),
        managerArgs: ["--phase-delay=1s"],
        onProgress: (p) => {
          // As an out-of-memory kill or a Docker restart would.
          if (p.type === "phase" && p.phase === "checking" && node) execFileSync("docker", ["kill", node]);
        },
      });
      expect(node).toBeDefined();
      expect(result.status, JSON.stringify({ reason: result.reason, findings: result.findings })).toBe("not_gradable");
      expect(result.reason).toMatch(
        new RegExp(`^the cluster broke during the grade: its node container ${node} is exited`),
      );
      expect(result.checks.filter((c) => c.status === "failed").map((c) => c.id)).toEqual([]);
    },
  );

  it(
    "refuses manifests that put the manager in kube-system, without a name prefix, beside a role named system:basic-user that aggregates everyone's",
    { timeout: 900_000 },
    async () => {
      const project = hostileProject();
      const kustomization = join(project, "config/default/kustomization.yaml");
      const edited = readFileSync(kustomization, "utf8")
        .replace(/^namespace: .*$/m, "namespace: kube-system")
        .replace(/^namePrefix: .*$/m, "")
        .replace(/^resources:$/m, "resources:\n- aggregate.yaml");
      writeFileSync(kustomization, edited);
      writeFileSync(
        join(project, "config/default/aggregate.yaml"),
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: "system:basic-user"}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {rbac.authorization.k8s.io/aggregate-to-admin: "true"}}]\nrules: []\n',
      );
      const { result, log } = await gradeHostile(project, "hostile manifests", ["--hostile=pods"], await loadLab(LAB));
      // The learner's failure, with the reason; nothing of the project reached the cluster, and no manager ran.
      expect(result.status, result.reason).toBe("graded");
      expect(result.score).toBe(0);
      const findings = result.findings.join("\n");
      expect(findings).toMatch(
        /The operator could not be deployed: config\/default puts the manager in the namespace kube-system, which belongs to the cluster/,
      );
      expect(findings).toMatch(
        /ClusterRole system:basic-user has a name reserved for Kubernetes itself \(system:…\); labgrader creates no such object/,
      );
      expect(log).not.toMatch(/^HOSTILE start/m);
    },
  );
});
