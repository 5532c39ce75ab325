#!/usr/bin/env bash
# Fuzzes callbook-core with cargo-fuzz (libFuzzer) on stable Rust.
#
#   fuzz/run.sh                    every target, FUZZ_SECONDS (default 60) each
#   fuzz/run.sh envelope dates     only the targets named
#   FUZZ_SECONDS=600 fuzz/run.sh   longer runs
#
# Installs the pinned cargo-fuzz into .dev/tools (gitignored) when it is missing. Targets are
# built optimized with debug assertions and overflow checks on (--release --debug-assertions) and
# `--sanitizer none`: the sanitizers need nightly's -Zsanitizer, and callbook-core is safe Rust,
# so the fuzzers look for panics. No RUSTC_BOOTSTRAP is needed.
#
# New inputs that reach new code go to fuzz/corpus/<target>/ (gitignored) and are reused by the
# next run; fuzz/seeds/<target>/ (committed) is read as well, and fuzz/dicts/<target>.dict gives
# libFuzzer the tokens (JSON keys, date words) its mutations splice in. A crash stops that
# target, saves its input to fuzz/artifacts/<target>/ and makes this script exit 1 once every
# target has run; from the repository root, reproduce it with
#   .dev/tools/bin/cargo-fuzz run --fuzz-dir fuzz --sanitizer none <target> <artifact file>
# (--release --debug-assertions is cargo-fuzz's default build, so that reuses these binaries).
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
TOOLS="$ROOT/.dev/tools"
CARGO_FUZZ="$TOOLS/bin/cargo-fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-60}"

if ! [[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]]; then
    echo "FUZZ_SECONDS must be a whole number of seconds, not \"$SECONDS_EACH\"" >&2
    exit 2
fi

if [[ "$("$CARGO_FUZZ" --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force --root "$TOOLS"
fi

ALL=()
for f in "$FUZZ_DIR"/fuzz_targets/*.rs; do
    ALL+=("$(basename "$f" .rs)")
done
TARGETS=("$@")
if [[ ${#TARGETS[@]} -eq 0 ]]; then
    TARGETS=("${ALL[@]}")
fi
for t in "${TARGETS[@]}"; do
    if [[ ! -f "$FUZZ_DIR/fuzz_targets/$t.rs" ]]; then
        echo "no fuzz target \"$t\" (there are: ${ALL[*]})" >&2
        exit 2
    fi
done

# cargo-fuzz finds the fuzz crate with --fuzz-dir; it runs cargo, so the toolchain is the
# project's own.
fuzz() {
    (cd "$ROOT" && "$CARGO_FUZZ" "$1" --fuzz-dir "$FUZZ_DIR" --sanitizer none \
        --release --debug-assertions "${@:2}")
}

echo "==> building ${TARGETS[*]}"
start=$(date +%s)
for t in "${TARGETS[@]}"; do
    fuzz build "$t"
done
echo "==> built in $(($(date +%s) - start)) s"

LOGS="$FUZZ_DIR/target/logs"
mkdir -p "$LOGS"
status=0
summary=()
for t in "${TARGETS[@]}"; do
    corpus="$FUZZ_DIR/corpus/$t"
    seeds="$FUZZ_DIR/seeds/$t"
    mkdir -p "$corpus" "$FUZZ_DIR/artifacts/$t"
    dirs=("$corpus")
    [[ -d "$seeds" ]] && dirs+=("$seeds")
    extra=()
    [[ -f "$FUZZ_DIR/dicts/$t.dict" ]] && extra+=("-dict=$FUZZ_DIR/dicts/$t.dict")
    log="$LOGS/$t.log"
    echo "==> fuzzing $t for ${SECONDS_EACH} s (log: ${log#"$ROOT"/})"
    started=$(date +%s)
    if fuzz run "$t" "${dirs[@]}" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 "${extra[@]}" >"$log" 2>&1; then
        outcome=ok
    else
        status=1
        if grep -q "Test unit written to" "$log"; then
            outcome=CRASH
            grep -E -A1 "panicked at" "$log" | head -4 >&2 || true
            artifact=$(grep -oE "Test unit written to .*" "$log" | tail -1 | sed 's/^Test unit written to //')
            echo "crash input: ${artifact#"$ROOT"/}" >&2
            echo "reproduce:   ${CARGO_FUZZ#"$ROOT"/} run --fuzz-dir fuzz --sanitizer none $t ${artifact#"$ROOT"/}" >&2
            echo "             (from the repository root; RUST_BACKTRACE=1 for the stack)" >&2
        else
            outcome=FAILED
            grep -v '^WARNING' "$log" | tail -20 >&2
        fi
    fi
    took=$(($(date +%s) - started))
    final_stat() { { grep -m1 "^stat::$1:" "$log" || true; } | awk '{print $2}'; }
    runs=$(final_stat number_of_executed_units)
    speed=$(final_stat average_exec_per_sec)
    rss=$(final_stat peak_rss_mb)
    cov=$({ grep -oE 'cov: [0-9]+' "$log" || true; } | tail -1 | awk '{print $2}')
    units=$(find "$corpus" -type f | wc -l)
    line=$(printf '%-15s %-6s %12s execs %8s exec/s %5s s  cov %6s  corpus %5s  rss %5s MB' \
        "$t" "$outcome" "${runs:-?}" "${speed:-?}" "$took" "${cov:-?}" "$units" "${rss:-?}")
    echo "$line"
    summary+=("$line")
done

echo
echo "==> summary (${SECONDS_EACH} s per target)"
printf '%s\n' "${summary[@]}"
exit "$status"
