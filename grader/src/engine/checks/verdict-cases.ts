import { expect, it } from "vitest";
import type { CheckContext, Verdict } from "../check.ts";
import { createTraceBuilder, type TraceBuilder } from "../trace-builder.ts";

/**
 * One row of a check type's timeline table: a trace built by hand, the moment it is judged at,
 * and the verdict a learner would see. What a row leaves out is not asserted.
 */
export interface VerdictCase<P = never> {
  name: string;
  /** The check's params, where the table mixes several. */
  params?: P;
  build?: (t: TraceBuilder) => unknown;
  ctx?: Partial<CheckContext>;
  status: Verdict["status"];
  decidedAt?: number;
  recheckAt?: number;
  expected?: RegExp;
  actual?: RegExp;
  /** Matched against "<message> | <actual>" of a decided verdict. */
  text?: RegExp;
}

/** Runs each row as its own test: builds the trace, judges it with `judge`, compares what the row names. */
export function verdictCases<P, C extends VerdictCase<P>>(
  cases: C[],
  judge: (row: C, ctx: CheckContext) => Verdict,
): void {
  it.each(cases)("$name", (row) => {
    const t = createTraceBuilder();
    row.build?.(t);
    const verdict = judge(row, t.context(row.ctx));
    expect(verdict.status).toBe(row.status);
    if (verdict.status === "pending") {
      if (row.recheckAt !== undefined) expect(verdict.recheckAt).toBe(row.recheckAt);
      return;
    }
    if (verdict.status === "undecidable") return;
    if (row.decidedAt !== undefined) expect(verdict.decidedAt).toBe(row.decidedAt);
    if (row.text) expect(`${verdict.message} | ${verdict.status === "failed" ? verdict.actual : ""}`).toMatch(row.text);
    if (verdict.status !== "failed") return;
    if (row.expected) expect(verdict.expected).toMatch(row.expected);
    if (row.actual) expect(verdict.actual).toMatch(row.actual);
  });
}
