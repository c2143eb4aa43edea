import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { finishAttempt, startRun } from "../server/src/db/attempts.ts";
import { createDb } from "../server/src/db/connect.ts";
import { getLabRecord } from "../server/src/db/labs.ts";
import { setPassword } from "../server/src/db/passwords.ts";
import { acceptSubmission } from "../server/src/db/submissions.ts";
import { loadCourse } from "../grader/src/labs/course.ts";
import { api, signInCookies, startStack, type Stack } from "./support/service-stack.ts";

// Needs Postgres and Redis only: attempts are recorded as a worker would record them, no grade runs.
const COURSE = "k8s-operators";
/** The course's labs in order, from labs/course.yaml (all of weight 1): attempts are recorded for the first, so what is next moves on to the second. */
const COURSE_LABS = (await loadCourse())!.modules.flatMap((m) => m.labs.map((l) => l.lab));
const [LAB, LATER_LAB] = COURSE_LABS as [string, string];
/** The course score of full marks on the first lab alone, in percent to one decimal as the service gives it. */
const FIRST_LAB_SHARE = Math.round((1 / COURSE_LABS.length) * 1000) / 10;

interface LabProgress {
  id: string;
  status: string;
  bestScore: number | null;
  prerequisitesMet: boolean;
}
interface Progress {
  id: string;
  learner: { id: number; name: string };
  score: number;
  next: { id: string } | null;
  modules: { number: number; labs: LabProgress[] }[];
}

let stack: Stack;
const accounts = {} as Record<"ada" | "bob" | "instructor", { id: number; token: string }>;

/** A graded attempt of `userId` on the lab with `score`, recorded straight into the gradebook. */
async function recordGradedAttempt(userId: number, score: (maxScore: number) => number): Promise<void> {
  const db = createDb(stack.db.url, { log: () => undefined, maxConnections: 1 });
  try {
    const lab = (await getLabRecord(db, LAB))!;
    const notify = async () => undefined;
    const { attemptId } = await acceptSubmission(
      db,
      { userId, labId: LAB, labVersion: lab.versionHash, kind: "reference" },
      notify,
    );
    const run = await startRun(db, attemptId);
    const maxScore = lab.summary.maxScore;
    await finishAttempt(db, attemptId, run!.run, {
      status: "graded",
      score: score(maxScore),
      maxScore,
      findings: [],
      checks: [],
    });
  } finally {
    await db.destroy();
  }
}

const progress = (token: string, query = "") => api<Progress>(stack, token, "GET", `/api/v1/courses/${COURSE}${query}`);
const labOf = (p: Progress) => p.modules.flatMap((m) => m.labs).find((l) => l.id === LAB)!;

beforeAll(async () => {
  stack = await startStack();
  const [ada, bob, instructor] = await Promise.all([
    stack.user("ada", "learner"),
    stack.user("bob", "learner"),
    stack.user("instructor", "instructor"),
  ]);
  Object.assign(accounts, { ada, bob, instructor });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the course API", () => {
  test("lists the course of labs/course.yaml with its modules and labs", async () => {
    const res = await api<{ courses: { id: string; modules: { labs: { id: string; weight: number }[] }[] }[] }>(
      stack,
      accounts.ada.token,
      "GET",
      "/api/v1/courses",
    );
    expect(res.status).toBe(200);
    expect(res.body.courses.map((c) => c.id)).toEqual([COURSE]);
    expect(res.body.courses[0]!.modules.flatMap((m) => m.labs.map((l) => l.id))).toEqual(COURSE_LABS);
  });

  test("before any attempt the lab is not started and it is what to do next", async () => {
    const res = await progress(accounts.bob.token);
    expect(res.status).toBe(200);
    expect(res.body.learner.name).toBe("bob");
    expect(labOf(res.body)).toMatchObject({ status: "not_started", bestScore: null, prerequisitesMet: true });
    expect(res.body.next?.id).toBe(LAB);
    expect(res.body.score).toBe(0);
  });

  test("a partly scored attempt is attempted, and the lab stays next", async () => {
    await recordGradedAttempt(accounts.ada.id, (max) => max - 1);
    const res = await progress(accounts.ada.token);
    expect(labOf(res.body)).toMatchObject({ status: "attempted" });
    expect(res.body.next?.id).toBe(LAB);
  });

  test("a full-marks attempt counts as the best, and next moves on", async () => {
    await recordGradedAttempt(accounts.ada.id, (max) => max);
    const res = await progress(accounts.ada.token);
    const lab = labOf(res.body);
    expect(lab.status).toBe("full_marks");
    expect(lab.bestScore).toBeGreaterThan(0);
    // With the first lab done, the next one in course order is what to do next; the labs weigh the same.
    expect(res.body.next?.id).toBe(LATER_LAB);
    expect(res.body.score).toBe(FIRST_LAB_SHARE);
  });

  test("an instructor sees a learner's progress with ?learner=", async () => {
    const res = await progress(accounts.instructor.token, `?learner=${accounts.ada.id}`);
    expect(res.status).toBe(200);
    expect(res.body.learner).toEqual({ id: accounts.ada.id, name: "ada" });
    expect(labOf(res.body).status).toBe("full_marks");
  });

  test("a learner asking for another learner's progress is refused", async () => {
    const res = await progress(accounts.bob.token, `?learner=${accounts.ada.id}`);
    expect(res.status).toBe(403);
  });

  test("an unknown course is a 404 naming the courses there are", async () => {
    const res = await api<{ error: string }>(stack, accounts.ada.token, "GET", "/api/v1/courses/no-such-course");
    expect(res.status).toBe(404);
    expect(res.body.error).toContain(`known courses: ${COURSE}`);
  });
});

describe("the course pages", () => {
  const PASSWORD = "a course test password";
  const cookies = {} as Record<"bob" | "instructor", string>;
  const page = (who: "bob" | "instructor", path: string) =>
    fetch(`${stack.baseUrl}${path}`, { headers: { cookie: cookies[who] }, redirect: "manual" });

  beforeAll(async () => {
    const db = createDb(stack.db.url, { log: () => undefined, maxConnections: 1 });
    try {
      await setPassword(db, "bob", PASSWORD);
      await setPassword(db, "instructor", PASSWORD);
    } finally {
      await db.destroy();
    }
    cookies.bob = await signInCookies(stack.baseUrl, "bob", PASSWORD);
    cookies.instructor = await signInCookies(stack.baseUrl, "instructor", PASSWORD);
  });

  test("a learner's course page names the next lab and links to its upload page", async () => {
    const res = await page("bob", "/course");
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(new RegExp(`Next: <a href="/labs/${LAB}">`));
  });

  test("the instructor's matrix shows ada's full marks, linking to her page on the lab", async () => {
    const res = await page("instructor", "/instructor/course");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`href="/instructor/labs/${LAB}/learners/${accounts.ada.id}"`);
    expect(html).toMatch(
      new RegExp(`<tr data-learner="ada">\\s*<th scope="row">ada</th>\\s*<td>${FIRST_LAB_SHARE}%</td>`),
    );
  });

  test("the matrix as CSV has a line per learner with the course score", async () => {
    const res = await page("instructor", "/instructor/course.csv");
    expect(res.status).toBe(200);
    const lines = (await res.text()).split("\r\n");
    const labColumns = COURSE_LABS.map((lab) => `${lab} \\(of \\d+\\)`).join(",");
    expect(lines[0]).toMatch(new RegExp(`^user,course_score,${labColumns}$`));
    // Her best score on the first lab; none graded on the others.
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^ada,${FIRST_LAB_SHARE},\\d+${",".repeat(COURSE_LABS.length - 1)}$`)),
    );
  });

  test("a learner may not open the matrix", async () => {
    expect((await page("bob", "/instructor/course")).status).toBe(403);
    expect((await page("bob", "/instructor/course.csv")).status).toBe(403);
  });

  test("the matrix regrades a lab's submissions and comes back to the matrix with how many were queued", async () => {
    const matrix = await page("instructor", "/instructor/course");
    const html = await matrix.text();
    expect(html).toContain(`action="/instructor/labs/${LAB}/regrade"`);
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    // The form's token goes with the cookie the page set (double submit).
    const csrfCookie = matrix.headers.getSetCookie().map((c) => c.split(";")[0]);
    const res = await fetch(`${stack.baseUrl}/instructor/labs/${LAB}/regrade`, {
      method: "POST",
      headers: {
        cookie: [cookies.instructor, ...csrfCookie].join("; "),
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _csrf, from: "course" }),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/instructor/course");
    // ada's two graded submissions of the first lab (the partial one and the full marks) are queued again.
    const after = await (await page("instructor", "/instructor/course")).text();
    expect(after).toContain("2 submissions are queued to be graded again.");
  });
});
