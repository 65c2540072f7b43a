"""Shared fixtures: the real corpus beside the checkout, skipped with a reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _corpus_path() -> Path:
    """The corpus lives in ../shared/corpus next to the checkout; PMC_CORPUS overrides it."""
    return Path(os.environ.get("PMC_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """Path of the real article corpus, or skip: it is not part of the repository."""
    path = _corpus_path()
    if not (path / "manifest.json").is_file():
        pytest.skip(f"real corpus not found at {path} (set PMC_CORPUS to its folder)")
    return path
