"""The benchmarks' measuring helpers measure what their rows say."""

from __future__ import annotations

import sys

import pytest

from benchmarks._table import fresh_process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_a_fresh_process_is_charged_its_own_peak_memory_not_its_parents() -> None:
    held = b"x" * (400 * 2**20)  # 400 MB resident in this (parent) process while the child runs
    _, peak = fresh_process("xl_ar.cli", ["--version"])
    # the child only starts Python and imports the CLI: well under the 400 MB its parent holds
    # (ru_maxrss of the children would report 400 MB + the child's own, inherited across fork/exec)
    assert 0 < peak < 300
    assert len(held) == 400 * 2**20
