#!/usr/bin/env bash
# What `npm test` runs after scripts/setup.sh: lint (tsc -b, eslint, prettier --check, and the tests' own types),
# counted as one test, then every vitest project (reports in test-results/). Extra arguments go to vitest, e.g.
# `npm test -- shared/src`. Ends with exactly one line "N passed, N failed" (", N skipped" when some were) and exits
# non-zero when anything failed. The line is also written to test-results/summary.txt (.ci/run prints it last).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

RESULTS="$ROOT/test-results"
mkdir -p "$RESULTS"
rm -f "$RESULTS/vitest.json" "$RESULTS/summary.txt"

lint_passed=0
lint_failed=0
log "lint: npm run lint (tsc -b, eslint ., prettier --check .) and tsc -p test/tsconfig.json"
if npm run --silent lint && npx --no-install tsc -p test/tsconfig.json; then
  lint_passed=1
  log "lint: passed"
else
  lint_failed=1
  log "lint: FAILED (see above; \`npm run format\` fixes what prettier reports)"
fi

log "vitest"
set +e
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$RESULTS/vitest.json" "$@"
vitest_rc=$?
set -e

# passed failed skipped, from vitest's JSON report. A test file that failed to load counts as one failed test, and
# a run that failed with no failed test (global setup, unhandled error, no report at all) counts as one too.
read -r v_passed v_failed v_skipped < <(
  node - "$RESULTS/vitest.json" "$vitest_rc" <<'JS'
const fs = require('node:fs');
const [file, rc] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
try {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = r.numFailedTests ?? 0;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  for (const suite of r.testResults ?? []) {
    if (suite.status === 'failed' && !(suite.assertionResults ?? []).some((a) => a.status === 'failed')) failed += 1;
  }
} catch {
  // No report: vitest did not get that far.
}
if (Number(rc) !== 0 && failed === 0) failed = 1;
console.log(passed, failed, skipped);
JS
)

passed=$((lint_passed + v_passed))
failed=$((lint_failed + v_failed))
summary="$passed passed, $failed failed"
[[ "$v_skipped" -gt 0 ]] && summary+=", $v_skipped skipped"
printf '%s\n' "$summary" >"$RESULTS/summary.txt"
printf '%s\n' "$summary"
[[ "$failed" -eq 0 ]]
