"""Every SDK exception the Firestore store can meet becomes an error of our one tree (errors.py)."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions

from workplace_roleplay.adapters.firestore_documents import translated as _translated
from workplace_roleplay.errors import (
    AlreadyExists,
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    StoreUnavailable,
)

api: Any = exceptions  # the SDK's exception classes are untyped


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (api.NotFound("no entity"), NotFound),
        (api.AlreadyExists("entity already exists"), AlreadyExists),
        (api.Conflict("conflict"), Conflict),
        (api.Aborted("too much contention"), Conflict),
        (api.InvalidArgument("bad value"), InvalidInput),
        (api.ServiceUnavailable("down"), StoreUnavailable),
        (api.DeadlineExceeded("slow"), StoreUnavailable),
        (api.InternalServerError("oops"), StoreUnavailable),
        (api.ResourceExhausted("quota"), StoreUnavailable),
        (api.FailedPrecondition("The query requires an index"), StoreUnavailable),
        (api.PermissionDenied("service account lacks roles/datastore.user"), StoreUnavailable),
        (api.RetryError("gave up", cause=api.ServiceUnavailable("down")), StoreUnavailable),
        (ValueError("Cannot convert to a Firestore Value"), InvalidInput),
    ],
)
def test_sdk_exceptions_are_translated(raised: Exception, expected: type[AppError]) -> None:
    translated = _translated(raised)
    assert type(translated) is expected


def test_spent_transaction_attempts_are_a_conflict() -> None:
    # async_transactional raises ValueError(...) from the last Aborted once max_attempts is spent.
    exhausted = ValueError("Failed to commit transaction in 5 attempts.")
    exhausted.__cause__ = api.Aborted("contention")
    assert type(_translated(exhausted)) is Conflict


def test_our_own_errors_pass_through_unchanged() -> None:
    mine = NotFound("conversation")
    assert _translated(mine) is mine
