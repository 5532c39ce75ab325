#!/usr/bin/env bash
# Installs Debian's `chromium` package when it is missing, for the end-to-end test that
# renders the HTML dashboard headless (tests/tests/end_to_end/monitoring.rs). Idempotent:
# nothing is done, and nothing is fetched, when the browser is there already.
# Needs root (or sudo) and apt-get the first time; CHROMIUM=/path/to/chromium uses another.
set -euo pipefail

want="${CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$want" ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: error: $want is missing and apt-get is not available; install Chromium and set CHROMIUM=<its path>" >&2
  exit 2
fi
as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "chromium.sh: error: installing chromium needs root or sudo" >&2; exit 2; }
  as_root=(sudo)
fi
echo "chromium.sh: installing Debian's chromium (headless dashboard test)" >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
[[ -x "$want" ]] || { echo "chromium.sh: error: chromium installed, but $want is not there" >&2; exit 1; }
echo "chromium.sh: $("$want" --version 2>/dev/null || echo chromium) ready" >&2
