// Prints one closing line for the whole monorepo from the JSON reports that vitest writes in each
// workspace (test-results.json): "tests: N passed, N failed" (", N skipped" when some were skipped).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
let suites = 0;
for (const group of ["packages", "examples"]) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const file = join(group, name, "test-results.json");
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    suites++;
  }
}
if (suites === 0) {
  console.error("test-summary: no test-results.json found; did the tests run?");
  process.exit(1);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
