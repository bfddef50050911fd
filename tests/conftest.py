"""Fixtures shared by every test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Real recordings live beside the checkout (`../shared/recordings`), never in the repo.
RECORDINGS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "recordings"
POSTMAN_NCAAF = (
    RECORDINGS_DIR
    / "espn-ncaaf-401756846-postman"
    / "Football.Ncaa.Espn.Event.postman_collection.json"
)


@pytest.fixture(scope="session")
def recordings_dir() -> Path:
    """The directory of real recordings; its absence is an error, never a skip."""
    if not RECORDINGS_DIR.is_dir():
        pytest.fail(f"recordings not found at {RECORDINGS_DIR}: put ../shared beside the checkout")
    return RECORDINGS_DIR


@pytest.fixture(scope="session")
def ncaaf_postman(recordings_dir: Path) -> Path:
    """The Postman recording of Iowa State at Kansas State, 2025-08-23."""
    return POSTMAN_NCAAF
