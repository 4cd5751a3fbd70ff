"""Benchmarks: `make bench` (python -m bench) prints figures and writes bench/results.json."""
