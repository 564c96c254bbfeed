"""Whose X-Forwarded-For is believed (issue 13, item 4): only entries a configured proxy appended.

`make run` has no proxy (the socket peer is the client), `make stack` trusts its nginx on loopback
(the one entry nginx appends), the cloud trusts the load balancer's appended '<client>, <lb>'.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.auth_app import auth_app, auth_settings
from tests.support.fakes import FakeStore
from workplace_roleplay.errors import ConfigurationError

SIGN_IN = "/api/v2/auth/anonymous"


async def statuses(forwarded: list[str], client: tuple[str, int] = ("127.0.0.1", 5555), **settings: Any) -> list[int]:
    """Sign-in status codes for one request per X-Forwarded-For value (limit: 2 per minute per address)."""
    app = auth_app(auth_settings(RATE_LIMIT_AUTH_IP="2/60", **settings), FakeStore())
    codes = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="https://wr.test") as http:
            for value in forwarded:
                http.cookies.clear()  # each request a new visitor
                response = await http.post(SIGN_IN, headers={"X-Forwarded-For": value})
                codes.append(response.status_code)
    return codes


ROTATING_TWO = [f"10.9.{i}.1, 203.0.113.{i}" for i in range(4)]
ROTATING_ONE = [f"198.51.100.{i}" for i in range(4)]


async def test_make_run_ignores_a_rotating_forwarded_header() -> None:
    # Defaults of make run / tests: no proxy in front, the socket peer is the client.
    assert await statuses(ROTATING_TWO) == [201, 201, 429, 429]
    assert await statuses(ROTATING_ONE) == [201, 201, 429, 429]


async def test_the_default_trusts_no_proxy_outside_the_cloud() -> None:
    settings = auth_settings()
    assert settings.trusted_proxy_networks == ()


async def test_make_stack_trusts_the_one_entry_its_nginx_appended() -> None:
    stack: dict[str, Any] = {"TRUSTED_PROXIES": "127.0.0.1/32,::1/128", "FORWARDED_CLIENT_POSITION": 1}
    # The client rotates what it sends; nginx appends the real address (the same every time).
    sent_by_client = [f"10.9.{i}.1, 192.0.2.7" for i in range(4)]
    assert await statuses(sent_by_client, **stack) == [201, 201, 429, 429]
    # Different real clients behind nginx have their own budgets.
    assert await statuses(["192.0.2.7", "192.0.2.8", "192.0.2.9"], **stack) == [201, 201, 201]


async def test_a_peer_that_is_not_a_trusted_proxy_cannot_forward() -> None:
    only_nginx: dict[str, Any] = {"TRUSTED_PROXIES": "127.0.0.1/32", "FORWARDED_CLIENT_POSITION": 1}
    codes = await statuses(ROTATING_ONE, client=("192.0.2.50", 4444), **only_nginx)
    assert codes == [201, 201, 429, 429]


async def test_the_cloud_trusts_the_load_balancer_entry() -> None:
    cloud: dict[str, Any] = {"TRUSTED_PROXIES": "*", "FORWARDED_CLIENT_POSITION": 2}
    # The client may prepend anything; the entry the load balancer added (second from the right) counts.
    assert await statuses([f"{i}.6.6.6, 203.0.113.7, 10.0.0.1" for i in range(3)], **cloud) == [201, 201, 429]
    assert await statuses(["203.0.113.8, 10.0.0.1", "203.0.113.9, 10.0.0.1"], **cloud) == [201, 201]


async def test_garbage_where_the_proxy_entry_should_be_falls_back_to_the_peer() -> None:
    cloud: dict[str, Any] = {"TRUSTED_PROXIES": "*", "FORWARDED_CLIENT_POSITION": 2}
    codes = await statuses([f"not-an-ip-{i}, 10.0.0.1" for i in range(3)], **cloud)
    assert codes == [201, 201, 429]


@pytest.mark.parametrize("value", ["10.0.0.0/33", "localhost", "127.0.0.1/8/2"])
def test_an_invalid_trusted_proxy_setting_stops_startup(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"TRUSTED_PROXIES: .* is not an IP address"):
        auth_settings(TRUSTED_PROXIES=value)
