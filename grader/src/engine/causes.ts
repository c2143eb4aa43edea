import { z } from "zod";
import { celHolds, compileCel, refineCel } from "./cel.ts";
import { formatMs, summarizeEntry } from "./evidence.ts";
import { describeSelector, historyOf } from "./objects.ts";
import { ObjectSelectorSchema } from "./params.ts";
import type { Trace, TraceEntry } from "./trace.ts";

/**
 * Another object a check's outcome depends on: the state it must reach first, and the task whose
 * code gets it there. When the check fails and that object never got there, the failure names it,
 * so the learner fixes the cause (say, a Backup stuck InProgress, Task 1.4) rather than its effect.
 */
export const WaitsForSchema = z
  .strictObject({
    /** The object depended on. */
    object: ObjectSelectorSchema,
    /** CEL predicate over `self`: the state it must reach, e.g. phase Completed. */
    expr: z.string().min(1),
    /** That state in a learner's words. */
    state: z.string().min(1),
    /** The task whose code makes the object reach it. */
    task: z.string().min(1),
  })
  .superRefine((params, ctx) => refineCel(ctx, params.expr, ["self"], "bool", ["expr"]));
export type WaitsFor = z.infer<typeof WaitsForSchema>;

/** Log lines that say something went wrong: what a learner looks for first. */
const TROUBLE = /conflict|error|failed|forbidden|panic/i;

/** Since when the object has been in its last recorded state (the first of the unchanged run at the end). */
function stuckSince(history: TraceEntry[]): TraceEntry {
  const last = history[history.length - 1]!;
  const summary = summarizeEntry(last);
  let since = last;
  for (let i = history.length - 2; i >= 0 && summarizeEntry(history[i]!) === summary; i--) since = history[i]!;
  return since;
}

/**
 * For each dependency that never reached its state by `now`: where it got stuck, since when, the
 * task to look at, and the operator's last troubled log line about it. Dependencies that got there
 * say nothing.
 */
export function rootCauses(waits: WaitsFor[], trace: Trace, namespace: string, now: number): string[] {
  const causes: string[] = [];
  for (const wait of waits) {
    const history = historyOf(trace, wait.object, namespace);
    const program = compileCel(wait.expr, ["self"]);
    if (history.some((e) => e.type !== "DELETED" && celHolds(program, { self: e.object }))) continue;
    const what = describeSelector(wait.object);
    if (history.length === 0) {
      causes.push(`${what} was never created, so it never reached ${wait.state} (Task ${wait.task})`);
      continue;
    }
    const since = stuckSince(history);
    const name = wait.object.name;
    const logged = trace.logs.filter((l) => l.text.includes(name) && TROUBLE.test(l.text)).at(-1);
    causes.push(
      `${what} never reached ${wait.state}: it stayed ${summarizeEntry(since)} from ${formatMs(since.at)} to the end (${formatMs(now)}) (Task ${wait.task})` +
        (logged ? `; the operator logged at ${formatMs(logged.at)}: ${logged.text.trim().slice(0, 200)}` : ""),
    );
  }
  return causes;
}
