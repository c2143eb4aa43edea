import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { emptyEvidence, failed, formatMs, passed, pending } from "../evidence.ts";
import { RegexSchema, regexOf } from "../params.ts";
import type { LogLine } from "../trace.ts";

/**
 * A line of the operator's output matches a pattern by the timeout — any line since the operator
 * started, since the line may come the moment the step before the check acted, so make the pattern
 * name the scenario's own objects — or, with `absent`, no line does during the check's window.
 */
export const ParamsSchema = z.strictObject({
  /** Regular expression a line must match, e.g. "Waiting for backup". */
  pattern: RegexSchema,
  /** Match regardless of case. */
  ignoreCase: z.boolean().default(false),
  /** Only this stream; both when left out. */
  stream: z.enum(["stdout", "stderr"]).optional(),
  /** Pass only if no line matches during the window. */
  absent: z.boolean().default(false),
});
export type Params = z.infer<typeof ParamsSchema>;

/** Log lines as evidence: a timeline of one pseudo-object, "operator log". */
function logEvidence(lines: LogLine[]) {
  return {
    objects: [],
    timeline: lines.slice(-20).map((line, i) => ({
      at: line.at,
      seq: i,
      type: "MODIFIED" as const,
      kind: "Log",
      name: line.stream,
      summary: line.text.length > 300 ? `${line.text.slice(0, 300)}…` : line.text,
    })),
  };
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const regex = regexOf(params.pattern, params.ignoreCase);
  const from = params.absent ? ctx.since : Number.NEGATIVE_INFINITY;
  const lines = ctx.trace.logs.filter((line) => line.at >= from && (!params.stream || line.stream === params.stream));
  const match = lines.find((line) => regex.test(line.text));
  const wanted = `/${params.pattern}/${params.ignoreCase ? "i" : ""}`;

  if (params.absent) {
    if (match) {
      return failed({
        message: "the operator printed a line it should not have",
        expected: `no operator log line matching ${wanted}`,
        actual: `it printed: ${match.text}`,
        decidedAt: match.at,
        evidence: logEvidence([match]),
      });
    }
    return ctx.final ? passed(`no operator log line matched ${wanted}`, ctx.now, emptyEvidence) : pending();
  }
  if (match)
    return passed(
      `the operator logged "${match.text}" at ${formatMs(match.at)}`,
      Math.max(match.at, ctx.since),
      logEvidence([match]),
    );
  if (!ctx.final) return pending();
  return failed({
    message: "the operator did not print the expected log line",
    expected: `an operator log line matching ${wanted}`,
    actual: lines.length === 0 ? "the operator printed nothing in that time" : `${lines.length} line(s), none matching`,
    decidedAt: ctx.now,
    evidence: logEvidence(lines),
  });
}

export const logsCheck = defineCheck({
  type: "logs",
  ParamsSchema,
  clusterLevel: false,
  evaluate,
});
