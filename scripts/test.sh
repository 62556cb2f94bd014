#!/usr/bin/env bash
# The project's test command: ./scripts/test.sh
#
#   1. creates/updates the Python virtualenv .venv from tests/python/requirements.txt
#      (boto3, botocore, the AWS CLI, pytest — pinned),
#   2. checks formatting (cargo fmt) and lints (cargo clippy -D warnings), builds the
#      whole workspace (the `weir` binary and every test target),
#   3. runs the Rust tests with cargo-nextest (installed if missing), including the
#      aws-sdk-glue conformance tests in crates/conformance,
#   4. prepares the Spark runtimes of the glueetl tests (`weir runtime install` into
#      target/weir-runtimes: PySpark 3.5 and 4.1 from the package index; Java 17 with
#      apt-get when missing),
#   5. installs the console's browser-test tools (scripts/browser-deps.sh: Debian's
#      chromium, playwright-core from npm into tests/browser/node_modules),
#   6. runs the Python tests (boto3 + AWS CLI, and the console in chromium) in
#      tests/python against target/.../weir,
#   7. with a throwaway PostgreSQL cluster (scripts/postgres.sh: Debian's PostgreSQL with
#      apt-get when missing, started as an unprivileged user on a loopback port, removed
#      at exit), the store conformance tests run on PostgreSQL too (step 3), and so does
#      a representative half of tests/python (POSTGRES_MODULES).
#
# Needs Rust (cargo), Python >= 3.9 with pip, and node >= 18 with npm (chromium is
# installed with apt-get when missing, as root); everything else it installs.
# Extra arguments are passed to pytest (e.g. ./scripts/test.sh -k tags -x).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/tests/python/requirements.txt"
PYTHON="${PYTHON:-python3}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest.sh: error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites -----------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.9+ with pip"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); Python 3.9 or newer is required"

# --- Python virtualenv -------------------------------------------------------------------
make_venv() {
    rm -rf "$VENV"
    if "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        return 0
    fi
    # Debian without python3-venv has no ensurepip: create the venv without pip and
    # bootstrap pip into it with the system pip (pip >= 22.3 understands --python).
    rm -rf "$VENV"
    echo "python -m venv failed (no ensurepip?); bootstrapping pip with the system pip"
    "$PYTHON" -m venv --without-pip "$VENV" \
        || die "cannot create a virtualenv: install python3-venv (apt-get install python3-venv)"
    if ! "$PYTHON" -m pip --python "$VENV/bin/python" install --quiet pip 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "installing python3-venv with apt-get"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            rm -rf "$VENV"
            "$PYTHON" -m venv "$VENV" || die "python -m venv still fails after installing python3-venv"
        else
            die "cannot put pip into $VENV: install python3-venv (or a pip >= 22.3)"
        fi
    fi
}

[ -f "$REQUIREMENTS" ] || die "missing $REQUIREMENTS"
step "Python virtualenv ($VENV)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    make_venv
fi
want_stamp="$("$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$REQUIREMENTS")"
have_stamp="$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)"
if [ "$want_stamp" != "$have_stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
        || die "pip install -r tests/python/requirements.txt failed"
    echo "$want_stamp" > "$VENV/.requirements.sha256"
fi
"$VENV/bin/python" -c 'import boto3, botocore, pytest' || die "the virtualenv lacks boto3/pytest"
[ -x "$VENV/bin/aws" ] || die "the virtualenv has no aws executable (awscli missing)"
echo "boto3 $("$VENV/bin/python" -c 'import boto3; print(boto3.__version__)'), $("$VENV/bin/aws" --version 2>&1)"

# --- cargo-nextest -----------------------------------------------------------------------
if ! cargo nextest --version >/dev/null 2>&1; then
    step "installing cargo-nextest"
    cargo install --locked cargo-nextest || die "cargo install --locked cargo-nextest failed"
fi

# --- format, lints, build --------------------------------------------------------------------
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    step "installing rustfmt and clippy"
    rustup component add rustfmt clippy || die "cargo fmt/clippy missing and rustup could not add them"
fi
step "cargo fmt --all --check"
cargo fmt --all --check || die "the code is not formatted: run cargo fmt --all"
step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings || die "clippy found problems"

step "cargo build --workspace --all-targets"
cargo build --workspace --all-targets || die "the workspace does not build"

TARGET_DIR="$(cargo metadata --format-version 1 --no-deps \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export WEIR_BIN="${WEIR_BIN:-$TARGET_DIR/debug/weir}"
[ -x "$WEIR_BIN" ] || die "no weir binary at $WEIR_BIN after the build"

# --- tests -------------------------------------------------------------------------------
LOGS="$(mktemp -d)"
PG_DIR="$(mktemp -d)"
trap '"$ROOT/scripts/postgres.sh" stop "$PG_DIR"; rm -rf "$LOGS"' EXIT

step "PostgreSQL for the store tests (scripts/postgres.sh)"
WEIR_TEST_POSTGRES_URL="$("$ROOT/scripts/postgres.sh" start "$PG_DIR")" \
    || die "could not start a PostgreSQL cluster"
export WEIR_TEST_POSTGRES_URL
# The PostgreSQL store tests fail (rather than skip) without the cluster.
export WEIR_TEST_POSTGRES_REQUIRED=1
echo "PostgreSQL at $WEIR_TEST_POSTGRES_URL"

step "cargo nextest run --workspace"
set +e
cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$LOGS/nextest.log"
nextest_rc=${PIPESTATUS[0]}
set -e

step "Spark runtimes for the glueetl tests (weir runtime install)"
if ! command -v java >/dev/null && [ -z "${JAVA_HOME:-}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Java 17 with apt-get (Spark needs it)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless \
            || die "apt-get install openjdk-17-jre-headless failed"
    else
        die "Java 17 is needed for the Spark tests: install openjdk-17-jre-headless or set JAVA_HOME"
    fi
fi
export WEIR_RUNTIME_DIR="${WEIR_RUNTIME_DIR:-$TARGET_DIR/weir-runtimes}"
"$WEIR_BIN" runtime install --runtime-dir "$WEIR_RUNTIME_DIR" \
    || die "weir runtime install failed (PySpark from the package index)"

step "browser-test tools (scripts/browser-deps.sh)"
"$ROOT/scripts/browser-deps.sh" || die "could not install chromium and playwright-core"
# The console's browser tests fail (rather than skip) when the browser is missing.
export WEIR_BROWSER_REQUIRED=1

step "pytest tests/python"
set +e
# (The modules of PostgreSQL alone run in the PostgreSQL pass below.)
"$VENV/bin/python" -m pytest tests/python --ignore=tests/python/test_postgres.py \
    --ignore=tests/python/test_replicas.py "$@" 2>&1 \
    | tee "$LOGS/pytest.log"
pytest_rc=${PIPESTATUS[0]}
set -e

# The modules run again with every server's store in a fresh PostgreSQL database: the
# workflows, runs, triggers, jobs, concurrency, catalog, logs and events (Spark, the
# browser and the tests that read SQLite's files are left out).
POSTGRES_MODULES=(workflows runs triggers jobs concurrency catalog logs events queuing schedules
    stop_resume crash_recovery list_workflows tags job_run_details crawls connections graph
    retention timeouts postgres replicas)
postgres_paths=()
for module in "${POSTGRES_MODULES[@]}"; do postgres_paths+=("tests/python/test_$module.py"); done
step "pytest on PostgreSQL (${#POSTGRES_MODULES[@]} modules of tests/python)"
set +e
WEIR_TEST_STORE="$WEIR_TEST_POSTGRES_URL" "$VENV/bin/python" -m pytest "${postgres_paths[@]}" "$@" \
    2>&1 | tee "$LOGS/pytest-postgres.log"
pg_rc=${PIPESTATUS[0]}
set -e
# Extra pytest arguments (-k …) may select nothing of these modules (pytest's exit 5).
[ "$pg_rc" -eq 5 ] && pg_rc=0

# --- summary -----------------------------------------------------------------------------
# Count from the runners' own closing lines, e.g.
#   nextest: "Summary [ 1.4s] 40 tests run: 38 passed, 2 failed, 0 skipped"
#   pytest:  "==== 2 failed, 45 passed, 1 skipped in 3.1s ===="
count() { # count <log> <word> — the number before <word> on the runner's summary line
    sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -E "$2" | tail -n 1 | grep -oE "[0-9]+ $3" | grep -oE '^[0-9]+' | head -n 1 || true
}
n_pass=$(count "$LOGS/nextest.log" 'tests? run:' passed);  n_pass=${n_pass:-0}
n_fail=$(count "$LOGS/nextest.log" 'tests? run:' failed);  n_fail=${n_fail:-0}
n_skip=$(count "$LOGS/nextest.log" 'tests? run:' skipped); n_skip=${n_skip:-0}
p_line='^=+ .*(passed|failed|error|skipped|no tests ran).* in [0-9.]+s'
p_pass=$(count "$LOGS/pytest.log" "$p_line" passed);   p_pass=${p_pass:-0}
p_fail=$(count "$LOGS/pytest.log" "$p_line" failed);   p_fail=${p_fail:-0}
p_err=$(count "$LOGS/pytest.log" "$p_line" errors?);   p_err=${p_err:-0}
p_skip=$(count "$LOGS/pytest.log" "$p_line" skipped);  p_skip=${p_skip:-0}
g_pass=$(count "$LOGS/pytest-postgres.log" "$p_line" passed);   g_pass=${g_pass:-0}
g_fail=$(count "$LOGS/pytest-postgres.log" "$p_line" failed);   g_fail=${g_fail:-0}
g_err=$(count "$LOGS/pytest-postgres.log" "$p_line" errors?);   g_err=${g_err:-0}
g_skip=$(count "$LOGS/pytest-postgres.log" "$p_line" skipped);  g_skip=${g_skip:-0}

# A runner that failed without reporting a failed test (crash, no tests, build error)
# still counts as one failure.
[ "$nextest_rc" -ne 0 ] && [ "$n_fail" -eq 0 ] && n_fail=1
[ "$pytest_rc" -ne 0 ] && [ $((p_fail + p_err)) -eq 0 ] && p_fail=1
[ "$pg_rc" -ne 0 ] && [ $((g_fail + g_err)) -eq 0 ] && g_fail=1

echo
echo "rust (nextest): $n_pass passed, $n_fail failed, $n_skip skipped (exit $nextest_rc)"
echo "python (pytest): $p_pass passed, $((p_fail + p_err)) failed, $p_skip skipped (exit $pytest_rc)"
echo "python on PostgreSQL (pytest): $g_pass passed, $((g_fail + g_err)) failed, $g_skip skipped (exit $pg_rc)"
echo "summary: $((n_pass + p_pass + g_pass)) passed, $((n_fail + p_fail + p_err + g_fail + g_err)) failed, $((n_skip + p_skip + g_skip)) skipped"
[ "$nextest_rc" -eq 0 ] && [ "$pytest_rc" -eq 0 ] && [ "$pg_rc" -eq 0 ]
