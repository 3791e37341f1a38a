"""Benchmarks: `python -m benchmarks [NAME ...] [--full]` prints figure, ours, baseline, ratio.

Each `bench_*.py` module has `run(full: bool) -> list[Row]`. Not part of the test suite: timings
on a shared machine are noisy, so each figure is the median of a few runs.

`python -m benchmarks.security_audit [--quick]` (not a `bench_*` module, so not in that run) reruns the
security audit of issue 13: hostile inputs, and per part the inputs tried, crashes and its figure.
"""
