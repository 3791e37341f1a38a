"""Shared fixtures: paths to the shared corpus and small synthetic practices."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "x12"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared X12 corpus (../shared/corpus/x12); its absence is a failure, not a skip."""
    assert CORPUS.is_dir(), f"shared X12 corpus not found beside the project ({CORPUS.name})"
    return CORPUS
