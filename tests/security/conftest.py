"""Fixtures of the security suite: the identity service over each document-store backend."""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeStore
from tests.support.identity import IdentityKit, identity_kit


@pytest.fixture(params=["fake"])
async def kit(request: pytest.FixtureRequest) -> IdentityKit:
    return identity_kit(FakeStore())
