import { execFileSync, spawnSync } from "node:child_process";
import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { mutantArchive } from "./support/mutants.ts";
import { createRecordStore } from "../grader/src/clusters/records.ts";
import { referenceOperatorDir, repoRoot, tempDir, testConfig } from "./support/env.ts";
import { startRedisServer } from "./support/services.ts";
import {
  api,
  archiveForm,
  readEvents,
  startStack,
  tarProject,
  waitForAttempt,
  waitForPhase,
  type SseEvent,
  type Stack,
} from "./support/service-stack.ts";

const LAB = "composing-operators";
const PHASES = ["queued", "building", "provisioning", "deploying", "checking", "reporting"];
/**
 * Each test grades up to three attempts at once beside the other integration files: on a busy
 * 2-core machine one such test took over 600 s, while ~70 s is one grade on a quiet one.
 */
const GRADES_MS = 900_000;

interface Attempt {
  id: string;
  status: string;
  phase: string;
  score: number;
  maxScore: number;
  runs: number;
  findings: string[];
  checks: { id: string; status: string; required: boolean; message: string; hint: string; evidenceUrl?: string }[];
}

const stacks: Stack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
}, 120_000);

async function stackWith(options: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const stack = await startStack(options);
  stacks.push(stack);
  return stack;
}

const submit = async (stack: Stack, token: string, body: FormData | object) => {
  const response = await api<{ submissionId: string; attemptId: string; error?: string }>(
    stack,
    token,
    "POST",
    `/api/v1/labs/${LAB}/submissions`,
    body,
  );
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.attemptId;
};

/** Processes whose command line names this text (a cluster's or an attempt's), other than our own probe. */
const processesNaming = (text: string) =>
  execFileSync("ps", ["-eo", "pid,args"])
    .toString()
    .split("\n")
    .filter((l) => l.includes(text) && !l.includes("ps -eo"));

/** What a failed assertion should show: why the attempt ended as it did. */
const why = (a: Attempt) =>
  JSON.stringify(
    {
      status: a.status,
      score: a.score,
      reason: (a as { reason?: string }).reason,
      findings: a.findings,
      notPassed: a.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.status}: ${c.message}`),
    },
    null,
    1,
  );

function expectPhasesInOrder(events: SseEvent[]) {
  const phases = events.filter((e) => e.event === "phase").map((e) => e.data.phase);
  expect(phases).toEqual(PHASES);
  const ids = events.map((e) => BigInt(e.id));
  expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  expect(events.at(-1)!.event).toBe("done");
}

describe.concurrent("the grading service", () => {
  test(
    "an uploaded reference project gets full marks, a mutant fails its checks, a broken build is the learner's, all live over SSE",
    async () => {
      const stack = await stackWith({ workerEnv: { LABGRADER_WORKER_CONCURRENCY: "3" } });
      await stack.startWorker();
      const learner = await stack.user("learner", "learner");
      const other = await stack.user("other", "learner");
      const broken = await stack.user("broken", "learner");

      const referenceAttempt = await submit(
        stack,
        learner.token,
        await archiveForm(await tarProject(referenceOperatorDir)),
      );
      const referenceEvents = readEvents(stack, learner.token, referenceAttempt);
      const mutant = await mutantArchive("no-backup-location");
      const mutantAttempt = await submit(stack, other.token, await archiveForm(mutant.archive));
      const mutantEvents = readEvents(stack, other.token, mutantAttempt);
      const notCompiling = join(tempDir("broken"), "postgres-operator");
      await cp(referenceOperatorDir, notCompiling, { recursive: true, filter: (src) => !/\/bin$/.test(src) });
      await writeFile(join(notCompiling, "cmd/main.go"), "package main\n\nfunc main() { undefinedCall() }\n");
      const brokenAttempt = await submit(stack, broken.token, await archiveForm(await tarProject(notCompiling)));

      const events = await referenceEvents;
      const reference = await waitForAttempt<Attempt>(stack, learner.token, referenceAttempt);
      expect(reference.status, why(reference)).toBe("graded");
      expect(reference.score, why(reference)).toBe(reference.maxScore);
      expect(reference.maxScore).toBe(50);
      expectPhasesInOrder(events);
      // Every check's verdict was streamed once, before the end, as it was decided.
      const streamed = events.filter((e) => e.event === "check").map((e) => e.data.id);
      expect([...streamed].sort()).toEqual(reference.checks.map((c) => c.id).sort());
      expect(events.at(-1)!.data).toMatchObject({ status: "graded", score: 50, maxScore: 50 });

      const graded = await waitForAttempt<Attempt>(stack, other.token, mutantAttempt);
      expect(graded.status, why(graded)).toBe("graded");
      expect(
        graded.checks
          .filter((c) => c.status === "failed")
          .map((c) => c.id)
          .sort(),
        why(graded),
      ).toEqual([...mutant.fails].sort());
      const failed = graded.checks.find((c) => c.id === mutant.fails[0])!;
      expect(failed.hint.length).toBeGreaterThan(10);
      expect(failed.evidenceUrl).toBeDefined();
      const evidence = await api<{ objects: unknown[] }>(stack, other.token, "GET", failed.evidenceUrl!);
      expect(evidence.status).toBe(200);
      expect(evidence.body.objects.length).toBeGreaterThan(0);
      expectPhasesInOrder(await mutantEvents);

      const build = await waitForAttempt<Attempt>(stack, broken.token, brokenAttempt);
      expect(build.status, why(build)).toBe("graded");
      expect(build.score).toBe(0);
      expect(build.findings.join("\n")).toMatch(/did not build[\s\S]*undefined: undefinedCall/);

      const csv = await api<string>(
        stack,
        (await stack.user("teacher", "instructor")).token,
        "GET",
        `/api/v1/gradebook?lab=${LAB}&format=csv`,
      );
      expect(csv.body).toMatch(/\r\nlearner,1,graded,50,50,/);
    },
    GRADES_MS,
  );

  test(
    "a worker killed with SIGKILL mid-attempt: the attempt finishes exactly once on restart and nothing is left running",
    async () => {
      const stack = await stackWith({
        workerEnv: { LABGRADER_LOCK_MS: "8000", LABGRADER_STALLED_INTERVAL_MS: "2000" },
      });
      const first = await stack.startWorker();
      const ci = await stack.user("ci", "ci");
      const attemptId = await submit(stack, ci.token, { reference: true });
      const stream = readEvents(stack, ci.token, attemptId);
      // Killed the moment it is checking: its cluster exists (read from the records on disk, at once).
      expect(await waitForPhase(stack, attemptId, "checking", GRADES_MS)).toBe("checking");
      const clusters = await createRecordStore(join(testConfig().cacheDir, "clusters")).list();
      await first.stop("SIGKILL");
      const ours = clusters
        .filter((c) => c.labels["labgrader.dev/attempt"] === attemptId.slice(0, 8))
        .map((c) => c.name);
      expect(ours).toHaveLength(1);

      await stack.startWorker();
      const events = await stream;
      const attempt = await waitForAttempt<Attempt>(stack, ci.token, attemptId);
      expect(attempt.status, why(attempt)).toBe("graded");
      expect(attempt.score, why(attempt)).toBe(50);
      // The killed run and the one after the restart; a platform fault (a cluster that broke on a
      // busy host) adds a run of its own, announced by a "retrying" event.
      expect(attempt.runs, why(attempt)).toBe(2 + events.filter((e) => e.event === "retrying").length);
      expect(events.filter((e) => e.event === "done")).toHaveLength(1);
      expect(events.filter((e) => e.event === "restarted")).toHaveLength(1);
      expect(new Set(attempt.checks.map((c) => c.id)).size).toBe(attempt.checks.length);
      // The first run's cluster was reaped and its operator stopped; the second run's are gone too.
      for (const name of ours) expect(processesNaming(name)).toEqual([]);
      expect(processesNaming(attemptId)).toEqual([]);
    },
    GRADES_MS,
  );

  test(
    "a hostile operator uploaded by a learner is graded to a normal result, cut off by its sandbox, while the service stays healthy and its worker drains on SIGTERM",
    async () => {
      const stack = await stackWith();
      const worker = await stack.startWorker();
      const learner = await stack.user("mallory", "learner");
      const project = join(tempDir("hostile"), "postgres-operator");
      await cp(referenceOperatorDir, project, { recursive: true, filter: (src) => !/\/bin$/.test(src) });
      await cp(join(repoRoot, "test/fixtures/hostile-operator"), project, { recursive: true });
      const attemptId = await submit(stack, learner.token, await archiveForm(await tarProject(project)));
      // SIGTERM while it is being checked: the worker takes no new job but finishes this one, then exits.
      expect(await waitForPhase(stack, attemptId, "checking", GRADES_MS)).toBe("checking");
      worker.child.kill("SIGTERM");
      const attempt = await waitForAttempt<Attempt>(stack, learner.token, attemptId);
      await worker.waitFor(/worker: stopped/, 60_000);
      expect(attempt.status, why(attempt)).toBe("graded");
      expect(attempt.runs).toBe(1);
      expect(attempt.score).toBeLessThan(attempt.maxScore);
      const findings = attempt.findings.join("\n");
      expect(findings).toMatch(/"create" on clusterrolebindings/);
      expect(findings).toMatch(/"bind" on clusterroles/);
      expect(findings).toMatch(/did not stop within 10 s of SIGTERM/);
      const log = (await api<string>(stack, learner.token, "GET", `/api/v1/attempts/${attemptId}/log`)).body;
      expect(log).toMatch(/^HOSTILE dial 127\.0\.0\.1:6379: .*connection refused$/m);
      expect(log).toMatch(/^HOSTILE dial 127\.0\.0\.1:5432: .*connection refused$/m);
      expect(log).toMatch(/^HOSTILE read \/etc\/shadow: .*permission denied$/m);
      expect(log).toMatch(/^HOSTILE list secrets: .*forbidden/m);
      expect(log).toMatch(/^HOSTILE create clusterrolebinding cluster-admin: .*forbidden/m);
      const uid = Number(/^HOSTILE start \w+ uid=(\d+)/m.exec(log)?.[1]);
      expect(uid).toBeGreaterThan(1000);
      expect(spawnSync("pgrep", ["-u", String(uid)], { encoding: "utf8" }).stdout.trim()).toBe("");
      expect((await api(stack, undefined, "GET", "/readyz")).status).toBe(200);
    },
    GRADES_MS,
  );

  test(
    "a build that runs out of its time limit is retried, then not gradable with its reason: a slow host is never the learner's zero",
    async () => {
      // One second is far too short for any build of an operator: the host, not the project, is "slow" here.
      const stack = await stackWith({ workerEnv: { LABGRADER_BUILD_TIMEOUT_MS: "1000" } });
      await stack.startWorker();
      const learner = await stack.user("patient", "learner");
      const attemptId = await submit(stack, learner.token, await archiveForm(await tarProject(referenceOperatorDir)));
      const events = await readEvents(stack, learner.token, attemptId);
      const attempt = await waitForAttempt<Attempt & { reason?: string }>(stack, learner.token, attemptId);
      expect(attempt.status, why(attempt)).toBe("not_gradable");
      expect(attempt.reason).toMatch(/build did not finish within 1 s \(its time limit\)/);
      expect(events.filter((e) => e.event === "retrying")).toHaveLength(2);
      expect(attempt.checks.filter((c) => c.status === "failed")).toEqual([]);
      expect(events.at(-1)!.data).toMatchObject({ status: "not_gradable" });
    },
    GRADES_MS,
  );

  test(
    "Redis restarted between accept and pickup: the attempt is still graded",
    async () => {
      const redis = await startRedisServer();
      const stack = await stackWith({
        redisUrl: redis.url,
        workerEnv: { LABGRADER_SWEEP_GRACE_MS: "1000", LABGRADER_SWEEP_INTERVAL_MS: "2000" },
      });
      const ci = await stack.user("ci", "ci");
      const attemptId = await submit(stack, ci.token, { reference: true });
      await redis.restart();
      await stack.startWorker();
      const attempt = await waitForAttempt<Attempt>(stack, ci.token, attemptId);
      expect(attempt.status, why(attempt)).toBe("graded");
      expect(attempt.score, why(attempt)).toBe(50);
      expect(stack.workers[0]!.output.join("\n")).toMatch(/re-enqueued 1 attempt/);
      expect((await api(stack, undefined, "GET", "/readyz")).status).toBe(200);
      await stack.stop();
      stacks.splice(stacks.indexOf(stack), 1);
      await redis.stop();
    },
    GRADES_MS,
  );
});
