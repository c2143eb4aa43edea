import { sql, type RawBuilder } from "kysely";
import { PHASE_COLUMNS, PHASES } from "./attempts.ts";
import type { Db } from "./connect.ts";
import { ATTEMPT_STATUSES, type AttemptPhase, type AttemptStatus } from "./schema.ts";

/**
 * Counts over the whole attempts table, for /metrics. They are taken from the gradebook on every
 * scrape, so they count each attempt once however many runs or workers it took, and a restarted
 * service reports the same totals as before. Finished attempts never change, so the durations'
 * counts only grow, as a Prometheus histogram's must.
 */

/** The phases a worker passes through; each lasts until the next recorded phase (or done). */
export const TIMED_PHASES = PHASES.filter(
  (p): p is Exclude<AttemptPhase, "queued" | "done"> => p !== "queued" && p !== "done",
);
export type TimedPhase = (typeof TIMED_PHASES)[number];

/** Durations of one lab (and phase) counted into buckets: `cumulative[i]` is how many lasted at most `buckets[i]` seconds. */
export interface DurationCounts {
  lab: string;
  cumulative: number[];
  count: number;
  /** Seconds, all of them together. */
  sum: number;
}

const column = (phase: AttemptPhase) => sql.ref(`a.${PHASE_COLUMNS[phase]}`);

/** `array[count(*) filter (where seconds <= b1), …]`: the histogram's cumulative buckets, counted by Postgres. */
function cumulativeCounts(buckets: readonly number[]): RawBuilder<number[]> {
  return sql<
    number[]
  >`array[${sql.join(buckets.map((b) => sql`count(*) filter (where seconds <= ${b}::float8)`))}]::int[]`;
}

/**
 * One row per phase of an attempt: when it began, and the later phases' times. A phase ends at
 * the earliest later time after it began: a build that failed goes straight to reporting, and a
 * restarted run leaves the earlier run's later times behind, which are older than its start.
 */
function phaseSpans(): RawBuilder<unknown> {
  const rows = TIMED_PHASES.map((phase, i) => {
    const later = [...TIMED_PHASES.slice(i + 1), "done" as const].map(column);
    return sql`(${sql.lit(phase)}, ${column(phase)}, array[${sql.join(later)}])`;
  });
  return sql`(values ${sql.join(rows)}) as p(phase, started, later)`;
}

/**
 * How long each phase of finished attempts (graded or not gradable) lasted, per lab and phase.
 * Only the last run of an attempt counts: its phases began at or after its `building_at`.
 */
export async function phaseDurationCounts(
  db: Db,
  buckets: readonly number[],
): Promise<(DurationCounts & { phase: TimedPhase })[]> {
  const { rows } = await sql<DurationCounts & { phase: TimedPhase }>`
    with spans as (
      select a.lab_id, p.phase,
        extract(epoch from (select min(t) from unnest(p.later) as t where t >= p.started) - p.started)::float8 as seconds
      from attempts a cross join lateral ${phaseSpans()}
      where a.status in ('graded', 'not_gradable') and a.done_at is not null and p.started >= a.building_at
    )
    select lab_id as lab, phase, count(*)::int as count, sum(seconds) as sum, ${cumulativeCounts(buckets)} as cumulative
    from spans where seconds is not null
    group by lab_id, phase
    order by lab_id, phase`.execute(db);
  return rows;
}

/**
 * How long finished attempts waited in the queue, from acceptance to the start of grading, per
 * lab. Attempts started more than once (a retry, a worker that died) are left out: the gradebook
 * keeps only their last run's start.
 */
export async function queueWaitCounts(db: Db, buckets: readonly number[]): Promise<DurationCounts[]> {
  const { rows } = await sql<DurationCounts>`
    with waits as (
      select lab_id, extract(epoch from building_at - queued_at)::float8 as seconds
      from attempts
      where status in ('graded', 'not_gradable') and done_at is not null and runs = 1 and building_at >= queued_at
    )
    select lab_id as lab, count(*)::int as count, sum(seconds) as sum, ${cumulativeCounts(buckets)} as cumulative
    from waits
    group by lab_id
    order by lab_id`.execute(db);
  return rows;
}

/** Attempts per lab and status right now; every lab in the gradebook gets every status, zero included. */
export async function attemptCounts(db: Db): Promise<{ lab: string; status: AttemptStatus; count: number }[]> {
  const [labs, rows] = await Promise.all([
    db.selectFrom("labs").select("id").execute(),
    db
      .selectFrom("attempts")
      .select(["lab_id", "status", (eb) => eb.fn.countAll<string>().as("count")])
      .groupBy(["lab_id", "status"])
      .execute(),
  ]);
  const counted = new Map(rows.map((r) => [`${r.lab_id}\n${r.status}`, Number(r.count)]));
  const labIds = [...new Set([...labs.map((l) => l.id), ...rows.map((r) => r.lab_id)])].sort();
  return labIds.flatMap((lab) =>
    ATTEMPT_STATUSES.map((status) => ({ lab, status, count: counted.get(`${lab}\n${status}`) ?? 0 })),
  );
}

/** Not-gradable attempts per lab and reason as the gradebook words it (null: a check the platform could not decide). */
export async function notGradableReasons(db: Db): Promise<{ lab: string; reason: string | null; count: number }[]> {
  const rows = await db
    .selectFrom("attempts")
    .select(["lab_id", "reason", (eb) => eb.fn.countAll<string>().as("count")])
    .where("status", "=", "not_gradable")
    .groupBy(["lab_id", "reason"])
    .execute();
  return rows.map((r) => ({ lab: r.lab_id, reason: r.reason, count: Number(r.count) }));
}
