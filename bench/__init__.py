"""Benchmarks. ``python -m bench`` (or ``make bench``) runs them all; each also runs on its own."""
