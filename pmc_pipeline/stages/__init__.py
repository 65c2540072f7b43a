"""Stages: each reads its input files, calls the pure code, and writes atomically."""
