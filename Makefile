# make bench: every figure of docs/benchmarks.md against its true limit,
# measured in one run (README, "Benchmarks"). BENCH_SCALE=demo (< 3 min)
# or full (the city, < 25 min); writes docs/bench-$(BENCH_SCALE).md.
BENCH_SCALE ?= full

.PHONY: bench
bench:
	BENCH_SCALE=$(BENCH_SCALE) go run ./scripts/bench
