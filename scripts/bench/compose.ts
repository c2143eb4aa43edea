// docker compose against npm start, on this host: `up --wait` to healthy from fresh volumes (cold)
// and again with the volumes kept (warm), then the reference graded on a lab N times inside the
// compose worker and N times by a worker started as `npm start` starts it (the same database and
// Redis kinds, on the host), each timed from submit to verdict (both read the verdict each second). Needs the images compose-images.sh makes.
// Usage: npm run bench:compose -- [runs] [--lab ID]
import { parseArgs } from "node:util";
import { composeProject, type Attempt } from "../../test/support/compose.ts";
import { freePort } from "../../test/support/services.ts";
import { api, startStack, waitForAttempt } from "../../test/support/service-stack.ts";
import { fmt, median } from "./support.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { lab: { type: "string" } } });
const runs = Number(positionals[0] ?? "3");
const lab = values.lab ?? "composing-operators";
const GRADE_MS = 900_000;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

function expectFullMarks(where: string, attempt: Attempt): void {
  if (attempt.status !== "graded" || attempt.score !== attempt.maxScore)
    throw new Error(`${where}: the reference got ${attempt.status} ${attempt.score}/${attempt.maxScore}`);
}

const rows: [string, string][] = [];

const project = composeProject(`labgrader-bench-${process.pid}`, await freePort());
try {
  const cold = await timed(() => project.compose(["up", "--detach", "--wait", "--no-build", "--quiet-pull"], 900_000));
  rows.push(["compose up --wait, fresh volumes (cold)", fmt(cold.ms)]);
  await project.compose(["stop", "--timeout", "30"]);
  const warm = await timed(() => project.compose(["up", "--detach", "--wait", "--no-build"], 900_000));
  rows.push(["compose up --wait, volumes kept (warm)", fmt(warm.ms)]);
  const token = await project.addUser("bench-instructor", "instructor");
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const graded = await timed(() => project.gradeOf(token, lab, { reference: true }, GRADE_MS));
    expectFullMarks("compose", graded.value);
    times.push(graded.ms);
    console.error(`compose grade ${i + 1}: ${fmt(graded.ms)}`);
  }
  rows.push([
    `reference on ${lab}, submit to verdict, compose worker`,
    `median ${fmt(median(times))} (${times.map(fmt).join(", ")})`,
  ]);
} finally {
  await project.compose(["down", "--volumes", "--remove-orphans", "--timeout", "30"]);
}

const stack = await startStack();
try {
  await stack.startWorker();
  const { token } = await stack.user("bench-instructor", "instructor");
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const graded = await timed(async () => {
      const { body } = await api<{ attemptId: string }>(stack, token, "POST", `/api/v1/labs/${lab}/submissions`, {
        reference: true,
      });
      return waitForAttempt<Attempt>(stack, token, body.attemptId, GRADE_MS);
    });
    expectFullMarks("npm start", graded.value);
    times.push(graded.ms);
    console.error(`npm start grade ${i + 1}: ${fmt(graded.ms)}`);
  }
  rows.push([
    `reference on ${lab}, submit to verdict, npm start worker`,
    `median ${fmt(median(times))} (${times.map(fmt).join(", ")})`,
  ]);
} finally {
  await stack.stop();
}

const width = Math.max(...rows.map((r) => r[0]!.length));
for (const [what, value] of rows) console.log(`${what.padEnd(width)}  ${value}`);
