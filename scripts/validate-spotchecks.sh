#!/usr/bin/env bash
# Re-runs the validation of scoring model v3 on one seeded database
# (docs/scoring.md, "Validation of v3, the forecast and the plans"):
# the score without spot checks, eleven monthly risk-weighted plans
# (2025-12 … 2026-10) simulated from the seed's planted truth, the score
# with them, and the yield of a twelfth plan against a uniform one.
#
# It writes plans, checks and score runs into the database: point it at a
# scratch copy (createdb -T city1 spot_city1), never at production.
#
#   scripts/validate-spotchecks.sh TRUTH.csv CHECKS_PER_MONTH SEED_BASE [V2_BINARY]
#
# DATABASE_URL names the database; LIFTTRUST (default: lifttrust on PATH)
# the binary under test; V2_BINARY, if given, scores the same data first
# with a v2 build (docs/scoring.md says how to build one). Each step's
# output goes to stdout with a header; `score --truth` prints the figures.
set -euo pipefail
truth=${1:?truth CSV}
checks=${2:?checks per month}
base=${3:?seed base}
v2=${4:-}
lt=${LIFTTRUST:-lifttrust}
now=2026-11-28T10:00:00+08:00
: "${DATABASE_URL:?set DATABASE_URL}"

step() { printf '\n== %s (%s)\n' "$*" "$(date -u +%T)"; }

if [ -n "$v2" ]; then
	step "v2: $v2"
	"$v2" score --now "$now" --truth "$truth"
fi
step "$lt, no spot checks"
"$lt" score --now "$now" --truth "$truth"
step "risk forecast"
"$lt" risk
# Two inspectors per district: a plan assigns each check to one who may
# check that district, never the one who checked the firm last.
for d in $(psql "$DATABASE_URL" -Atc "SELECT DISTINCT district_code FROM lifts ORDER BY 1"); do
	for i in 1 2; do
		"$lt" user add --name "validate-$d-$i" --role inspector --district "$d" \
			--password "validate-$RANDOM$RANDOM$RANDOM" >/dev/null 2>&1 || true
	done
done
for i in $(seq 1 11); do
	month=$(date -u -d "2025-11-15 +$i month" +%Y-%m)
	step "plan $month"
	out=$("$lt" spotcheck plan --month "$month" --checks "$checks" --seed "$((base + i))")
	echo "$out" | head -3
	id=$(echo "$out" | grep -oE 'plan [0-9]+' | head -1 | grep -oE '[0-9]+')
	"$lt" spotcheck simulate --plan "$id" --truth "$truth"
done
step "with $((11 * checks)) simulated spot checks"
"$lt" score --now "$now" --truth "$truth"
step "plan yield, 2026-12"
"$lt" risk
out=$("$lt" spotcheck plan --month 2026-12 --checks "$checks" --seed 11)
echo "$out" | head -3
id=$(echo "$out" | grep -oE 'plan [0-9]+' | head -1 | grep -oE '[0-9]+')
"$lt" spotcheck evaluate --plan "$id" --truth "$truth"
