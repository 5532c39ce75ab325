#!/usr/bin/env bash
# Creates or updates the project's Python virtual environments, idempotently.
#
# Three venvs, because pip cannot resolve the tools into one environment:
# aws-sam-cli pins boto3==1.43.108 and checkov pins boto3==1.35.49 (both exact), and moto
# wants a current boto3.
#   .venv          infra/requirements.txt          moto[server], boto3, PyYAML: the local AWS
#                                                   emulator, infra/provision.py, the tests
#   .venv-tools    infra/requirements-tools.txt    aws-sam-cli, cargo-lambda, ziglang: build,
#                                                   `sam validate --lint`, deploy
#   .venv-checkov  infra/requirements-checkov.txt  checkov (static IaC scan)
#
# Usage: infra/venv.sh [test|tools|checkov|all]...   (default: all)
# Paths can be overridden with CALLBOOK_VENV, CALLBOOK_TOOLS_VENV, CALLBOOK_CHECKOV_VENV;
# the interpreter with CALLBOOK_PYTHON (default python3, 3.9+).
#
# Each venv holds a stamp file with a hash of its requirements file (and the interpreter
# version); when it matches, nothing is done, so running this before every test is cheap.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${CALLBOOK_PYTHON:-python3}"
STAMP_NAME=".callbook-requirements.sha256"

die() { echo "venv.sh: error: $*" >&2; exit 1; }
log() { echo "venv.sh: $*" >&2; }

command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found; install Python 3.9+ (or set CALLBOOK_PYTHON)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
  || die "$("$PYTHON" --version 2>&1) is too old; Python 3.9+ is needed"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
  || die "'$PYTHON -m venv' is unavailable (on Debian/Ubuntu: apt-get install python3-venv)"

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

# ensure_venv DIR REQUIREMENTS_FILE
ensure_venv() {
  local dir="$1" req="$2" want have=""
  [[ -f "$req" ]] || die "requirements file $req is missing"
  want="$(sha256_of "$req") $("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  [[ -f "$dir/$STAMP_NAME" ]] && have="$(cat "$dir/$STAMP_NAME")"
  if [[ "$have" == "$want" ]] && "$dir/bin/python" -c '' 2>/dev/null; then
    return 0
  fi

  log "setting up $dir from ${req#"$REPO"/} (this takes a minute or two the first time)"
  # A venv made by another interpreter version, or a half-made one, is rebuilt from scratch.
  if [[ -d "$dir" ]] && ! "$dir/bin/python" -c '' 2>/dev/null; then rm -rf "$dir"; fi
  if [[ -n "$have" && "${have#* }" != "${want#* }" ]]; then rm -rf "$dir"; fi
  rm -f "$dir/$STAMP_NAME"
  [[ -d "$dir" ]] || "$PYTHON" -m venv "$dir" || die "could not create the virtualenv at $dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$req" \
    || die "pip could not install ${req#"$REPO"/} into $dir (see the pip output above)"
  echo "$want" >"$dir/$STAMP_NAME"
  log "$dir is ready"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    test)    ensure_venv "${CALLBOOK_VENV:-$REPO/.venv}" "$REPO/infra/requirements.txt" ;;
    tools)   ensure_venv "${CALLBOOK_TOOLS_VENV:-$REPO/.venv-tools}" "$REPO/infra/requirements-tools.txt" ;;
    checkov) ensure_venv "${CALLBOOK_CHECKOV_VENV:-$REPO/.venv-checkov}" "$REPO/infra/requirements-checkov.txt" ;;
    all)
      ensure_venv "${CALLBOOK_VENV:-$REPO/.venv}" "$REPO/infra/requirements.txt"
      ensure_venv "${CALLBOOK_TOOLS_VENV:-$REPO/.venv-tools}" "$REPO/infra/requirements-tools.txt"
      ensure_venv "${CALLBOOK_CHECKOV_VENV:-$REPO/.venv-checkov}" "$REPO/infra/requirements-checkov.txt"
      ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown target '$t' (expected test, tools, checkov or all)" ;;
  esac
done
