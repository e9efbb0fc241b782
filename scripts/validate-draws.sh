#!/usr/bin/env bash
# Measures how much the validation figures of scoring model v3 move with
# the plans' random draw (docs/scoring.md, "Validation of v3": "How much of
# that is the draw"). One seeded city gives one set of v2 figures, but v3's
# depend on which lifts eleven months of plans happen to check; this runs
# that year once per plan-seed base, each on a fresh copy of the same
# database, and prints each draw's figures and their mean and standard
# deviation.
#
#   scripts/validate-draws.sh DATABASE TRUTH.csv BASE...
#
# DATABASE is a seeded database on PGSERVER (default
# postgres://postgres@127.0.0.1:5432) with no plans; the first call scores
# it without checks, fits the forecast and adds two inspectors per
# district, and later calls reuse that. Each draw copies it (CREATE
# DATABASE … TEMPLATE), plans 2025-12 … 2026-10 with 1,000 checks and seeds
# BASE+1 … BASE+11, simulates the checks from TRUTH, scores, and drops the
# copy. LIFTTRUST names the binary (default: lifttrust on PATH). About
# 4-6 minutes per draw on 2 cores at city scale, and one copy's disk.
set -euo pipefail
src=${1:?database}
truth=${2:?truth CSV}
shift 2
[ $# -gt 0 ] || { echo "give at least one plan-seed base" >&2; exit 2; }
lt=${LIFTTRUST:-lifttrust}
server=${PGSERVER:-postgres://postgres@127.0.0.1:5432}
now=2026-11-28T10:00:00+08:00
url() { echo "$server/$1?sslmode=disable"; }
export PGOPTIONS="-c client_min_messages=warning" # no NOTICE for DROP … IF EXISTS

# figures prints one line from `score --truth`: AUC, ρ(lifts, score) per
# profile, ρ(latent quality, rank), the likely range's coverage and the
# detectable planted fake visits missing from the evidence.
figures() {
	awk '
		/ROC AUC/ { auc = $4 }
		/Spearman ρ\(lifts, score\)/ { rho[$2] = $6; sub(";", "", rho[$2]) }
		/latent quality/ { q = $8 }
		/fake visits found as evidence/ { sub(";", "", $11); missed = $11 - $9 }
		/likely range holds/ { for (i = 1; i <= NF; i++) if ($i == "%;") cov = substr($(i-1), 2) }
		END { printf "auc=%s excellent=%s good=%s fraudulent=%s poor=%s quality=%s coverage=%s fakes_missed=%s\n", auc, rho["excellent"], rho["good"], rho["fraudulent"], rho["poor"], q, cov, missed }'
}

if [ "$(psql "$(url "$src")" -Atc "SELECT count(*) FROM risk_runs")" = 0 ]; then
	echo "== preparing $src: score without checks, forecast, inspectors ($(date -u +%T))"
	DATABASE_URL=$(url "$src") "$lt" score --now "$now" --truth "$truth" | figures | sed 's/^/no checks: /'
	DATABASE_URL=$(url "$src") "$lt" risk >/dev/null
	for d in $(psql "$(url "$src")" -Atc "SELECT DISTINCT district_code FROM lifts ORDER BY 1"); do
		for i in 1 2; do
			DATABASE_URL=$(url "$src") "$lt" user add --name "validate-$d-$i" --role inspector --district "$d" \
				--password "validate-$RANDOM$RANDOM$RANDOM" >/dev/null 2>&1 || true
		done
	done
fi

lines=()
for base in "$@"; do
	db="${src}_draw$base"
	psql "$(url postgres)" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $src"
	export DATABASE_URL
	DATABASE_URL=$(url "$db")
	for i in $(seq 1 11); do
		month=$(date -u -d "2025-11-15 +$i month" +%Y-%m)
		out=$("$lt" spotcheck plan --month "$month" --checks 1000 --seed "$((base + i))")
		id=$(echo "$out" | grep -oE 'plan [0-9]+' | head -1 | grep -oE '[0-9]+')
		"$lt" spotcheck simulate --plan "$id" --truth "$truth" >/dev/null
	done
	line=$("$lt" score --now "$now" --truth "$truth" | figures)
	echo "draw $base: $line ($(date -u +%T))"
	lines+=("$line")
	psql "$(url postgres)" -qc "DROP DATABASE $db"
done

printf '%s\n' "${lines[@]}" | awk '
	{ for (i = 1; i <= NF; i++) { split($i, kv, "="); k[i] = kv[1]; s[i] += kv[2]; ss[i] += kv[2] * kv[2] } n++ }
	END {
		printf "mean (sd) over %d draws:", n
		for (i = 1; i in k; i++) {
			m = s[i] / n; v = n > 1 ? (ss[i] - n * m * m) / (n - 1) : 0
			f = k[i] == "auc" ? " %s=%.4f (%.4f)" : k[i] == "coverage" ? " %s=%.1f (%.1f)" : k[i] == "fakes_missed" ? " %s=%.0f (%.0f)" : " %s=%+.3f (%.3f)"
			printf f, k[i], m, (v > 0 ? sqrt(v) : 0)
		}
		printf "\n"
	}'
