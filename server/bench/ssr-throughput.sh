#!/usr/bin/env bash
# SSR throughput of the start page as a ratio to /healthz (a plain axum handler in the same
# server), measured in one run with wrk on loopback. Usage: ssr-throughput.sh <lotsen binary>
# Prints requests/s for both, the ratio, and the start page's latency percentiles.
set -euo pipefail
bin=${1:?path to the lotsen binary}
duration=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-64}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
data=$(mktemp -d)
RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --database-url "sqlite://$data/bench.db?mode=rwc" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

run() { wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port$1"; }
# Warm up both paths, then measure.
wrk -t1 -c8 -d2s "http://127.0.0.1:$port/" >/dev/null
health=$(run /healthz)
page=$(run /)
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' <<<"$1"; }
h=$(rps "$health"); s=$(rps "$page")
echo "wrk: ${connections} connections, ${duration}s each, same server, same run"
echo "/healthz: $h req/s"
echo "/ (SSR start page, reads the database): $s req/s; latency p50 $(pct "$page" 50%) p99 $(pct "$page" 99%)"
awk -v s="$s" -v h="$h" 'BEGIN { printf "ratio SSR / healthz: %.1f %%\n", 100 * s / h }'
