# make bench: every figure of docs/benchmarks.md against its true limit,
# measured in one run (README, "Benchmarks"). BENCH_SCALE=demo (< 3 min)
# or full (the city, < 25 min); writes docs/bench-$(BENCH_SCALE).md.
BENCH_SCALE ?= full
# BENCH_BUDGET=15m lifts the time bound on a machine loaded by other work.

# BENCH_SEEDED=URL uses a database already seeded at the scale (skips the
# seed and copy rows).
export BENCH_SCALE BENCH_BUDGET BENCH_DATABASE_URL BENCH_OUT BENCH_ONLY BENCH_SEEDED

.PHONY: bench
bench:
	go run ./scripts/bench
