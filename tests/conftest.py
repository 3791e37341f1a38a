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


@pytest.fixture(scope="session")
def practice_5k(tmp_path_factory) -> Path:
    """The synthetic practice of the acceptance criteria: 5,000 claims, seed 7 (generated once)."""
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("practice_5k")
    generate(folder, claims=5000, months=12, seed=7)
    return folder


@pytest.fixture(scope="session")
def practice_small(tmp_path_factory) -> Path:
    """A small synthetic practice (600 claims, seed 11) for slower checks such as pyx12."""
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("practice_small")
    generate(folder, claims=600, months=6, seed=11)
    return folder
