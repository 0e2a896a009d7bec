"""Benchmarks of the writeback engine against the raw stack (see bench/README.md)."""
