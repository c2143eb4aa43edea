// Prints "N passed, N failed" from vitest's JSON report and go test's log, for a CI log's last line.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "test-results";
let passed = 0;
let failed = 0;
const vitest = join(dir, "vitest.json");
if (existsSync(vitest)) {
  const report = JSON.parse(readFileSync(vitest, "utf8")) as { numPassedTests: number; numFailedTests: number };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
}
const log = join(dir, "ci.log");
if (existsSync(log)) {
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (/^--- PASS: /.test(line)) passed += 1;
    if (/^--- FAIL: /.test(line)) failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
