#!/usr/bin/env bash
# Weir's benchmark suite (not part of the test suite):
#
#   ./scripts/bench.sh [SECTION...] [-- weir-bench options]
#
# SECTION is any of: api durability transitions scale events logs s3 spark console memory replicas (default: all, in
# that order). Examples:
#   ./scripts/bench.sh                      # the whole suite (≈ 25 minutes)
#   ./scripts/bench.sh api transitions      # two sections
#   ./scripts/bench.sh api -- --quick       # smaller sizes, shorter runs (a smoke run)
#
# What it does:
#   1. builds the release binaries `weir` and `weir-bench`,
#   2. creates/updates the virtualenv .venv-bench with the peer, moto_server
#      (crates/bench/peer-requirements.txt, every version pinned by
#      crates/bench/peer-constraints.txt),
#   3. runs `weir-bench run`, which starts Weir, moto_server and a trivial endpoint on
#      127.0.0.1 only, measures, prints every figure beside its target and the peer's,
#      and writes the report to target/bench/report-<UTC time>.md (BENCH_OUT overrides).
#
# BENCH_SKIP_BUILD=1 skips step 1 and uses the release binaries already built.
# The run (step 3) is bounded by BENCH_TIME_LIMIT seconds (default 2400 = 40 minutes);
# every server it started dies with it. Pythonshell jobs run with the interpreter behind
# $PYTHON (default python3), resolved to its real path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-bench"
REQUIREMENTS="$ROOT/crates/bench/peer-requirements.txt"
CONSTRAINTS="$ROOT/crates/bench/peer-constraints.txt"
TIME_LIMIT="${BENCH_TIME_LIMIT:-2400}"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '\nbench.sh: error: %s\n' "$*" >&2; exit 1; }

sections=()
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; extra=("$@"); break ;;
        api|durability|transitions|scale|events|logs|s3|spark|console|memory|replicas) sections+=("$1"); shift ;;
        *) die "unknown section '$1' (api durability transitions scale events logs s3 spark console memory replicas; options after --)" ;;
    esac
done

command -v cargo >/dev/null || die "cargo not found"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found"

# --- build ---------------------------------------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
    step "using the release binaries already built (BENCH_SKIP_BUILD=1)"
else
    step "cargo build --release -p weir -p weir-bench"
    cargo build --release -p weir -p weir-bench || die "the release build failed"
fi
TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps \
    | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
WEIR="$TARGET_DIR/release/weir"
BENCH="$TARGET_DIR/release/weir-bench"
[ -x "$WEIR" ] && [ -x "$BENCH" ] || die "no release binaries in $TARGET_DIR/release"

# --- the peer: moto_server in .venv-bench --------------------------------------------------
step "peer virtualenv ($VENV)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "cannot create $VENV (install python3-venv)"
fi
want="$(cat "$REQUIREMENTS" "$CONSTRAINTS" | "$VENV/bin/python" -c \
    'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ "$want" != "$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$REQUIREMENTS" -c "$CONSTRAINTS" || die "installing moto[server] failed"
    echo "$want" > "$VENV/.requirements.sha256"
fi
[ -x "$VENV/bin/moto_server" ] || die "$VENV has no moto_server"
echo "moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)')" >&2

# --- the Spark runtime of the spark section --------------------------------------------------
RUNTIME_DIR="${WEIR_RUNTIME_DIR:-$TARGET_DIR/weir-runtimes}"
if [ "${#sections[@]}" = 0 ] || printf '%s\n' "${sections[@]}" | grep -qx spark; then
    step "Spark runtime (weir runtime install --glue-version 5.0)"
    "$WEIR" runtime install --glue-version 5.0 --runtime-dir "$RUNTIME_DIR" >&2 \
        || die "weir runtime install failed"
fi

# --- run -----------------------------------------------------------------------------------
JOB_PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"
mkdir -p "$TARGET_DIR/bench"
OUT="${BENCH_OUT:-$TARGET_DIR/bench/report-$(date -u +%Y%m%dT%H%M%SZ).md}"
step "weir-bench run ${sections[*]:-(all sections)} (bounded by ${TIME_LIMIT}s)"
status=0
timeout --signal=TERM --kill-after=30 "$TIME_LIMIT" \
    "$BENCH" run ${sections[@]+"${sections[@]}"} \
    --weir "$WEIR" --moto "$VENV/bin/moto_server" --python "$JOB_PYTHON" \
    --runtime-dir "$RUNTIME_DIR" \
    --markdown "$OUT" ${extra[@]+"${extra[@]}"} || status=$?
if [ "$status" = 124 ]; then
    die "the suite exceeded BENCH_TIME_LIMIT=${TIME_LIMIT}s and was stopped"
elif [ "$status" != 0 ]; then
    die "weir-bench failed (exit $status)"
fi
step "report: $OUT"
