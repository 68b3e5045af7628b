"""Benchmarks: `make bench` (and the narrower targets in the Makefile), each printing a table and the ratio to the peers measured in the same run."""
