#!/usr/bin/env bash
# The biggest demo page: the design tool's editor on the demo program "Hantera oro" (six
# modules; the whole outline, the first page's forms and preview, and the report are rendered
# on the server), against /healthz in the same server and run, with wrk on loopback.
# Usage: design-page.sh <lotsen binary>. Prints requests/s, the ratio and latency percentiles.
set -euo pipefail
source "$(dirname "$0")/serve.sh" "${1:-}"
duration=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-16}

# A demo producer's session, and the demo program's editor.
cookie=$(curl -fs -o /dev/null -D - -H "Origin: $base" -H "Sec-Fetch-Site: same-origin" \
  --data "persona=producer" "$base/demo/start" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" && $2 ~ /session/ {print $2}')
[ -n "$cookie" ] || { echo "no demo session" >&2; exit 1; }
id=$(curl -fs -H "Cookie: $cookie" "$base/program" | grep -o 'href="/program/[0-9]*">Hantera oro' | grep -o '[0-9]*' | head -1)
[ -n "$id" ] || { echo "the demo program is not listed" >&2; exit 1; }
page="/program/$id"
bytes=$(curl -fs -H "Cookie: $cookie" "$base$page" | wc -c)

run() { wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Cookie: $cookie" "$base$1"; }
wrk -t1 -c4 -d2s -H "Cookie: $cookie" "$base$page" >/dev/null
health=$(run /healthz)
editor=$(run "$page")
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' <<<"$1"; }
h=$(rps "$health"); e=$(rps "$editor")
echo "wrk: ${connections} connections, ${duration}s each, same server, same run"
echo "/healthz: $h req/s"
echo "$page (editor of Hantera oro, $bytes bytes of HTML): $e req/s; latency p50 $(pct "$editor" 50%) p99 $(pct "$editor" 99%)"
awk -v e="$e" -v h="$h" 'BEGIN { printf "ratio editor / healthz: %.1f %%\n", 100 * e / h }'
