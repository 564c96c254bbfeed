"""Parsing lists of IP networks in settings (``TRUSTED_PROXIES``)."""

from __future__ import annotations

import ipaddress

from workplace_roleplay.errors import ConfigurationError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ANY = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def parse_networks(value: str, name: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, ::1"`` -> networks; ``"*"`` -> every address; ``""`` -> none."""
    items = [item.strip() for item in value.split(",") if item.strip()]
    if items == ["*"]:
        return ANY
    networks: list[IPNetwork] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{name}: {item!r} is not an IP address or CIDR network (e.g. 127.0.0.1/32, ::1, or * alone)"
            ) from None
    return tuple(networks)
