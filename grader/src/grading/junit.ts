import type { GradeResult } from "../contracts.ts";

/** XML 1.0 allows tab, newline, carriage return and printable characters; operator logs may hold others. */
const allowedInXml = (c: string) => {
  const code = c.codePointAt(0)!;
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    code >= 0x10000
  );
};

const escape = (text: string) =>
  [...text]
    .filter(allowedInXml)
    .join("")
    .replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

/** One JUnit test suite per grade, one test case per check (classname = task), so CI systems can show a grade. */
export function toJUnit(results: GradeResult[]): string {
  const suites = results.map((r) => {
    const failures = r.checks.filter((c) => c.status === "failed").length;
    const errors = r.checks.filter((c) => c.status === "error").length;
    const cases = r.checks.map((c) => {
      const name = `${c.id}${c.required ? "" : " (advisory)"}`;
      const open = `    <testcase classname="${escape(`${r.lab}.task-${c.task}`)}" name="${escape(name)}" time="${(c.decidedAtMs / 1000).toFixed(3)}"`;
      if (c.status === "passed") return `${open}/>`;
      const body = [
        c.message,
        c.expected && `expected: ${c.expected}`,
        c.actual && `actual: ${c.actual}`,
        c.hint && `hint: ${c.hint}`,
      ]
        .filter(Boolean)
        .join("\n");
      const tag = c.status === "failed" ? "failure" : "error";
      return `${open}>\n      <${tag} message="${escape(c.message)}">${escape(body)}</${tag}>\n    </testcase>`;
    });
    const header = `  <testsuite name="${escape(`${r.lab} ${r.operator}`)}" tests="${r.checks.length}" failures="${failures}" errors="${errors}" time="${(r.durationMs / 1000).toFixed(3)}" timestamp="${r.startedAt}">`;
    return [header, ...cases, "  </testsuite>"].join("\n");
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join("\n")}\n</testsuites>\n`;
}
