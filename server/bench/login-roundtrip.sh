#!/usr/bin/env bash
# The login round trip, measured in one run: Lotsen in real mode against the test identity
# providers (end2end/idp), N patient logins and N staff logins driven over HTTP the way a
# browser does (redirects followed by hand, cookies kept). Usage: login-roundtrip.sh <lotsen>
set -euo pipefail
bin=${1:?path to the lotsen binary}
root=$(cd "$(dirname "$0")/../.." && pwd)
ports=$(node "$root/end2end/free-ports.mjs" 3)
IFS=, read -r lotsen bankid siths <<<"$ports"
data=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"' EXIT

node "$root/end2end/idp/server.mjs" main "$bankid" "$siths" "http://127.0.0.1:$lotsen" >/dev/null 2>&1 &
pids+=($!)
LOTSEN_PUBLIC_URL="http://127.0.0.1:$lotsen" \
LOTSEN_PATIENT_OIDC_ISSUER="http://127.0.0.1:$bankid" \
LOTSEN_PATIENT_OIDC_CLIENT_ID=lotsen-patient \
LOTSEN_PATIENT_OIDC_CLIENT_SECRET=patient-secret-for-tests-only \
LOTSEN_STAFF_OIDC_ISSUER="http://127.0.0.1:$siths" \
LOTSEN_STAFF_OIDC_CLIENT_ID=lotsen-staff \
LOTSEN_STAFF_OIDC_CLIENT_SECRET=staff-secret-for-tests-only \
LOTSEN_STAFF_OIDC_SCOPES="profile hsa" \
RUST_LOG=warn \
  bash "$root/end2end/real-mode.sh" "$bin" "$lotsen" "$data" seed &
pids+=($!)
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$lotsen/readyz" >/dev/null \
    && curl -fs "http://127.0.0.1:$siths/.well-known/openid-configuration" >/dev/null && break
  sleep 0.1
done
node "$root/server/bench/login-roundtrip.mjs" "http://127.0.0.1:$lotsen" "${BENCH_LOGINS:-50}"
