#!/usr/bin/env bash
# Ledger throughput on SQLite and PostgreSQL (go test -bench BenchmarkPost), next to PostgreSQL's
# own pgbench -N against the same server in the same run, so the PostgreSQL figure can be read
# relative to what the server and its disk can do at all.
#
#   TEST_DATABASE_URL  server to use (default postgres://postgres@127.0.0.1:5432/test)
#   BENCHTIME          go test -benchtime per sub-benchmark (default 10s)
#   PGBENCH_SECONDS    pgbench -T (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."

URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
BENCHTIME=${BENCHTIME:-10s}
SECONDS_PGBENCH=${PGBENCH_SECONDS:-10}
CLIENTS=4 # = benchParallelism (2) x -cpu 2 writers in the Go parallel benchmarks
JOBS=2

# Debian keeps the server tools off PATH, under /usr/lib/postgresql/<version>/bin.
find_pg() {
	command -v "$1" 2>/dev/null || ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1
}
PGBENCH=$(find_pg pgbench)
PSQL=$(find_pg psql)
if [ -z "$PGBENCH" ] || [ -z "$PSQL" ]; then
	echo "bench-ledger: pgbench/psql not found (Debian: apt-get install postgresql)" >&2
	exit 1
fi

# Same server, scratch database pgbench_ref.
base=${URL%%\?*}
query=${URL#"$base"}
REF_URL="${base%/*}/pgbench_ref${query}"
cleanup() { "$PSQL" "$URL" -qc 'DROP DATABASE IF EXISTS pgbench_ref' >/dev/null 2>&1 || true; }
trap cleanup EXIT
out=$(mktemp)
trap 'cleanup; rm -f "$out"' EXIT

echo "== go test -bench BenchmarkPost (benchtime $BENCHTIME, $CLIENTS parallel writers)"
TEST_DATABASE_URL=$URL go test -run '^$' -bench '^BenchmarkPost$' -benchtime "$BENCHTIME" -cpu 2 ./internal/ledger/ | tee "$out"

echo
echo "== pgbench -N -c $CLIENTS -j $JOBS -T $SECONDS_PGBENCH ($PGBENCH)"
PGOPTIONS=--client-min-messages=warning "$PSQL" "$URL" -qc 'DROP DATABASE IF EXISTS pgbench_ref' -c 'CREATE DATABASE pgbench_ref'
"$PGBENCH" -i -q "$REF_URL" >/dev/null 2>&1
"$PGBENCH" -N -c "$CLIENTS" -j "$JOBS" -T "$SECONDS_PGBENCH" "$REF_URL" 2>&1 | tee -a "$out"

txs() { # tx/s of a sub-benchmark
	awk -v name="BenchmarkPost/$1-" 'index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "tx/s") print $(i-1) }' "$out"
}
pgbench_tps=$(awk '/^tps = / { print $3; exit }' "$out")
pg=$(txs postgres/parallel-distinct)

echo
echo "== summary (tx/s; one ledger tx = 2 postings in its own database transaction)"
for engine in sqlite postgres; do
	printf '%-8s  serial %8s   parallel-shared %8s   parallel-distinct %8s\n' "$engine" \
		"$(txs $engine/serial)" "$(txs $engine/parallel-shared)" "$(txs $engine/parallel-distinct)"
done
printf 'pgbench -N -c %d: %s tps\n' "$CLIENTS" "$pgbench_tps"
if [ -n "$pg" ] && [ -n "$pgbench_tps" ]; then
	awk -v a="$pg" -v b="$pgbench_tps" 'BEGIN { printf "ratio ledger postgres/parallel-distinct to pgbench -N: %.2f\n", a / b }'
fi
