import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { managerEnvironment } from "../grader/src/runner/manager-environment.ts";
import { createProvider } from "../grader/src/clusters/select.ts";
import { GradeResultSchema, type GradeResult } from "../grader/src/contracts.ts";
import { hostCapacity } from "../grader/src/grading/capacity.ts";
import { gradeOperator } from "../grader/src/grading/grade.ts";
import { loadLab } from "../grader/src/labs/load.ts";
import { startManager } from "../grader/src/runner/manager.ts";
import { hostGoSetup, runInBuildSandbox } from "../grader/src/runner/build-sandbox.ts";
import {
  createSandbox,
  prepareSandboxing,
  reapSandboxes,
  sandboxProblems,
  sandboxSettings,
} from "../grader/src/runner/sandbox.ts";
import { cgroupDir, CONTROLLERS } from "../grader/src/runner/sandbox-cgroup.ts";
import { CHAIN, firewallRulesOf } from "../grader/src/runner/sandbox-firewall.ts";
import { labgrader } from "./support/cli.ts";
import { hostAddress, startMarker } from "./support/marker.ts";
import { goEnv, referenceOperatorDir, repoRoot, tempDir, testConfig, testToolchain } from "./support/env.ts";

const settings = sandboxSettings(testConfig());
const LAB = "composing-operators";

interface HostileRun {
  result: GradeResult;
  log: string;
  uid: number;
  ms: number;
}

/** The operator/ project with the hostile fixture's files in place of its own. */
function hostileProject(): string {
  const dir = tempDir("hostile-operator");
  cpSync(referenceOperatorDir, dir, { recursive: true, filter: (src) => !src.includes("/bin") });
  cpSync(join(repoRoot, "test/fixtures/hostile-operator"), dir, { recursive: true });
  return dir;
}

async function gradeHostile(project: string, args: string[]): Promise<HostileRun> {
  const config = testConfig();
  const toolchain = await testToolchain();
  const workDir = tempDir("hostile-grade");
  const started = Date.now();
  const result = await gradeOperator({
    lab: await loadLab(LAB),
    source: { kind: "project", dir: project },
    operatorName: args.join(" "),
    provider: createProvider("kwok", { config, toolchain, env: process.env, log: () => undefined }),
    workDir,
    controllerGen: toolchain.binaries["controller-gen"],
    goEnv: goEnv(),
    managerEnv: managerEnvironment(process.env),
    capacity: hostCapacity(config),
    managerArgs: args,
    sandbox: settings,
  });
  const log = readFileSync(join(workDir, "manager.log"), "utf8");
  const uid = Number(/^HOSTILE start \w+ uid=(\d+)/m.exec(log)?.[1]);
  return { result, log, uid, ms: Date.now() - started };
}

/** Sends PING to Redis as ourselves (root) and returns its first reply line. */
function redisPing(host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: 6379 }, () => socket.write("PING\r\n"));
    socket.setTimeout(3000, () => socket.destroy(new Error(`no reply from Redis at ${host}`)));
    socket.once("data", (data) => {
      resolve(data.toString().trim());
      socket.end();
    });
    socket.once("error", reject);
  });
}

function processesOf(uid: number): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      const status = (() => {
        try {
          return readFileSync(`/proc/${p}/status`, "utf8");
        } catch {
          return "";
        }
      })();
      return new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status) && !/^State:\s+Z/m.test(status);
    });
}

async function expectNothingLeft(uid: number, of = settings): Promise<void> {
  expect(uid).toBeGreaterThanOrEqual(of.uids.first);
  expect(processesOf(uid)).toEqual([]);
  for (const controller of CONTROLLERS)
    expect(existsSync(cgroupDir(of.cgroupMount, controller, `lg-${uid}`))).toBe(false);
  expect(await firewallRulesOf(uid)).toEqual([]);
  expect(existsSync(join(of.root, "home", `lg-${uid}`))).toBe(false);
  expect(existsSync(join(of.root, "locks", String(uid)))).toBe(false);
}

describe("sandboxed grades", () => {
  const listeners: Server[] = [];
  let others = "";
  let rogue: Promise<HostileRun>;
  let hog: Promise<HostileRun>;
  let reference: Promise<{ code: number; stderr: string; json: string; ms: number }>;
  let rootReachedRedis: Promise<string[]>;

  beforeAll(async () => {
    // Stand-ins for the service's HTTP port and other clusters' API servers, listening as root.
    for (const host of ["127.0.0.1", "::1"]) {
      const server = createServer((s) => s.end());
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      listeners.push(server);
    }
    others = listeners
      .map((s) => s.address() as AddressInfo)
      .map((a) => (a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`))
      .join(",");
    const project = hostileProject();
    rogue = gradeHostile(project, ["--hostile=rogue", `--dial=${others}`]);
    hog = gradeHostile(project, ["--hostile=hog"]);
    const json = join(tempDir("sandboxed-reference"), "grade.json");
    const started = Date.now();
    reference = labgrader([
      "grade",
      "--lab",
      LAB,
      "--operator",
      "reference",
      "--manager-arg=--phase-delay=1s",
      "--sandbox",
      "--json",
      json,
    ]).then((run) => ({ ...run, json, ms: Date.now() - started }));
    // While some sandbox's rules are in place, root (and so Redis's other clients) must still get through.
    rootReachedRedis = (async () => {
      const deadline = Date.now() + 600_000;
      // A listing torn by a concurrent commit (dockerd's, another sandbox's) fails: it counts as "not yet".
      while (!/--uid-owner/.test(spawnSync("iptables", ["-w", "-S", CHAIN], { encoding: "utf8" }).stdout ?? "")) {
        if (Date.now() > deadline) throw new Error("no sandbox rules appeared");
        await sleep(200);
      }
      return Promise.all([redisPing("127.0.0.1"), redisPing("::1")]);
    })();
    for (const p of [rogue, hog, reference, rootReachedRedis]) p.catch(() => undefined);
  });

  afterAll(() => {
    for (const s of listeners) s.close();
  });

  it(
    "cuts a rogue operator off from the network, our files, Secrets and escalation, and kills it though it ignores SIGTERM",
    { timeout: 900_000 },
    async () => {
      const { result, log, uid, ms } = await rogue;
      console.log(`rogue grade: ${(ms / 1000).toFixed(1)} s, uid ${uid}`);
      expect(GradeResultSchema.parse(result).status).toBe("graded");
      expect(result.reason).toBeUndefined();
      for (const address of ["127.0.0.1:6379", "[::1]:6379", "127.0.0.1:5432", ...others.split(",")]) {
        expect(log).toMatch(
          new RegExp(
            `^HOSTILE dial ${address.replace(/[[\].]/g, "\\$&")}: dial tcp .*: connect: connection refused$`,
            "m",
          ),
        );
      }
      for (const socket of ["/var/run/postgresql/.s.PGSQL.5432", "/var/run/docker.sock"])
        expect(log).toContain(`HOSTILE dial unix ${socket}: dial unix ${socket}: connect: no such file or directory`);
      expect(log).toMatch(/^HOSTILE read \/etc\/shadow: open \/etc\/shadow: permission denied$/m);
      expect(log).toMatch(/^HOSTILE list \/root: open \/root: permission denied$/m);
      expect(log).toMatch(
        /^HOSTILE list secrets: secrets is forbidden: User "system:serviceaccount:postgres-operator-system:postgres-operator-controller-manager" cannot list resource "secrets"/m,
      );
      expect(log).toMatch(
        /^HOSTILE create clusterrolebinding cluster-admin: clusterrolebindings\.rbac\.authorization\.k8s\.io is forbidden/m,
      );
      expect(log).toMatch(
        /^HOSTILE write \/var\/lib\/labgrader\/sandbox\/home\/lg-\d+\/filler: open .*: read-only file system$/m,
      );
      // Its private /var/tmp is memory, counted against its limit, and gone with it.
      expect(log).toMatch(/^HOSTILE write \/var\/tmp\/filler: succeeded$/m);
      expect(log.split("\n").filter((l) => l.endsWith("succeeded"))).toEqual([
        "HOSTILE write /var/tmp/filler: succeeded",
      ]);
      const findings = result.findings.join("\n");
      expect(findings).toContain(
        'Your role asks for "bind" on clusterroles (rbac.authorization.k8s.io) named cluster-admin; labgrader never grants role escalation',
      );
      expect(findings).toContain(
        'Your role asks for "create" on clusterrolebindings (rbac.authorization.k8s.io); labgrader never grants role escalation',
      );
      expect(findings).toContain("it cannot list secrets (403");
      expect(findings).toContain("The operator did not stop within 10 s of SIGTERM and was killed.");
      await expectNothingLeft(uid);
    },
  );

  it(
    "stops a fork bomb at the pids limit and a memory hog at the memory limit, and kills what escaped its session",
    { timeout: 900_000 },
    async () => {
      const { result, log, uid, ms } = await hog;
      console.log(`hog grade: ${(ms / 1000).toFixed(1)} s, uid ${uid}`);
      expect(result.status).toBe("graded");
      expect(log).toMatch(/^HOSTILE fork #\d+: fork\/exec \/bin\/sleep: resource temporarily unavailable$/m);
      expect(log).toMatch(/^HOSTILE kept 16 children in their own sessions, allocating$/m);
      const findings = result.findings.join("\n");
      expect(findings).toContain(`The operator was killed at its memory limit (512 MiB).`);
      expect(findings).toMatch(
        /The operator hit its limit of 256 processes and threads; the kernel refused \d+ of its forks\./,
      );
      expect(findings).toMatch(/The operator was killed by SIGKILL at/);
      await expectNothingLeft(uid);
    },
  );

  it(
    "leaves root's own connections to Redis alone while sandbox rules are in place",
    { timeout: 900_000 },
    async () => {
      expect(await rootReachedRedis).toEqual(["+PONG", "+PONG"]);
    },
  );

  it("still gives the reference operator full marks when sandboxed", { timeout: 900_000 }, async () => {
    const run = await reference;
    console.log(`sandboxed reference grade: ${(run.ms / 1000).toFixed(1)} s`);
    expect(run.stderr).not.toMatch(/labgrader: /);
    const result = GradeResultSchema.parse(JSON.parse(readFileSync(run.json, "utf8")));
    expect(result.status).toBe("graded");
    expect(result.findings).toEqual([]);
    expect(`${result.score}/${result.maxScore}`).toBe("50/50");
    expect(run.code).toBe(0);
  });
});

describe("a sandbox on its own", () => {
  it("finds this host able to sandbox, and says why a configuration would not be", async () => {
    expect(await sandboxProblems(settings)).toEqual([]);
    const open = tempDir("world-readable");
    chmodSync(open, 0o755);
    expect(
      await sandboxProblems({
        ...settings,
        seccomp: join(open, "labgrader-seccomp"),
        uids: { first: 65534, last: 65534 },
        protectedPaths: [open],
      }),
    ).toEqual([
      `labgrader-seccomp is not built at ${join(open, "labgrader-seccomp")} (run \`labgrader toolchain\`), so a sandboxed command could make user namespaces`,
      "uid 65534 (nobody) is in the sandbox range: a sandbox would own that account's files",
      `${open} is readable by other users, so a sandboxed operator could read it`,
    ]);
  });

  it("gives a build a network namespace of its own, where the module proxy is the only way out, and no user namespaces", async () => {
    const go = await hostGoSetup(process.env);
    const proxy = new URL(go.proxies[0]!);
    const host = hostAddress();
    expect(host, "a non-loopback IPv4 address of this host").toBeDefined();
    // A stand-in for anything else on the host (the service, Redis, another cluster), on every address.
    const marker = await startMarker();
    const port = marker.port;
    const project = tempDir("build-probe");
    const script = [
      'dial() { if (exec 3<>"/dev/tcp/$1/$2") 2>/tmp/err; then echo "PROBE dial $1:$2: connected"; else echo "PROBE dial $1:$2: $(sed "s/.*: //" /tmp/err)"; fi; }',
      `dial ${proxy.hostname} ${proxy.port || 443}`,
      `dial 127.0.0.1 ${port}`,
      `dial ${host} ${port}`,
      "dial 127.0.0.1 6379",
      'for ip in /usr/sbin/ip /sbin/ip /usr/bin/ip; do [ -x $ip ] && break; done; echo "PROBE interfaces: $($ip -o link show | cut -d: -f2 | tr -d " " | tr "\\n" " ")"',
      'echo "PROBE unshare: $(unshare --user --map-root-user true 2>&1 || true)"',
      'echo "PROBE uid: $(id -u)"',
    ].join("\n");
    let run: Awaited<ReturnType<typeof runInBuildSandbox>>;
    try {
      run = await runInBuildSandbox(
        {
          settings,
          limits: settings.build,
          go,
          projectDir: project,
          binary: join(project, "unused"),
          timeoutMs: 60_000,
        },
        "/bin/bash",
        ["-c", script],
      );
    } finally {
      marker.close();
    }
    const lines = run.output.split("\n").filter((l) => l.startsWith("PROBE "));
    console.log(lines.join("\n"));
    expect(run.code, run.output).toBe(0);
    expect(lines).toContain(`PROBE dial ${proxy.hostname}:${proxy.port || 443}: connected`);
    expect(lines).toContain(`PROBE dial 127.0.0.1:${port}: Connection refused`);
    expect(lines).toContain(`PROBE dial ${host}:${port}: Network is unreachable`);
    expect(lines).toContain("PROBE dial 127.0.0.1:6379: Connection refused");
    expect(lines).toContain("PROBE interfaces: lo ");
    expect(lines).toContain("PROBE unshare: unshare: unshare failed: Operation not permitted");
    const uid = Number(/^PROBE uid: (\d+)$/m.exec(run.output)?.[1]);
    expect(uid).toBeGreaterThanOrEqual(settings.uids.first);
    expect(marker.seen).toEqual([]);
    await expectNothingLeft(uid);
  });

  it("refuses a sandbox root that the sandbox uids could not reach, and creates a fresh one they can", async () => {
    const closed = tempDir("closed"); // mkdtemp: 0700
    await expect(prepareSandboxing({ ...settings, root: join(closed, "sandbox") })).rejects.toThrow(
      `${closed} (above the sandbox root ${join(closed, "sandbox")}) denies other users search`,
    );
    const parent = tempDir("fresh");
    chmodSync(parent, 0o755);
    const root = join(parent, "a", "b", "sandbox");
    // Another root is another installation: it must have uids of its own, or its reaping would take
    // the live sandboxes of this host's workers (other test files grade beside this one) for leftovers.
    const own = { ...settings, root, uids: { first: settings.uids.first - 1, last: settings.uids.first - 1 } };
    try {
      await reapSandboxes(own); // creates the root and its lock folder
      await prepareSandboxing(own);
      for (const dir of [join(parent, "a"), join(parent, "a", "b")]) expect(statSync(dir).mode & 0o001).toBe(0o001);
    } finally {
      // Gone, this installation's claim on its uid is forgotten by the next one to look (sandbox-uids.ts).
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("kills a manager at its wall-clock limit, with everything it started, and says so", async () => {
    const dir = tempDir("wall-clock");
    const script = join(dir, "manager");
    // Ignores SIGTERM and leaves a child in a session of its own.
    writeFileSync(script, "#!/bin/sh\ntrap '' TERM\nsetsid sleep 300 &\nexec sleep 301\n");
    chmodSync(script, 0o755);
    writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\nkind: Config\n");
    const setupStarted = Date.now();
    // Long enough that a busy machine still shows the manager and its child running before the limit.
    const sandbox = await createSandbox({
      settings: { ...settings, wallClockMs: 15_000 },
      binary: script,
      kubeconfigPath: join(dir, "kubeconfig"),
      apiServer: "https://127.0.0.1:1",
    });
    const setupMs = Date.now() - setupStarted;
    expect(readdirSync(sandbox.home).sort()).toEqual(["api.sock", "kubeconfig", "manager"]);
    const manager = startManager({
      binary: sandbox.binary,
      kubeconfigPath: sandbox.kubeconfigPath,
      args: [],
      workDir: dir,
      logFile: join(dir, "log"),
      clock: () => Date.now() - setupStarted,
      env: managerEnvironment({}),
      sandbox: sandbox.manager,
    });
    // The manager, its child, and the relay to its API server.
    await vi.waitFor(() => expect(processesOf(sandbox.uid).length).toBe(3), { timeout: 14_000, interval: 50 });
    const exit = await manager.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(exit.at).toBeGreaterThanOrEqual(15_000);
    expect(await sandbox.diagnose()).toEqual([
      "The operator was still running at its time limit (15 s) and was killed.",
    ]);
    await manager.stop();
    const teardownStarted = Date.now();
    await sandbox.dispose();
    console.log(`sandbox setup ${setupMs} ms, teardown ${Date.now() - teardownStarted} ms`);
    await expectNothingLeft(sandbox.uid);
  });

  it("reaps what a worker that died left behind: its manager, cgroups, rules, home and uid lock", async () => {
    const dir = tempDir("dead-worker");
    // An installation of its own (root and uids): the workers other test files start reap this
    // host's leftovers too, and would otherwise race this test for the ones it leaves.
    // Not below /tmp, which a sandbox sees as a private tmpfs: its home would not be there.
    const own = {
      ...settings,
      root: join(dirname(settings.root), `sandbox-dead-worker-${process.pid}`),
      uids: { first: 61990, last: 61995 },
    };
    try {
      const script = join(dir, "manager");
      writeFileSync(script, "#!/bin/sh\nexec sleep 300\n");
      chmodSync(script, 0o755);
      writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\nkind: Config\n");
      const worker = join(dir, "worker.ts");
      writeFileSync(
        worker,
        `import { createSandbox, sandboxSettings } from ${JSON.stringify(join(repoRoot, "grader/src/runner/sandbox.ts"))};
import { startManager } from ${JSON.stringify(join(repoRoot, "grader/src/runner/manager.ts"))};
import { graderConfigFromEnv } from ${JSON.stringify(join(repoRoot, "grader/src/config.ts"))};
const sandbox = await createSandbox({ settings: sandboxSettings(graderConfigFromEnv({ ...process.env, LABGRADER_SANDBOX_DIR: ${JSON.stringify(own.root)}, LABGRADER_SANDBOX_UIDS: "61990-61995" })), binary: ${JSON.stringify(script)}, kubeconfigPath: ${JSON.stringify(join(dir, "kubeconfig"))}, apiServer: "https://127.0.0.1:1" });
startManager({ binary: sandbox.binary, kubeconfigPath: sandbox.kubeconfigPath, args: [], workDir: ${JSON.stringify(dir)}, logFile: ${JSON.stringify(join(dir, "log"))}, clock: () => 0, env: {}, sandbox: sandbox.manager });
console.log(sandbox.uid);
setInterval(() => undefined, 1000);
`,
      );
      // Its output is piped, not inherited: a worker left running must not hold the test runner's streams open.
      const child = spawn(process.execPath, [worker], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
      const exited = new Promise((resolve) => child.once("exit", resolve));
      let uid: number;
      try {
        uid = await new Promise<number>((resolve, reject) => {
          child.stdout.once("data", (data: Buffer) => resolve(Number(data.toString().trim())));
          child.once("exit", (code) => reject(new Error(`the worker exited with ${code}: ${stderr}`)));
        });
        // The manager, and the relay to its API server in its network namespace.
        await vi.waitFor(() => expect(processesOf(uid)).toHaveLength(2), { timeout: 10_000, interval: 50 });
      } finally {
        child.kill("SIGKILL");
        await exited;
      }
      // The worker's manager (and its relay) outlives it, in its own process group.
      expect(processesOf(uid)).toHaveLength(2);
      expect(existsSync(join(own.root, "locks", String(uid)))).toBe(true);
      expect(await firewallRulesOf(uid)).not.toEqual([]);

      // And leftovers whose lock is gone altogether, under a uid no one holds (the worker's uid is
      // picked at random, and other files' sandboxes hold theirs).
      const lockless = [...Array(own.uids.last - own.uids.first + 1).keys()]
        .map((i) => own.uids.last - i)
        .find((u) => u !== uid && !existsSync(join(own.root, "locks", String(u))))!;
      for (const controller of CONTROLLERS)
        mkdirSync(cgroupDir(own.cgroupMount, controller, `lg-${lockless}`), { recursive: true });

      expect((await reapSandboxes(own)).sort()).toEqual([uid, lockless].sort());
      await expectNothingLeft(uid, own);
      await expectNothingLeft(lockless, own);
    } finally {
      // Gone, this installation's claim on its uids is forgotten by the next one to look.
      rmSync(own.root, { recursive: true, force: true });
    }
  });
});
