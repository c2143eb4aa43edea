import type { CheckResult, GradeResult } from "../contracts.ts";

const mark: Record<CheckResult["status"], string> = { passed: "✓", failed: "✗", error: "!" };

export function checkLine(c: CheckResult): string {
  const tag = c.required ? `${c.points} pt` : "advisory";
  return `${mark[c.status]} ${c.task.padEnd(7)} ${c.id} (${tag}, ${(c.decidedAtMs / 1000).toFixed(1)} s)`;
}

/** The grade as a learner reads it in a terminal: every check, and for each failure what to fix. */
export function textReport(r: GradeResult): string {
  const lines = [
    `${r.labTitle} — ${r.operator} on ${r.provider}: ${r.score}/${r.maxScore} (${r.status}, ${(r.durationMs / 1000).toFixed(1)} s)`,
  ];
  if (r.reason) lines.push(`  ${r.reason}`);
  for (const f of r.findings) lines.push(`  • ${f}`);
  for (const c of r.checks) {
    lines.push(checkLine(c));
    if (c.status === "passed") continue;
    lines.push(`      ${c.message}`);
    if (c.expected) lines.push(`      expected: ${c.expected}`);
    if (c.actual) lines.push(`      actual:   ${c.actual}`);
    if (c.hint) lines.push(`      hint:     ${c.hint.replace(/\s+/g, " ")}`);
  }
  return lines.join("\n");
}

/** Exit code of `grade`: 0 only when every required check passed. */
export function allRequiredPassed(r: GradeResult): boolean {
  return r.status === "graded" && r.checks.every((c) => !c.required || c.status === "passed");
}
