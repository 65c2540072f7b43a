"""Benchmarks: each measures a stage against a reference run in the same process tree."""
