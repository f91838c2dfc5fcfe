#!/usr/bin/env bash
# SSR throughput of the start page as a ratio to /healthz (a plain axum handler in the same
# server), measured in one run with wrk on loopback. Usage: ssr-throughput.sh <lotsen binary>
# Prints requests/s for both, the ratio, and the start page's latency percentiles.
set -euo pipefail
source "$(dirname "$0")/serve.sh" "${1:-}"
duration=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-64}

run() { wrk -t2 -c"$connections" -d"${duration}s" --latency "$base$1"; }
# Warm up both paths, then measure.
wrk -t1 -c8 -d2s "$base/" >/dev/null
health=$(run /healthz)
page=$(run /)
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' <<<"$1"; }
h=$(rps "$health"); s=$(rps "$page")
echo "wrk: ${connections} connections, ${duration}s each, same server, same run"
echo "/healthz: $h req/s"
echo "/ (SSR start page, reads the database): $s req/s; latency p50 $(pct "$page" 50%) p99 $(pct "$page" 99%)"
awk -v s="$s" -v h="$h" 'BEGIN { printf "ratio SSR / healthz: %.1f %%\n", 100 * s / h }'
