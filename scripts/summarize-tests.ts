// Prints "N passed, N failed" from vitest's JSON report and go test's log, for a CI log's last line.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { status: string; assertionResults: { status: string }[] }[];
}

/**
 * A file whose setup failed (a hook timed out, an import threw) reports its tests as skipped, not
 * failed: each of them counts as failed here, and the file as one if it reported none.
 */
function testsLostWithTheirFile(report: VitestReport): number {
  return report.testResults
    .filter((file) => file.status === "failed" && !file.assertionResults.some((t) => t.status === "failed"))
    .reduce((sum, file) => sum + Math.max(1, file.assertionResults.filter((t) => t.status !== "passed").length), 0);
}

const dir = process.argv[2] ?? "test-results";
let passed = 0;
let failed = 0;
const vitest = join(dir, "vitest.json");
if (existsSync(vitest)) {
  const report = JSON.parse(readFileSync(vitest, "utf8")) as VitestReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests + testsLostWithTheirFile(report);
}
const log = join(dir, "ci.log");
if (existsSync(log)) {
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (/^--- PASS: /.test(line)) passed += 1;
    if (/^--- FAIL: /.test(line)) failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
