# Sourced by the bench scripts: needs wrk, starts Lotsen in demo mode on a free port with a
# fresh SQLite file, stops it (and removes the file) on exit, and waits until it is ready.
# Sets $port, $base and $pid. Usage: source serve.sh <lotsen binary>
bin=${1:?path to the lotsen binary}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
data=$(mktemp -d)
RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" --database-url "sqlite://$data/bench.db?mode=rwc" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
