"""Benchmarks: `./cockpit bench` (or `python -m bench [name ...]`). Numbers are printed, not asserted."""
