// The instructor's cohort dashboard at course scale: 1 000 learners × 20 tasks (40 checks), two
// graded attempts each, seeded straight into a fresh test database; then the dashboard page is
// requested N times by a signed-in instructor and the server's own time (its Server-Timing
// header: gradebook query, matrix model and handlebars render) is reported, median and max.
import { sql } from "kysely";
import { createDb } from "../../server/src/db/connect.ts";
import { upsertLab } from "../../server/src/db/labs.ts";
import { setPassword } from "../../server/src/db/passwords.ts";
import { signInCookies, startStack } from "../../test/support/service-stack.ts";
import { median } from "./support.ts";

const LEARNERS = 1000;
const TASKS = 20;
const CHECKS_PER_TASK = 2;
const ATTEMPTS_EACH = 2;
const REQUESTS = Number(process.argv[2] ?? 20);
const LAB = "bench-cohort";

const tasks = Array.from({ length: TASKS }, (_, i) => ({
  id: `t${String(i + 1).padStart(2, "0")}`,
  title: `Task ${i + 1}`,
}));
const checks = tasks.flatMap((t) =>
  Array.from({ length: CHECKS_PER_TASK }, (_, k) => ({
    id: `${t.id}-c${k + 1}`,
    task: t.id,
    title: `Check ${k + 1} of ${t.title}`,
    points: 1,
    required: true,
  })),
);

async function seed(databaseUrl: string): Promise<void> {
  const db = createDb(databaseUrl, { log: (line) => console.error(line), maxConnections: 2 });
  await upsertLab(db, {
    id: LAB,
    title: "Benchmark cohort",
    versionHash: "bench",
    summary: { tasks, checks, maxScore: checks.length },
  });
  await sql`insert into users (name, role) select 'learner-' || lpad(i::text, 4, '0'), 'learner' from generate_series(1, ${LEARNERS}) i`.execute(
    db,
  );
  await sql`insert into submissions (user_id, lab_id, kind) select id, ${LAB}, 'archive' from users where role = 'learner'`.execute(
    db,
  );
  await sql`insert into attempts (submission_id, user_id, lab_id, lab_version, status, phase, max_score, queued_at, done_at)
            select s.id, s.user_id, ${LAB}, 'bench', 'graded', 'done', ${checks.length}, now() - make_interval(mins => n * 60), now() - make_interval(mins => n * 60 - 2)
            from submissions s cross join generate_series(1, ${ATTEMPTS_EACH}) n where s.lab_id = ${LAB}`.execute(db);
  const values = checks.map((c) => sql`(${c.id}, ${c.task})`);
  await sql`insert into check_results (attempt_id, check_id, task, title, required, points, status, message, hint, decided_at_ms)
            select a.id, c.check_id, c.task, c.check_id, true, 1, case when random() < 0.8 then 'passed' else 'failed' end, '', '', 1000
            from attempts a cross join (values ${sql.join(values)}) as c(check_id, task) where a.lab_id = ${LAB}`.execute(
    db,
  );
  await sql`update attempts set score = (select count(*) from check_results r where r.attempt_id = attempts.id and r.status = 'passed') where lab_id = ${LAB}`.execute(
    db,
  );
  await sql`analyze`.execute(db);
  await db.destroy();
}

const stack = await startStack();
try {
  const seeding = performance.now();
  await seed(stack.db.url);
  await stack.user("bench-instructor", "instructor");
  const db = createDb(stack.db.url, { log: (line) => console.error(line), maxConnections: 1 });
  await setPassword(db, "bench-instructor", "benchmark password");
  await db.destroy();
  console.error(
    `seeded ${LEARNERS} learners × ${TASKS} tasks (${ATTEMPTS_EACH * LEARNERS} attempts, ${ATTEMPTS_EACH * LEARNERS * checks.length} check results) in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
  );
  const cookie = await signInCookies(stack.baseUrl, "bench-instructor", "benchmark password");

  type Stage = "gradebook" | "matrix" | "render" | "total";
  const results: Record<string, { stages: Record<Stage, number[]>; client: number[]; bytes: number; rows: number }> =
    {};
  for (const [label, query] of [
    ["best, by name", "pick=best"],
    ["latest, by score desc", "pick=latest&sort=score&dir=desc"],
  ] as const) {
    const r = (results[label] = {
      stages: { gradebook: [] as number[], matrix: [] as number[], render: [] as number[], total: [] as number[] },
      client: [] as number[],
      bytes: 0,
      rows: 0,
    });
    for (let i = 0; i < REQUESTS + 2; i++) {
      const started = performance.now();
      const res = await fetch(`${stack.baseUrl}/instructor/labs/${LAB}?${query}`, { headers: { cookie } });
      const html = await res.text();
      const client = performance.now() - started;
      if (res.status !== 200) throw new Error(`dashboard answered ${res.status}`);
      if (i < 2) continue; // warm-up: compiled templates, pooled connections, Postgres caches
      const timing = res.headers.get("server-timing") ?? "";
      for (const stage of Object.keys(r.stages) as Stage[])
        r.stages[stage].push(Number(new RegExp(`${stage};dur=([\\d.]+)`).exec(timing)?.[1]));
      r.client.push(client);
      r.bytes = html.length;
      r.rows = (html.match(/<tr data-learner=/g) ?? []).length;
    }
  }
  console.log(
    `| dashboard (${LEARNERS} learners × ${TASKS} tasks, median of ${REQUESTS}) | server ms | of which gradebook query | matrix model | handlebars | server max ms | client ms | rows | HTML KiB |`,
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const [label, r] of Object.entries(results)) {
    const m = (stage: Stage) => median(r.stages[stage]).toFixed(1);
    console.log(
      `| ${label} | ${m("total")} | ${m("gradebook")} | ${m("matrix")} | ${m("render")} | ${Math.max(...r.stages.total).toFixed(1)} | ${median(r.client).toFixed(1)} | ${r.rows} | ${(r.bytes / 1024).toFixed(0)} |`,
    );
  }
} finally {
  await stack.stop();
}
