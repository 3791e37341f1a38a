"""Benchmarks: `python -m benchmarks [NAME ...] [--full]` prints figure, ours, baseline, ratio.

Each `bench_*.py` module has `run(full: bool) -> list[Row]`. Not part of the test suite: timings
on a shared machine are noisy, so each figure is the median of a few runs.
"""
