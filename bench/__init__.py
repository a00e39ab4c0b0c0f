"""Benchmark of alembic-seeds against the ways reference data was loaded before.

Run it from the repository root: ``python -m bench`` (see ``bench/README.md``).
"""
