#!/usr/bin/env bash
# Lotsen in real mode for the browser tests: registers the test region (one care provider,
# two units, three staff members with roles: a therapist, an access administrator and an
# auditor; a program active at the first unit) with `lotsen setup`, then serves. The identity
# providers come from the LOTSEN_*_OIDC_* environment variables the caller sets.
#
#   real-mode.sh <lotsen binary> <port> <data dir> [seed]
set -euo pipefail
bin=$1 port=$2 data=$3 seed=${4:-}
mkdir -p "$data"
export LOTSEN_DATABASE_URL="sqlite://$data/lotsen.db?mode=rwc"
export LOTSEN_ADDR="127.0.0.1:$port"
# Every test signs in from 127.0.0.1.
export LOTSEN_SIGN_IN_BURST=1000
if [ "$seed" = seed ]; then
  setup() { "$bin" setup "$@" >/dev/null; }
  setup provider --org-number 232199-0018 --name "Region Test" --kind region --county 01
  setup unit --provider 2321990018 --hsa-id SE2321990018-E1 --name "Psykiatrimottagning Test"
  setup unit --provider 2321990018 --hsa-id SE2321990018-E2 --name "Vårdcentral Test"
  setup staff --hsa-id SE2321990018-T1 --given-name Tove --family-name Terapeut
  setup staff --hsa-id SE2321990018-A1 --given-name Alva --family-name Admin
  setup staff --hsa-id SE2321990018-G1 --given-name Gun --family-name Granskare
  setup grant --hsa-id SE2321990018-T1 --role therapist --provider 2321990018 \
    --unit SE2321990018-E1
  setup grant --hsa-id SE2321990018-A1 --role access_admin --provider 2321990018 \
    --unit SE2321990018-E1
  setup grant --hsa-id SE2321990018-G1 --role auditor --provider 2321990018
  # A program to treat with, active at the first unit: PHQ-9 at the start (blocking).
  setup program --provider 2321990018 --manifest end2end/programs/ma-battre.lotsen-program.json \
    --unit SE2321990018-E1
fi
exec "$bin" serve
