#!/usr/bin/env bash
# Try Weir's replicas locally: a throwaway PostgreSQL cluster (scripts/postgres.sh) and
# N `weir serve` replicas on it (default 3), on 127.0.0.1:5599, 5600, … with one shared
# data directory (./weir-replicas). Runs in the foreground; Ctrl-C stops the replicas
# and removes the PostgreSQL cluster (the data directory is kept).
#
#   scripts/replicas.sh [N]
#
# Extra `weir serve` options can be given in WEIR_REPLICA_ARGS (e.g. "--lease-timeout 5").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COUNT="${1:-3}"
[[ "$COUNT" =~ ^[1-9][0-9]?$ ]] || { echo "usage: scripts/replicas.sh [N]" >&2; exit 2; }

cargo build --release -p weir
PG_DIR="$(mktemp -d)"
URL="$(scripts/postgres.sh start "$PG_DIR")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    scripts/postgres.sh stop "$PG_DIR"
}
trap cleanup EXIT INT TERM

for ((i = 0; i < COUNT; i++)); do
    # shellcheck disable=SC2086  # WEIR_REPLICA_ARGS is a list of options
    target/release/weir serve --store "$URL" --data-dir weir-replicas \
        --listen "127.0.0.1:$((5599 + i))" --replica-name "replica-$i" \
        ${WEIR_REPLICA_ARGS:-} &
    pids+=("$!")
done
echo "replicas on 127.0.0.1:5599..$((5599 + COUNT - 1)), store $URL; Ctrl-C stops them" >&2
wait -n "${pids[@]}" || true
