"""Shared fixtures: where the offline data lives, and skips when it is absent."""

from __future__ import annotations

import pytest

from zclib.paths import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir():
    """../shared beside the checkout (offline data and published references)."""
    if not SHARED.exists():
        pytest.skip("../shared (offline data and references) is not present")
    return SHARED
