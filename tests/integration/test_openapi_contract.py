"""Every service's OpenAPI document is valid, and Schemathesis finds no server error (issue 13, item 10).

The documents are validated with openapi-spec-validator (every ``$ref`` must resolve: the chat document
once pointed at ``#/$defs/Usage``). Schemathesis then sends generated requests (positive and negative
data, a bounded number per operation, so it stays fast in ``make test``) to each service behind
``make run``'s gateway, signed in, and applies ``not_a_server_error``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests.support.local_gateway import run_gateway
from workplace_roleplay.catalog import load_catalog
from workplace_roleplay.web.gateway import build_service_apps

CATALOG = load_catalog()
SERVICES = [entry.name for entry in CATALOG.services]
EXAMPLES_PER_OPERATION = 12


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_document_is_valid(service: str) -> None:
    document = build_service_apps(CATALOG)[service].openapi()
    validate(document)  # raises on any schema error or unresolvable $ref


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Rate limits off: a 429 is not a server error, but it would hide what the routes do.
    with run_gateway(tmp_path_factory.mktemp("data"), RATE_LIMIT_ENABLED="false") as base:
        yield base


def _bearer(base: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/v2/auth/anonymous").json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.integration
@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error(gateway: str, service: str) -> None:
    prefix = CATALOG.get(service).api_prefix
    schema = schemathesis.openapi.from_url(f"{gateway}{prefix}/openapi.json")
    headers = _bearer(gateway)
    failures: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"{service}: an operation schemathesis cannot read: {result.err()!r}"
        operations.append(result.ok())
    assert operations, f"{service} documents no operation"
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(base_url=gateway, headers=headers, checks=[not_a_server_error], timeout=30)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # failures (a group of them): collect each operation's
            failures.append(f"{operation.label}: {exc!r}"[:800])
    assert not failures, "\n\n".join(failures)
