import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INSTALL_DIR } from "../../grader/src/runner/reference.ts";
import { referenceOperatorDir, repoRoot, tempDir, testConfig } from "../support/env.ts";
import { api, archiveForm, startStack, tarProject, waitForAttempt, type Stack } from "../support/service-stack.ts";

// Every submission is hostile. Each attack here goes through the real service and a real worker
// with its sandbox on, as a learner's upload would, and must end refused or contained, with a
// finding that names what was refused; afterwards nothing of it may be left on the host.

const LAB = "composing-operators";
/** One grade beside the other test files (the host's budget is shared). */
const GRADE_MS = 900_000;

interface Attempt {
  id: string;
  status: string;
  score: number;
  maxScore: number;
  reason?: string;
  findings: string[];
  checks: { id: string; status: string; message: string }[];
}

let stack: Stack;
let token = "";
/** A fake `hg` first on the worker's PATH: were the go command ever to run it, it would leave this marker. */
const hgMarker = join(tempDir("hg-marker"), "hg-ran");
const started = new Date();

beforeAll(async () => {
  const fakeBin = tempDir("fake-hg");
  writeFileSync(join(fakeBin, "hg"), `#!/bin/sh\ntouch ${hgMarker}\nexit 1\n`);
  chmodSync(join(fakeBin, "hg"), 0o755);
  stack = await startStack({ workerEnv: { PATH: `${fakeBin}:${process.env.PATH}`, LABGRADER_SANDBOX: "1" } });
  const [, user] = await Promise.all([stack.startWorker(), stack.user("mallory", "learner")]);
  token = user.token;
}, 300_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

/** The reference operator's project with the hostile manager's cmd/ and role, and a mode for it. */
/** An abstract unix socket of the host's (the test listens on it): beyond iptables, closed only by a network namespace. */
const abstractName = `labgrader-hostile-${process.pid}`;

function hostileProject(mode: string, extra: (dir: string) => void = () => undefined): string {
  const dir = join(tempDir("hostile-project"), "postgres-operator");
  cpSync(referenceOperatorDir, dir, { recursive: true, filter: (src) => !/\/bin$/.test(src) });
  cpSync(join(repoRoot, "test/fixtures/hostile-operator"), dir, { recursive: true });
  const probes = [INSTALL_DIR, testConfig().cacheDir, stack.env.LABGRADER_WORK_DIR!, "/var/lib/labgrader/sandbox/home"];
  const dial = ["127.0.0.1:6379", "127.0.0.1:5432", "10.255.255.53:53"];
  writeFileSync(
    join(dir, "cmd/mode.go"),
    `package main\n\nconst defaultMode = ${JSON.stringify(mode)}\n\nvar probePaths = []string{${probes.map((p) => JSON.stringify(p)).join(", ")}}\n\nvar probeDial = []string{${dial.map((d) => JSON.stringify(d)).join(", ")}}\n\nconst probeAbstract = ${JSON.stringify(abstractName)}\n`,
  );
  extra(dir);
  return dir;
}

const submit = async (project: string) =>
  api<{ attemptId?: string; error?: string; code?: string }>(
    stack,
    token,
    "POST",
    `/api/v1/labs/${LAB}/submissions`,
    await archiveForm(await tarProject(project)),
  );

const why = (a: Attempt) => JSON.stringify({ status: a.status, reason: a.reason, findings: a.findings }, null, 1);

describe("a hostile submission", () => {
  test("borrowing the grader's reference through a replace directive is refused at upload, saying why", async () => {
    const project = hostileProject("rogue", (dir) => {
      const goMod = readFileSync(join(dir, "go.mod"), "utf8");
      writeFileSync(
        join(dir, "go.mod"),
        `${goMod}\nreplace github.com/example/postgres-operator => ${INSTALL_DIR}/operator\n`,
      );
    });
    const response = await submit(project);
    expect(response.status).toBe(422);
    expect(JSON.stringify(response.body)).toMatch(/replaces a module with a folder outside the project/);
  });

  test("borrowing through a go.work is refused at upload", async () => {
    const project = hostileProject("rogue", (dir) =>
      writeFileSync(join(dir, "go.work"), `go 1.26\n\nuse (\n\t.\n\t${INSTALL_DIR}/operator\n)\n`),
    );
    const response = await submit(project);
    expect(response.status).toBe(422);
    expect(JSON.stringify(response.body)).toMatch(/go\.work/);
  });

  test(
    "a manager looking around sees none of labgrader's folders and no other process, keeps no shared memory, makes no user namespace, and the API server refuses it proxies, webhooks, CRDs and tokens; its build ran no hg and wrote nothing to the shared cache; nothing is left",
    async () => {
      const marker = `hostile-cache-marker-${Date.now()}`;
      const project = hostileProject("recon", (dir) => {
        // A Mercurial hook: with -buildvcs=auto the go command runs hg here, as whoever builds.
        mkdirSync(join(dir, ".hg"), { recursive: true });
        writeFileSync(join(dir, ".hg/hgrc"), `[hooks]\npre-identify = touch ${hgMarker}\n`);
        // A string only this build compiles: if the shared build cache took the build's entries, it would hold it.
        writeFileSync(
          join(dir, "cmd/marker.go"),
          `package main\n\nvar cacheMarker = ${JSON.stringify(marker)}\n\nfunc init() { _ = cacheMarker }\n`,
        );
        // A CRD of a group the lab does not use, whose conversion webhook would make the API server call out.
        writeFileSync(
          join(dir, "config/crd/bases/evil.example.com_hostiles.yaml"),
          "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: hostiles.evil.example.com}\nspec:\n  group: evil.example.com\n  names: {kind: Hostile, plural: hostiles}\n  scope: Namespaced\n  conversion: {strategy: Webhook, webhook: {conversionReviewVersions: [v1], clientConfig: {url: 'https://127.0.0.1:2379/'}}}\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n",
        );
      });
      const listener = createServer((c) => c.destroy());
      await new Promise<void>((resolve) => listener.listen(`\0${abstractName}`, () => resolve()));
      let attempt: Attempt;
      try {
        const accepted = await submit(project);
        expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
        attempt = await waitForAttempt<Attempt>(stack, token, accepted.body.attemptId!, GRADE_MS);
      } finally {
        listener.close();
      }
      expect(attempt.status, why(attempt)).toBe("graded");
      const log = (await api<string>(stack, token, "GET", `/api/v1/attempts/${attempt.id}/log`)).body;

      // Its own network namespace: loopback only, nothing but its API server, not even the host's abstract sockets.
      expect(log).toMatch(/^HOSTILE network interfaces: \["lo"\]$/m);
      for (const address of ["127.0.0.1:6379", "127.0.0.1:5432", "10.255.255.53:53"])
        expect(log).toMatch(
          new RegExp(`^HOSTILE dial ${address}: .*(connection refused|network is unreachable)$`, "m"),
        );
      expect(log).toMatch(/^HOSTILE dial abstract socket: .*connection refused$/m);

      // labgrader's install (the reference, labs, mutants), its caches, other attempts, other sandboxes.
      for (const dir of [
        INSTALL_DIR,
        testConfig().cacheDir,
        stack.env.LABGRADER_WORK_DIR!,
        "/var/lib/labgrader/sandbox/home",
      ]) {
        expect(log).toMatch(
          new RegExp(`^HOSTILE list ${dir}: (0 entries|open .*: (permission denied|no such file or directory))$`, "m"),
        );
      }
      // Its own PID namespace: itself, the shell that started it, and the relay to its API server.
      expect(log).toMatch(
        /^HOSTILE processes visible: 3, besides this one and the sandbox's first: \["\S*socat -T 86400 TCP-LISTEN:\d+,bind=127\.0\.0\.1,fork,reuseaddr UNIX-CONNECT:\S+\/api\.sock "\]$/m,
      );
      expect(log).toMatch(/^HOSTILE shmget: segment \d+ kept$/m);
      // The seccomp filter: no user namespace, whichever way it is asked for.
      expect(log).toMatch(
        /^HOSTILE unshare a user namespace: exit status 1: unshare: unshare failed: Operation not permitted$/m,
      );
      expect(log).toMatch(/^HOSTILE clone into a user namespace: fork\/exec \/bin\/true: operation not permitted$/m);
      for (const what of [
        "proxy through a pod",
        "proxy through a service",
        "create webhook configuration",
        "create CRD",
        "mint a kube-system token",
      ]) {
        expect(log).toMatch(new RegExp(`^HOSTILE ${what}: HTTP 403 .*forbidden`, "m"));
      }
      expect(log).toMatch(/^HOSTILE recon: done$/m);
      const uid = Number(/^HOSTILE start recon uid=(\d+)/m.exec(log)?.[1]);
      expect(uid).toBeGreaterThan(1000);

      const findings = attempt.findings.join("\n");
      expect(findings).toMatch(
        /CustomResourceDefinition hostiles\.evil\.example\.com defines Hostile in evil\.example\.com, which this lab does not use/,
      );

      // The build: no hg ran, and none of its compiled output reached the shared cache.
      expect(spawnSync("test", ["-e", hgMarker]).status).toBe(1);
      const cache = execFileSync("go", ["env", "GOCACHE"], { encoding: "utf8" }).trim();
      const newer = spawnSync("find", [cache, "-type", "f", "-newermt", started.toISOString()], {
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
      })
        .stdout.split("\n")
        .filter(Boolean);
      const leaked = newer.filter((file) => readFileSync(file).includes(marker));
      expect(leaked).toEqual([]);

      // Nothing of the attempt is left: processes, SysV objects, firewall rules, mounts, home.
      expect(spawnSync("pgrep", ["-u", String(uid)], { encoding: "utf8" }).stdout.trim()).toBe("");
      const ipcs = execFileSync("ipcs", ["-m", "-c"], { encoding: "utf8" });
      expect(ipcs.split("\n").filter((l) => l.split(/\s+/).includes(String(uid)))).toEqual([]);
      expect(execFileSync("iptables", ["-w", "-S"], { encoding: "utf8" })).not.toContain(`labgrader-uid-${uid}`);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`lg-${uid}`);
      expect(spawnSync("test", ["-e", `/var/lib/labgrader/sandbox/home/lg-${uid}`]).status).toBe(1);
    },
    GRADE_MS,
  );

  test(
    "a compiler bomb (a 4 GiB initialised array) ends at the build's limits: the learner's failure, with the reason, the host unharmed",
    async () => {
      const project = hostileProject("rogue", (dir) =>
        writeFileSync(
          join(dir, "cmd/bomb.go"),
          "package main\n\nvar bomb = [1 << 32]byte{1 << 31: 1}\n\nfunc init() { _ = bomb[0] }\n",
        ),
      );
      const accepted = await submit(project);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
      const attempt = await waitForAttempt<Attempt>(stack, token, accepted.body.attemptId!, GRADE_MS);
      expect(attempt.status, why(attempt)).toBe("graded");
      expect(attempt.score).toBe(0);
      expect(attempt.findings.join("\n")).toMatch(
        /did not build[\s\S]*(the build wrote a file over its size limit|the build was killed at its memory limit)/,
      );
      expect((await api(stack, undefined, "GET", "/readyz")).status).toBe(200);
    },
    GRADE_MS,
  );
});
