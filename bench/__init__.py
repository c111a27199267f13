"""The benchmark suite: `make bench` (python -m bench.run). Generates its inputs, measures
every figure beside its floor in the same run, writes bench/RESULTS.md and results.json."""
