import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import type { GradeResult } from "../contracts.ts";
import { loadControl, loadMutant, type Control, type Mutant } from "../runner/source.ts";

export interface MutantEntry {
  name: string;
  dir: string;
  mutant: Mutant;
}

export interface ControlEntry {
  name: string;
  dir: string;
  control: Control;
}

async function folders(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export async function loadMutants(mutantsDir: string): Promise<MutantEntry[]> {
  return Promise.all(
    (await folders(mutantsDir)).map(async (name) => ({
      name,
      dir: join(mutantsDir, name),
      mutant: await loadMutant(join(mutantsDir, name)),
    })),
  );
}

export async function loadControls(controlsDir: string): Promise<ControlEntry[]> {
  return Promise.all(
    (await folders(controlsDir)).map(async (name) => ({
      name,
      dir: join(controlsDir, name),
      control: await loadControl(join(controlsDir, name)),
    })),
  );
}

export interface Expectation {
  /** `<lab>/reference` or `<lab>/<mutant>`: labs' mutants may share a name. */
  operator: string;
  /** Check ids that must fail; every other check must pass. */
  fails: string[];
  /** Check ids that may fail or pass (a mutant's timing-dependent ones). */
  mayFail?: string[];
}

export interface ValidationOutcome {
  /** `<lab>/<operator>`, as in the Expectation (controls: `<lab>/control/<name>`). */
  operator: string;
  ok: boolean;
  score: string;
  /** Expected to fail but passed. */
  missed: string[];
  /** Failed but not expected to. */
  unexpected: string[];
  /** Not gradable: the platform could not tell. */
  errors: string[];
}

/** A reference must get full marks; a mutant must fail exactly its listed checks, no more, no fewer. */
export function compare(expectation: Expectation, result: GradeResult): ValidationOutcome {
  const failed = result.checks.filter((c) => c.status === "failed").map((c) => c.id);
  const errors = result.checks.filter((c) => c.status === "error").map((c) => `${c.id}: ${c.message}`);
  if (result.status === "not_gradable" && result.reason) errors.unshift(result.reason);
  const missed = expectation.fails.filter((id) => !failed.includes(id));
  const unexpected = failed.filter(
    (id) => !expectation.fails.includes(id) && !(expectation.mayFail ?? []).includes(id),
  );
  return {
    operator: expectation.operator,
    ok: missed.length === 0 && unexpected.length === 0 && errors.length === 0,
    score: `${result.score}/${result.maxScore}`,
    missed,
    unexpected,
    errors,
  };
}

/**
 * A control is a correct operator written differently: it must lose no required point (advisory
 * checks, which follow the course's own choices, may fail). A score control must get at most its
 * points and fail every required check of the tasks it names.
 */
export function compareControl(name: string, control: Control, result: GradeResult): ValidationOutcome {
  const errors = result.checks.filter((c) => c.status === "error").map((c) => `${c.id}: ${c.message}`);
  if (result.status === "not_gradable" && result.reason) errors.unshift(result.reason);
  const base = { operator: name, score: `${result.score}/${result.maxScore}`, errors };
  if (!control.score) {
    const unexpected = result.checks.filter((c) => c.required && c.status === "failed").map((c) => c.id);
    return { ...base, ok: unexpected.length === 0 && errors.length === 0, missed: [], unexpected };
  }
  const { atMost, losesTasks = [] } = control.score;
  const kept = result.checks
    .filter((c) => c.required && losesTasks.includes(c.task) && c.points > 0 && c.status === "passed")
    .map((c) => `${c.id} (task ${c.task}) passed`);
  const tooMuch = atMost !== undefined && result.score > atMost ? [`scored ${result.score}, more than ${atMost}`] : [];
  const missed = [...tooMuch, ...kept];
  return { ...base, ok: missed.length === 0 && errors.length === 0, missed, unexpected: [] };
}

/** Required checks no mutant fails: a check that is never shown to fail cannot be trusted to. */
export function uncoveredRequiredChecks(requiredIds: string[], mutants: MutantEntry[]): string[] {
  const covered = new Set(mutants.flatMap((m) => m.mutant.fails));
  return requiredIds.filter((id) => !covered.has(id));
}

/** Runs tasks with at most `limit` at a time, keeping the input order in the output. */
export async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Each operator's last grade time on this host (ms), keyed `<lab>/<operator>`. */
const TimingsSchema = z.record(z.string(), z.number().nonnegative());
export type Timings = z.infer<typeof TimingsSchema>;

/** The last run's grade times; none when there was no run yet or its file is unreadable. */
export async function readTimings(file: string): Promise<Timings> {
  try {
    return TimingsSchema.parse(JSON.parse(await readFile(file, "utf8")));
  } catch {
    return {};
  }
}

/** Keeps this run's grade times beside those of operators it did not grade (a run of one lab). */
export async function writeTimings(file: string, times: Timings): Promise<void> {
  const merged = { ...(await readTimings(file)), ...times };
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}`;
  await writeFile(partial, JSON.stringify(merged, null, 1));
  await rename(partial, file);
}

/**
 * The order that ends a pool soonest when grades take what they took last time: the longest first
 * (so none of them starts last), and operators never timed before ahead of all, as they may be long.
 */
export function longestFirst<T>(items: T[], lastMs: (item: T) => number | undefined): T[] {
  const rank = (item: T) => lastMs(item) ?? Number.POSITIVE_INFINITY;
  return items
    .map((item, index) => ({ item, index, ms: rank(item) }))
    .sort((a, b) => b.ms - a.ms || a.index - b.index)
    .map((e) => e.item);
}
