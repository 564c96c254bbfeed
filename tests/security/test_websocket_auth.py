"""WebSockets: the same identity (cookie or Bearer), and no cross-site socket hijacking."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support.auth_app import auth_app, auth_settings
from tests.support.fakes import FakeStore

SOCKET = "/api/v2/auth/probe/socket"


@pytest.fixture
def client() -> TestClient:
    return TestClient(auth_app(auth_settings(), FakeStore()), base_url="https://testserver")


def test_cookie_and_bearer_sockets_know_the_user(client: TestClient) -> None:
    with client:
        body = client.post("/api/v2/auth/anonymous").json()
        # The test client's jar does not send Secure cookies to a wss:// URL; a browser does, so set it here.
        cookie = {"Cookie": f"wr_access={body['access_token']}"}
        with client.websocket_connect(SOCKET, headers={"Origin": "https://testserver", **cookie}) as ws:
            assert ws.receive_json() == {"user_id": body["user_id"], "auth": "cookie"}
        client.cookies.clear()
        with client.websocket_connect(SOCKET, headers={"Authorization": f"Bearer {body['access_token']}"}) as ws:
            assert ws.receive_json() == {"user_id": body["user_id"], "auth": "bearer"}


def test_cross_origin_socket_is_refused_even_with_cookies(client: TestClient) -> None:
    with client:
        token = client.post("/api/v2/auth/anonymous").json()["access_token"]
        headers = {"Origin": "https://evil.example", "Cookie": f"wr_access={token}"}
        with pytest.raises(WebSocketDisconnect) as caught, client.websocket_connect(SOCKET, headers=headers) as ws:
            ws.receive_json()
        assert caught.value.code == 1008
        assert caught.value.reason == "cross-origin WebSocket refused"


def test_socket_without_credentials_is_refused(client: TestClient) -> None:
    with client, pytest.raises(WebSocketDisconnect) as caught, client.websocket_connect(SOCKET) as ws:
        ws.receive_json()
    assert caught.value.code == 1008
