"""Rate-limit dependencies: per client IP and per user, per route class, limits from settings.

``dependencies=[rate_limit("model")]`` on a route (after or beside ``CurrentUser``) spends one hit on
``ip:{addr}:{class}`` and one on ``user:{user_id}:{class}``; a refusal is ``RateLimited`` (429 with
``Retry-After`` and the Japanese message, from the error map). Model-calling routes then spend one unit of
the learner's daily model budget (``domain.model_budget``; ``DailyBudgetExceeded``, 429 until midnight JST).
The limiter behind it is Redis (shared
by every instance, GCRA in one Lua script) or in-process; during a Redis outage the Redis adapter
decides locally per instance, so limits never fall away and requests never fail because of it.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from fastapi import Depends, Request

from workplace_roleplay.bootstrap import Resources
from workplace_roleplay.domain.identity.users import User
from workplace_roleplay.errors import RateLimited
from workplace_roleplay.settings.auth import RateScope, RouteClass
from workplace_roleplay.settings.networks import IPNetwork
from workplace_roleplay.web.admission import admit
from workplace_roleplay.web.auth import current_user, settings_of


def client_ip(request: Request, networks: tuple[IPNetwork, ...], position: int) -> str:
    """The client address: the socket peer, unless the peer is a trusted proxy (``TRUSTED_PROXIES``);
    then the ``position``-th entry from the right of X-Forwarded-For, the one that proxy chain appended
    (entries further left are whatever the client sent, so they are never believed). ADR 0018."""
    peer = request.client.host if request.client else "unknown"
    if not networks or not _in_networks(peer, networks):
        return peer
    forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
    if len(forwarded) < position:
        return peer
    entry = forwarded[-position]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return peer  # not written by our proxy: never a key the client could choose


def _in_networks(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


async def _spend(request: Request, route_class: RouteClass, user_id: str | None) -> None:
    settings = settings_of(request)
    resources: Resources = request.app.state.resources
    if not settings.RATE_LIMIT_ENABLED:
        if route_class == "model" and user_id:
            await resources.model_budget.spend(user_id)  # the daily budget is not a rate limit: always on
        return
    address = client_ip(request, settings.trusted_proxy_networks, settings.FORWARDED_CLIENT_POSITION)
    keys: list[tuple[RateScope, str]] = [("ip", f"ip:{address}:{route_class}")]
    if user_id:
        keys.append(("user", f"user:{user_id}:{route_class}"))
    for scope, key in keys:
        limit, period = settings.rate_rule(route_class, scope)
        decision = await resources.rate_limiter.hit(key, limit=limit, period_s=period)
        if not decision.allowed:
            raise RateLimited(decision.retry_after_header, detail=f"{scope} limit of route class {route_class}")
    if route_class == "model" and user_id:
        # One cache round trip after the limits allowed the call (a refused call spends no budget).
        await resources.model_budget.spend(user_id)


def rate_limit(route_class: RouteClass) -> Any:
    """Per-IP and per-user limits of ``route_class`` for an authenticated route.

    Model calls first take a slot of the process's admission limit (``web.admission``): a process at
    capacity answers 503 at once, before any rate-limit or store round trip — and, through
    ``AdmissionGate``, before authentication and body parsing.
    """

    async def dependency(request: Request, user: Annotated[User, Depends(current_user)]) -> None:
        if route_class == "model":
            await admit(request)
        await _spend(request, route_class, user.user_id)

    return Depends(dependency)


def ip_rate_limit(route_class: RouteClass) -> Any:
    """Per-IP limits only, for routes used before anyone is signed in (sign-in, refresh)."""

    async def dependency(request: Request) -> None:
        await _spend(request, route_class, None)

    return Depends(dependency)
