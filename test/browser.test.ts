import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadCourse } from "../grader/src/labs/course.ts";
import { referenceOperatorDir } from "./support/env.ts";
import { cspViolations, launchChromium, screenshot, setPassword, signIn } from "./support/browser.ts";
import { mutantArchive } from "./support/mutants.ts";
import { explainAttempt, startStack, tarProject, waitForPhase, type Stack } from "./support/service-stack.ts";

const LAB = "composing-operators";
/** The course's labs in order (labs/course.yaml); every lab weighs the same. */
const COURSE_LABS = (await loadCourse())!.modules.flatMap((m) => m.labs.map((l) => l.lab));
/** The course score, as the course page writes it, of full marks on `labs` labs. */
const courseShare = (labs: number) => `${Math.round((labs / COURSE_LABS.length) * 1000) / 10}%`;
const PASSWORD = "a long enough password";
/**
 * An attempt waits its turn in the host's budget of grades (shared with every other test file
 * grading beside this one), then is graded: the two are bounded apart, and a timeout of either
 * says where the attempt was and what the host was busy with.
 */
const TURN_MS = 600_000;
const GRADE_MS = 240_000;
/**
 * Nothing sticks out sideways: the page works at a phone's width without scrolling across (wide
 * tables scroll inside their own region). Answers the elements that stick out.
 */
const WIDER_THAN_SCREEN = `[...document.querySelectorAll("body *")]
  .filter((e) => !e.closest(".table-scroll") && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map((e) => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).replaceAll(" ", ".") : "") + " " + Math.round(e.getBoundingClientRect().right))`;

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const violations: string[] = [];
const uploads = { reference: "", mutant: "", mutantFails: [] as string[] };
const attempts = { ada: "", bob: "" };

async function open(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  violations.push(...cspViolations(page));
  return page;
}

/** Waits on the attempt page for a selector; a timeout explains where the attempt was. */
async function waitOnAttempt(page: Page, selector: string, attemptId: string, timeout = GRADE_MS): Promise<void> {
  try {
    await page.waitForSelector(selector, { timeout });
  } catch (e) {
    throw new Error(`${selector} did not appear within ${timeout} ms\n${await explainAttempt(stack, attemptId)}`, {
      cause: e,
    });
  }
}

/** Picks the archive in a lab page's form and submits it; resolves on the attempt page. */
async function upload(page: Page, archive: string, lab = LAB): Promise<string> {
  await page.goto(`${stack.baseUrl}/labs/${lab}`);
  await page.getByLabel(/Project archive/).setInputFiles(archive);
  await Promise.all([
    page.waitForURL(/\/attempts\/[0-9a-f-]{36}$/),
    page.getByRole("button", { name: "Upload and grade" }).click(),
  ]);
  return new URL(page.url()).pathname.split("/").at(-1)!;
}

beforeAll(async () => {
  const [started, chromium, mutant, reference] = await Promise.all([
    startStack({ workerEnv: { LABGRADER_WORKER_CONCURRENCY: "2" } }),
    launchChromium(),
    mutantArchive("completes-without-waiting"),
    tarProject(referenceOperatorDir),
  ]);
  stack = started;
  browser = chromium;
  Object.assign(uploads, { reference, mutant: mutant.archive, mutantFails: mutant.fails });
  // Side by side: on a busy machine each `labgrader users add` and the worker take many seconds to start.
  const accounts = [
    ["ada", "learner"],
    ["bob", "learner"],
    ["ines", "instructor"],
  ] as const;
  await Promise.all([
    stack.startWorker(),
    ...accounts.map(async ([name, role]) => {
      await stack.user(name, role);
      await setPassword(stack.db.url, name, PASSWORD);
    }),
  ]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
}, 120_000);

describe("the pages, in Chromium", () => {
  test("sign-in refuses a wrong password, and pages send a signed-out visitor to sign in", async () => {
    const page = await open();
    await page.goto(`${stack.baseUrl}/labs/${LAB}`);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    await screenshot(page, "01-sign-in");
    await page.getByLabel("Account name").fill("ada");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/do not match/);
    // The API's bearer tokens are untouched: no session cookie opens it.
    expect((await page.request.get(`${stack.baseUrl}/api/v1/me`)).status()).toBe(401);
  });

  test(
    "two learners upload at once: the reference's checks turn green live and it gets full marks (50/50); the mutant's failed check shows its hint and evidence",
    async () => {
      const ada = await open();
      await signIn(ada, stack.baseUrl, "ada", PASSWORD);
      expect(new URL(ada.url()).pathname).toBe("/labs");
      await screenshot(ada, "02-labs");
      await ada.goto(`${stack.baseUrl}/labs/${LAB}`);
      // Workers grade on kwok here: no image field, only the archive upload.
      expect(await ada.getByLabel(/operator image/).count()).toBe(0);
      await screenshot(ada, "03-lab");
      attempts.ada = await upload(ada, uploads.reference);
      // A marker on this document: if the page reloaded, it would be gone.
      await ada.evaluate("window.__sameDocument = true");

      // Bob works on a phone.
      const bob = await open({ width: 390, height: 844 });
      await signIn(bob, stack.baseUrl, "bob", PASSWORD);
      attempts.bob = await upload(bob, uploads.mutant);
      expect(await bob.evaluate(WIDER_THAN_SCREEN)).toEqual([]);

      await waitForPhase(stack, attempts.ada, "provisioning", TURN_MS);
      await waitOnAttempt(ada, '[data-check-id][data-status="passed"]', attempts.ada);
      const live = await ada.evaluate(
        `({ same: "__sameDocument" in window, scored: document.querySelector("[data-score]") !== null, passed: document.querySelectorAll('[data-status="passed"]').length })`,
      );
      expect(live).toEqual({ same: true, scored: false, passed: expect.any(Number) });
      await screenshot(ada, "04-attempt-live");

      await waitOnAttempt(ada, "[data-score]", attempts.ada);
      expect(await ada.locator("[data-score]").textContent()).toBe("50/50");
      expect(await ada.locator('[data-check-id][data-status="failed"]').count()).toBe(0);
      await screenshot(ada, "05-attempt-done");

      // The course page follows: this lab has full marks and counts for its share of the course (labs
      // of equal weight); the first lab of the course, not started, is what to do next.
      await ada.goto(`${stack.baseUrl}/course`);
      const card = ada.locator(`[data-lab="${LAB}"]`);
      expect(await card.locator(".best-score").textContent()).toMatch(/50\/50/);
      expect(await card.locator(".status").textContent()).toMatch(/full marks/i);
      expect(await ada.locator(".course-score").textContent()).toBe(courseShare(1));
      expect(await ada.locator(".next-lab a").getAttribute("href")).toBe(`/labs/${COURSE_LABS[0]}`);
      await screenshot(ada, "05b-course");

      // She follows "Next" to the course's first lab, submits the same project there, and it too gets
      // full marks: two labs done, and what is next moves on to the course's second lab.
      await ada.locator(".next-lab a").click();
      await ada.waitForURL(`**/labs/${COURSE_LABS[0]}`);
      const second = await upload(ada, uploads.reference, COURSE_LABS[0]);
      await waitOnAttempt(ada, "[data-score]", second);
      const [earned, max] = (await ada.locator("[data-score]").textContent())!.split("/");
      expect(earned).toBe(max);
      expect(await ada.locator('[data-check-id][data-status="failed"]').count()).toBe(0);
      await ada.goto(`${stack.baseUrl}/course`);
      expect(await ada.locator(`[data-lab="${COURSE_LABS[0]}"] .status`).textContent()).toMatch(/full marks/i);
      expect(await ada.locator(".course-score").textContent()).toBe(courseShare(2));
      expect(await ada.locator(".next-lab a").getAttribute("href")).toBe(`/labs/${COURSE_LABS[1]}`);
      await screenshot(ada, "05c-course-two-labs");

      await waitForPhase(stack, attempts.bob, "provisioning", TURN_MS);
      await waitOnAttempt(bob, "[data-score]", attempts.bob);
      const failedId = uploads.mutantFails[0]!;
      const failed = bob.locator(`[data-failed-check="${failedId}"]`);
      await expect.poll(() => failed.count()).toBe(1);
      expect(await bob.locator(`[data-check-id="${failedId}"]`).getAttribute("data-status")).toBe("failed");
      expect(await failed.locator(".hint").textContent()).toMatch(/Hint:.*Ready/s);
      expect(await failed.locator("dt", { hasText: "Expected" }).count()).toBe(1);
      // Evidence: the Backup as YAML, and the timeline of the Backup and the Database.
      expect(await failed.locator("pre.yaml").first().textContent()).toMatch(/kind: Backup/);
      const columns = await failed.locator("table.timeline thead th").allTextContents();
      expect(columns.some((c) => c.startsWith("Backup/"))).toBe(true);
      expect(columns.some((c) => c.startsWith("Database/"))).toBe(true);
      expect(await failed.locator("table.timeline").textContent()).toMatch(/phase=Completed/);
      await failed.scrollIntoViewIfNeeded();
      await failed.screenshot({ path: "test-results/screenshots/06-failed-check-evidence.png" });
      expect(await bob.evaluate(WIDER_THAN_SCREEN)).toEqual([]);
    },
    2 * TURN_MS + 3 * GRADE_MS,
  );

  test("a learner never sees another learner's attempt, its stream or its log (404), nor the instructor's pages; signing out ends the session", async () => {
    const bob = await open();
    await signIn(bob, stack.baseUrl, "bob", PASSWORD);
    for (const path of [
      `/attempts/${attempts.ada}`,
      `/attempts/${attempts.ada}/events`,
      `/attempts/${attempts.ada}/log`,
    ]) {
      expect((await bob.request.get(`${stack.baseUrl}${path}`)).status(), path).toBe(404);
    }
    expect((await bob.request.get(`${stack.baseUrl}/instructor/labs/${LAB}`)).status()).toBe(403);
    expect((await bob.request.get(`${stack.baseUrl}/admin/queues`)).status()).toBe(403);
    // A form posted without its CSRF token is refused even with a valid session.
    expect((await bob.request.post(`${stack.baseUrl}/sign-out`, { form: { x: "1" } })).status()).toBe(403);
    // With a valid token, a learner still may not regrade, nor download the gradebook.
    await bob.goto(`${stack.baseUrl}/labs/${LAB}`);
    const _csrf = (await bob.locator('input[name="_csrf"]').first().getAttribute("value"))!;
    expect(
      (
        await bob.request.post(`${stack.baseUrl}/instructor/attempts/${attempts.bob}/regrade`, { form: { _csrf } })
      ).status(),
    ).toBe(403);
    expect(
      (await bob.request.post(`${stack.baseUrl}/instructor/labs/${LAB}/regrade`, { form: { _csrf } })).status(),
    ).toBe(403);
    expect((await bob.request.get(`${stack.baseUrl}/instructor/labs/${LAB}/gradebook.csv`)).status()).toBe(403);
    // Signing out ends the session: the pages send bob to sign in again.
    await Promise.all([bob.waitForURL("**/sign-in"), bob.getByRole("button", { name: "Sign out" }).click()]);
    await bob.goto(`${stack.baseUrl}/attempts/${attempts.bob}`);
    expect(new URL(bob.url()).pathname).toBe("/sign-in");
  });

  test("the instructor sees both learners in the matrix, filters and sorts it, downloads the CSV, drills down, regrades and sees the queue", async () => {
    // The workers stop first, so the regrade below waits in the queue for the board to show it.
    await Promise.all(stack.workers.map((w) => w.stop()));
    const ines = await open({ width: 1400, height: 900 });
    // By keyboard alone.
    await ines.goto(`${stack.baseUrl}/sign-in`);
    // The name field takes focus by itself (autofocus), which a busy browser applies a moment after load.
    await ines.locator("#name:focus").waitFor();
    await ines.keyboard.type("ines");
    await ines.keyboard.press("Tab");
    await ines.keyboard.type(PASSWORD);
    // With more than one lab, an instructor lands on the list of labs and opens this one's cohort.
    await Promise.all([ines.waitForURL("**/instructor"), ines.keyboard.press("Enter")]);
    await Promise.all([
      ines.waitForURL(`**/instructor/labs/${LAB}`),
      ines.getByRole("link", { name: "Lab 8.2: Composing Operators" }).click(),
    ]);

    const rows = ines.locator("#matrix tbody tr");
    const learners = async () =>
      Promise.all(Array.from({ length: await rows.count() }, (_, i) => rows.nth(i).getAttribute("data-learner")));
    expect(await learners()).toEqual(["ada", "bob"]);
    const adaRow = ines.locator('#matrix tr[data-learner="ada"]');
    expect(await adaRow.locator("td").first().textContent()).toMatch(/50\/50/);
    expect(await adaRow.locator("td.cell-pass").count()).toBeGreaterThan(5);
    expect(
      await ines
        .locator('#matrix tr[data-learner="bob"] td.cell-partial, #matrix tr[data-learner="bob"] td.cell-fail')
        .count(),
    ).toBeGreaterThan(0);
    await screenshot(ines, "07-dashboard");

    // The course matrix: both learners, ada's full marks on two labs, bob's partial score, each cell drilling into the lab.
    await ines.goto(`${stack.baseUrl}/instructor/course`);
    const courseRow = (who: string) => ines.locator(`#course-matrix tr[data-learner="${who}"]`);
    expect(await courseRow("ada").locator("td.cell-pass").count()).toBe(2);
    expect(await courseRow("bob").locator("td.cell-partial, td.cell-fail").count()).toBe(1);
    await screenshot(ines, "07b-course-matrix");
    await ines.goto(`${stack.baseUrl}/instructor/labs/${LAB}`);

    await ines.getByRole("link", { name: "Score" }).click();
    await ines.getByRole("link", { name: "Score" }).click();
    expect(await rows.first().getAttribute("data-learner")).toBe("ada");
    await ines.getByLabel("Status").selectOption("incomplete");
    await ines.getByRole("button", { name: "Apply" }).click();
    await ines.waitForURL(/status=incomplete/);
    expect(await learners()).toEqual(["bob"]);

    const [download] = await Promise.all([
      ines.waitForEvent("download"),
      ines.getByRole("link", { name: /Download the gradebook/ }).click(),
    ]);
    const csv = await readFile(await download.path(), "utf8");
    expect(csv).toMatch(/^user,attempts,status,score,max_score,task 1\.2,/);
    expect(csv).toMatch(/\r\nada,1,graded,50,50,/);
    expect(csv).toMatch(/\r\nbob,1,graded,\d+,50,/);

    await ines.getByRole("link", { name: "bob" }).click();
    await ines.waitForURL(/\/learners\/\d+$/);
    await screenshot(ines, "08-drill-down");
    // The instructor reads the learner's evidence too, at a desktop's width.
    await ines.goto(`${stack.baseUrl}/attempts/${attempts.bob}`);
    await ines
      .locator("[data-failed-check]")
      .first()
      .screenshot({ path: "test-results/screenshots/06b-failed-check-evidence-desktop.png" });
    await ines.goBack();
    await Promise.all([
      ines.waitForURL(/\/attempts\/[0-9a-f-]{36}$/),
      ines.getByRole("button", { name: "Regrade" }).first().click(),
    ]);
    expect(new URL(ines.url()).pathname).not.toBe(`/attempts/${attempts.bob}`);
    expect(await ines.getByRole("status").first().textContent()).toMatch(/queued to be graded again/);

    await ines.goto(`${stack.baseUrl}/admin/queues`);
    await ines.getByText("Grading", { exact: false }).first().waitFor({ timeout: 30_000 });
    await screenshot(ines, "09-queue");
    expect(violations.filter((v) => !v.includes("/admin/queues"))).toEqual([]);
  });
});
