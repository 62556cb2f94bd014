#!/usr/bin/env bash
# The crash-loop test for longer than the suite runs it:
#
#   ./scripts/crash-loop.sh [SECONDS]     (default 600)
#
# Starts and stops runs of four workflows from two clients while SIGKILLing `weir serve`
# every 2-7 s, then checks every invariant of tests/python/test_crash_loop.py and prints
# its report line (kills survived, runs acknowledged, attempts checked). Needs the
# virtualenv and the debug binary that ./scripts/test.sh builds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ -x .venv/bin/python ] || { echo "run ./scripts/test.sh once first (it creates .venv)" >&2; exit 1; }
cargo build -p weir
export WEIR_BIN="${WEIR_BIN:-$ROOT/target/debug/weir}"
export CRASH_LOOP_SECONDS="${1:-600}"
exec .venv/bin/python -m pytest -q -s tests/python/test_crash_loop.py
