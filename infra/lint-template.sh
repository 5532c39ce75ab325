#!/usr/bin/env bash
# Lints template.yaml with `sam validate --lint` (SAM transform + cfn-lint) and fails on any
# finding, warnings included. Uses the tools venv made by `infra/venv.sh tools`; it installs
# nothing itself. No AWS account is involved: dummy credentials and a fixed region are set
# so the check never reads ~/.aws or reaches AWS.
# Usage: infra/lint-template.sh [template]   (default: template.yaml at the repo root)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_VENV="${CALLBOOK_TOOLS_VENV:-$REPO/.venv-tools}"
TEMPLATE="${1:-$REPO/template.yaml}"
SAM="$TOOLS_VENV/bin/sam"

if [[ ! -x "$SAM" ]]; then
  echo "lint-template.sh: error: $SAM not found; run infra/venv.sh tools first" >&2
  exit 2
fi

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
export SAM_CLI_TELEMETRY=0

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status=0
"$SAM" validate --lint --template "$TEMPLATE" --region us-east-1 >"$out" 2>&1 || status=$?
cat "$out"
# sam exits 0 on warnings-only results; treat any reported rule (E/W/I1234) as a failure.
if [[ $status -ne 0 ]] || grep -Eq '^\[?[EWI][0-9]{4}|\b[EWI][0-9]{4}:' "$out"; then
  echo "lint-template.sh: template has lint findings" >&2
  exit 1
fi
if ! grep -q "is a valid SAM Template" "$out"; then
  echo "lint-template.sh: sam did not report the template valid" >&2
  exit 1
fi

# checkov (static security scan, `.venv-checkov` from `infra/venv.sh checkov`): zero failed
# checks. Each check the template does not meet is skipped in the resource's Metadata with
# the reason written next to it.
CHECKOV="${CALLBOOK_CHECKOV_VENV:-$REPO/.venv-checkov}/bin/checkov"
if [[ ! -x "$CHECKOV" ]]; then
  echo "lint-template.sh: error: $CHECKOV not found; run infra/venv.sh checkov first" >&2
  exit 2
fi
checkov_out="$(mktemp)"
trap 'rm -f "$out" "$checkov_out"' EXIT
if ! "$CHECKOV" -f "$TEMPLATE" --framework cloudformation --compact >"$checkov_out" 2>&1; then
  cat "$checkov_out"
  echo "lint-template.sh: checkov reports failed checks" >&2
  exit 1
fi
grep -E "Passed checks" "$checkov_out"
