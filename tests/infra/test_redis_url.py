"""The REDIS_URL Terraform writes into Secret Manager is one our Redis adapter turns into a verified TLS client."""

from __future__ import annotations

import re
import ssl

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.connection import SSLConnection

from tests.infra.hcl import Tree
from workplace_roleplay.adapters.redis_connection import RedisConnection
from workplace_roleplay.ports import SystemClock


def _redis_url_template(tree: Tree, module: str = "redis") -> tuple[str, str]:
    local_values = tree.locals[tree.module(module)]
    match = re.match(r'\$\{format\("([^"]+)"', local_values["redis_url"])
    assert match, local_values["redis_url"]
    return match.group(1), local_values["ca_file"]


@pytest.mark.parametrize("module", ["redis", "redis_cluster"])
def test_the_ca_file_named_in_the_url_is_the_mounted_secret(real_tree: Tree, module: str) -> None:
    _, ca_file = _redis_url_template(real_tree, module)
    output = next(
        b
        for b in real_tree.blocks
        if b.kind == "output" and b.labels == ("ca_secret",) and b.module_dir == real_tree.module(module)
    )
    assert f"{output.body['value']['dir']}/{output.body['value']['path']}" == ca_file
    stack_settings = (real_tree.module("stack") / "settings.tf").read_text(encoding="utf-8")
    # local.redis is whichever product the environment chose (ADR 0019); both mount the CA the same way.
    assert "(local.redis.ca_secret.dir) = {" in stack_settings


def test_the_cluster_url_builds_a_tls_cluster_client_that_verifies_the_cluster_ca(real_tree: Tree) -> None:
    template, ca_file = _redis_url_template(real_tree, "redis_cluster")
    url = template.replace("%s", "10.8.1.5", 1).replace("%d", "6379", 1).replace("%s", ca_file, 1)
    assert "%" not in url
    connection = RedisConnection.from_url(url, timeout_s=0.25, clock=SystemClock(), mode="cluster")
    client = connection.client
    assert isinstance(client, RedisCluster)
    kwargs = client.get_connection_kwargs()
    assert kwargs["connection_class"] is SSLConnection
    assert kwargs["ssl_ca_certs"] == ca_file
    assert kwargs["ssl_cert_reqs"] == "required"
    assert "password" not in kwargs or kwargs["password"] is None  # IAM token or PSC only, never a password


def test_the_url_builds_an_authenticated_tls_client_that_verifies_the_instance_ca(real_tree: Tree) -> None:
    template, ca_file = _redis_url_template(real_tree)
    url = template.replace("%s", "s3cr3t-auth", 1).replace("%s", "10.1.2.3", 1).replace("%d", "6378", 1)
    url = url.replace("%s", ca_file, 1)
    assert "%" not in url
    connection = RedisConnection.from_url(url, timeout_s=0.25, clock=SystemClock())
    client = connection.client
    assert isinstance(client, Redis)
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    assert pool.connection_class is SSLConnection
    assert (kwargs["host"], kwargs["port"], kwargs["password"]) == ("10.1.2.3", 6378, "s3cr3t-auth")
    # The connection object (built, not connected) carries the TLS settings the handshake will use.
    tls = pool.make_connection().ssl_context  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    assert tls.cert_reqs == ssl.CERT_REQUIRED
    assert tls.ca_certs == ca_file
    assert tls.check_hostname is False  # the CA is the instance's own; its certificate names no host
