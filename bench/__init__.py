"""Benchmarks of the complaints pipeline: ``python -m bench`` (see docs/performance.md)."""
