#!/usr/bin/env bash
# The shape the code keeps (docs/architecture.md), checked in `make test`:
# - every function's main.rs is at most 10 lines (the handler lives in the library);
# - no source file outside tests is over 500 lines (tests: `tests.rs`, `tests/` folders);
# - the functions' release builds do not compile callbook-core's test doubles (`testing`);
# - only the monitoring function compiles the CloudWatch SDK.
# The core's layers and its lack of import circles are checked by shared/core/tests/layers.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

problems=0
fail() { echo "check-structure: $*" >&2; problems=$((problems + 1)); }

for main in functions/*/src/main.rs; do
  lines=$(wc -l <"$main")
  (( lines <= 10 )) || fail "$main has $lines lines (at most 10: build and serve only)"
done

# Listed first, so a failing git stops the script rather than passing an empty list.
sources=$(git ls-files -co --exclude-standard -- '*.rs')
while IFS= read -r file; do
  [[ -f "$file" ]] || continue
  lines=$(wc -l <"$file")
  (( lines <= 500 )) || fail "$file has $lines lines (at most 500 outside tests: split it)"
done < <(grep -v -E '(^|/)tests(/|\.rs$)' <<<"$sources" | grep -v -E '^fuzz/(target|corpus|artifacts)/')

# The functions' release builds as they are made: from the root without -p (`make build`,
# `sam build`: the workspace's default members), and each function on its own. Dev-dependencies
# are not part of a release build, so only a normal dependency could bring `testing` in.
features() { cargo tree -e normal,features -i callbook-core --prefix none "$@"; }
for selection in "" "-p webhook" "-p booking-worker" "-p notification-worker" "-p analytics-worker" "-p followup-worker" "-p monitoring" "-p sms-replies"; do
  # shellcheck disable=SC2086
  if features $selection | grep -q 'feature "testing"'; then
    fail "the release build (${selection:-workspace default members}) enables callbook-core's \"testing\" feature (test doubles)"
  fi
done

# The CloudWatch SDK is the monitoring function's alone: the webhook and the workers stay small.
for function in webhook booking-worker notification-worker analytics-worker followup-worker sms-replies; do
  if cargo tree -e normal -p "$function" --prefix none | grep -q '^aws-sdk-cloudwatch '; then
    fail "$function compiles aws-sdk-cloudwatch (only the monitoring function reads CloudWatch)"
  fi
done

if (( problems > 0 )); then
  echo "check-structure: $problems problem(s)" >&2
  exit 1
fi
echo "check-structure: main.rs files, file sizes and release features are as they should be"
