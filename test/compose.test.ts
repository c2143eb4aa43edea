import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { referenceOperatorDir, repoRoot } from "./support/env.ts";
import { freePort } from "./support/services.ts";
import { composeProject, type Attempt, type ComposeProject } from "./support/compose.ts";
import { api, archiveForm, tarProject } from "./support/service-stack.ts";

const run = promisify(execFile);

/** A grade inside the worker's container waits its turn behind nothing; a build and a grade on a busy host. */
const GRADE_MS = 600_000;

/**
 * `docker compose up` as a user runs it: the images scripts/compose-images.sh made (setup runs it),
 * the project's docker-compose.yml, its own project name and port so that it stands beside any
 * other instance, and `down -v` at the end.
 */
let project: ComposeProject;

const why = (a: Attempt) =>
  [a.reason ?? "", ...a.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.message}`)].join("\n");

describe("docker compose", () => {
  beforeAll(async () => {
    project = composeProject(`labgrader-e2e-${process.pid}`, await freePort(), { LABGRADER_WORKER_CONCURRENCY: "2" });
    await project.compose(["up", "--detach", "--wait", "--no-build", "--quiet-pull"], 600_000);
  }, 660_000);

  afterAll(async () => {
    await project.compose(["down", "--volumes", "--remove-orphans", "--timeout", "30"], 300_000);
  }, 330_000);

  test("the service answers ready, and the worker has synced every lab", async () => {
    const ready = await fetch(`${project.baseUrl}/readyz`);
    expect(await ready.json()).toEqual({ ok: true, db: "ok", redis: "ok" });
    const teacher = await project.addUser("compose-teacher", "instructor");
    const labs = (await api<{ labs: { id: string }[] }>(project, teacher, "GET", "/api/v1/labs")).body;
    const folders = readdirSync(join(repoRoot, "labs"), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(labs.labs.map((l) => l.id).sort()).toEqual(folders.map((d) => d.name).sort());
  });

  test("an instructor's reference submission gets full marks on kwok inside the worker container", async () => {
    const teacher = await project.addUser("compose-reference", "instructor");
    const attempt = await project.gradeOf(teacher, "composing-operators", { reference: true }, GRADE_MS);
    expect(attempt.status, why(attempt)).toBe("graded");
    expect(attempt.score, why(attempt)).toBe(attempt.maxScore);
  });

  test("a learner's uploaded project is built in the worker's sandbox and graded", async () => {
    const learner = await project.addUser("compose-learner", "learner");
    const archive = await tarProject(referenceOperatorDir);
    const attempt = await project.gradeOf(learner, "designing-the-api", await archiveForm(archive), GRADE_MS);
    expect(attempt.status, why(attempt)).toBe("graded");
    expect(attempt.score, why(attempt)).toBe(attempt.maxScore);
    expect(attempt.maxScore).toBeGreaterThan(0);
  });

  test("down --volumes leaves no container, volume or network of the project", async () => {
    expect(await project.leftovers()).not.toEqual([]);
    // The worker's anonymous volume carries no project label: it is found through the containers' mounts.
    const ids = (await project.compose(["ps", "--all", "--quiet"])).split("\n").filter(Boolean);
    const mounts = (
      await run("docker", ["inspect", "--format", "{{range .Mounts}}{{.Name}} {{end}}", ...ids], { env: project.env })
    ).stdout
      .split(/\s+/)
      .filter(Boolean);
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    await project.compose(["down", "--volumes", "--remove-orphans", "--timeout", "30"], 300_000);
    expect(await project.leftovers()).toEqual([]);
    const volumes = (await run("docker", ["volume", "ls", "--quiet"], { env: project.env })).stdout.split("\n");
    expect(mounts.filter((m) => volumes.includes(m))).toEqual([]);
  });
});
