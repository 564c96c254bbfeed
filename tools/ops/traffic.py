"""The traffic file of an environment and the safe transitions between its states.

Schema (shared with Terraform's ``traffic.auto.tfvars.json``; keys are the catalog's service names)::

    {"legacy_fallback": false,
     "traffic": {"chat": {"stable_revision": "chat-stable", "candidate_revision": null,
                          "candidate_percent": 0, "legacy_percent": 0}, ...}}

``candidate_percent`` is the candidate revision's share of the service's Cloud Run traffic;
``legacy_percent`` is the load balancer's share of the service's paths still sent to the legacy app;
``legacy_fallback`` sends the whole site to the legacy app (the 30-second full rollback).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


class OpsError(Exception):
    """A refused ops command: bad input or an unsafe state. The message says what to do instead."""


class OpsFailed(OpsError):
    """A command that was allowed but whose action failed (terraform, nginx, a process)."""


@dataclass(frozen=True, slots=True)
class ServiceTraffic:
    """How one service's traffic is split."""

    stable_revision: str
    candidate_revision: str | None = None
    candidate_percent: int = 0
    legacy_percent: int = 0

    @property
    def stable_percent(self) -> int:
        return 100 - self.candidate_percent

    def to_json(self) -> dict[str, Any]:
        return {
            "stable_revision": self.stable_revision,
            "candidate_revision": self.candidate_revision,
            "candidate_percent": self.candidate_percent,
            "legacy_percent": self.legacy_percent,
        }


@dataclass(frozen=True, slots=True)
class TrafficState:
    """The whole traffic file."""

    legacy_fallback: bool
    traffic: dict[str, ServiceTraffic]

    def to_json(self) -> dict[str, Any]:
        return {
            "legacy_fallback": self.legacy_fallback,
            "traffic": {name: t.to_json() for name, t in self.traffic.items()},
        }

    def service(self, name: str) -> ServiceTraffic:
        try:
            return self.traffic[name]
        except KeyError:
            known = ", ".join(sorted(self.traffic))
            raise OpsError(f"unknown service {name!r} (known: {known})") from None

    def with_service(self, name: str, value: ServiceTraffic) -> TrafficState:
        return replace(self, traffic={**self.traffic, name: value})


def default_state(cloud_run_names: dict[str, str]) -> TrafficState:
    """Every service (catalog name -> Cloud Run name) 100 % on ``<cloud run name>-stable``, no canary."""
    return TrafficState(
        legacy_fallback=False,
        traffic={
            name: ServiceTraffic(stable_revision=f"{run_name}-stable") for name, run_name in cloud_run_names.items()
        },
    )


def validate_percent(value: object, what: str) -> int:
    """An integer percentage 0-100 (bools and floats are refused: 10.5 % is not a Cloud Run split)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise OpsError(f"{what} must be an integer 0-100, got {value!r}")
    if not 0 <= value <= 100:
        raise OpsError(f"{what} must be between 0 and 100, got {value}")
    return value


def parse_state(raw: object, services: list[str], prefixes: dict[str, str] | None = None) -> TrafficState:
    """Validate a decoded traffic file against the catalog's services.

    ``prefixes`` maps a service to its Cloud Run name: revision names must start with ``<name>-``
    (Cloud Run names revisions so, and the Terraform roots refuse anything else).
    """
    if not isinstance(raw, dict) or set(raw) != {"legacy_fallback", "traffic"}:
        raise OpsError("traffic file must be an object with exactly 'legacy_fallback' and 'traffic'")
    fallback = raw["legacy_fallback"]
    if not isinstance(fallback, bool):
        raise OpsError("legacy_fallback must be true or false")
    body = raw["traffic"]
    if not isinstance(body, dict):
        raise OpsError("traffic must be an object keyed by service name")
    if set(body) != set(services):
        missing = sorted(set(services) - set(body))
        extra = sorted(set(body) - set(services))
        raise OpsError(f"traffic services differ from the catalog (missing: {missing}, unknown: {extra})")
    parsed: dict[str, ServiceTraffic] = {}
    for name in services:
        entry = body[name]
        keys = {"stable_revision", "candidate_revision", "candidate_percent", "legacy_percent"}
        if not isinstance(entry, dict) or set(entry) != keys:
            raise OpsError(f"traffic.{name} must have exactly the keys {sorted(keys)}")
        stable = entry["stable_revision"]
        candidate = entry["candidate_revision"]
        if not isinstance(stable, str) or not stable:
            raise OpsError(f"traffic.{name}.stable_revision must be a non-empty string")
        if candidate is not None and (not isinstance(candidate, str) or not candidate):
            raise OpsError(f"traffic.{name}.candidate_revision must be null or a non-empty string")
        percent = validate_percent(entry["candidate_percent"], f"traffic.{name}.candidate_percent")
        legacy = validate_percent(entry["legacy_percent"], f"traffic.{name}.legacy_percent")
        if candidate is None and percent != 0:
            raise OpsError(f"traffic.{name}: candidate_percent is {percent} but there is no candidate_revision")
        if candidate is not None and candidate == stable:
            raise OpsError(f"traffic.{name}: candidate and stable revision are both {stable!r}")
        if prefixes is not None:
            for revision in filter(None, (stable, candidate)):
                if not revision.startswith(prefixes[name] + "-"):
                    raise OpsError(
                        f"traffic.{name}: revision {revision!r} must start with the Cloud Run service name "
                        f"{prefixes[name] + '-'!r}"
                    )
        parsed[name] = ServiceTraffic(stable, candidate, percent, legacy)
    return TrafficState(legacy_fallback=fallback, traffic=parsed)


# --- transitions: each returns the new state or raises OpsError for an unsafe request -------------


def canary(state: TrafficState, service: str, percent: int, revision: str | None) -> TrafficState:
    """Send ``percent`` % of ``service`` to a candidate revision (0 % deploys it dark)."""
    current = state.service(service)
    validate_percent(percent, "PERCENT")
    target = revision or current.candidate_revision
    if target is None:
        raise OpsError(f"{service}: no candidate revision; pass --revision NAME (the revision to canary)")
    if target == current.stable_revision:
        raise OpsError(f"{service}: {target!r} is already the stable revision; nothing to canary")
    if current.candidate_revision is not None and target != current.candidate_revision:
        raise OpsError(
            f"{service}: another canary is in flight ({current.candidate_revision!r} at "
            f"{current.candidate_percent} %); promote or roll it back first"
        )
    return state.with_service(service, replace(current, candidate_revision=target, candidate_percent=percent))


def promote(state: TrafficState, service: str, *, force: bool = False) -> TrafficState:
    """Make the candidate the stable revision at 100 %."""
    current = state.service(service)
    if current.candidate_revision is None:
        raise OpsError(f"{service}: no candidate revision to promote (start one with canary)")
    if current.candidate_percent == 0 and not force:
        raise OpsError(
            f"{service}: candidate {current.candidate_revision!r} has served no traffic yet; "
            "canary it first (or pass --force)"
        )
    return state.with_service(
        service,
        replace(current, stable_revision=current.candidate_revision, candidate_revision=None, candidate_percent=0),
    )


def rollback(state: TrafficState, service: str, *, to_revision: str | None = None) -> TrafficState:
    """Send 100 % of ``service`` back to its stable revision (or to ``to_revision``), dropping the candidate."""
    current = state.service(service)
    if to_revision is not None:
        if to_revision == current.stable_revision and current.candidate_revision is None:
            raise OpsError(f"{service}: already 100 % on {to_revision!r}; nothing to roll back")
        return state.with_service(service, ServiceTraffic(to_revision, None, 0, current.legacy_percent))
    if current.candidate_revision is None:
        raise OpsError(
            f"{service}: no canary in flight, already 100 % on {current.stable_revision!r}; "
            "to undo a promotion pass --to PREVIOUS_REVISION"
        )
    return state.with_service(service, replace(current, candidate_revision=None, candidate_percent=0))


def adopt(state: TrafficState, latest: dict[str, str], services: list[str]) -> TrafficState:
    """Make each service's newest revision (created by a Terraform template change, e.g. a runtime
    switch) its stable revision. Refused while a canary is in flight: which image the new revision
    runs is then ambiguous."""
    changed = state
    for name in services:
        current = state.service(name)
        newest = latest.get(name)
        if not newest:
            raise OpsError(f"{name}: terraform reports no latest revision")
        if current.candidate_revision is not None:
            raise OpsError(
                f"{name}: a canary is in flight ({current.candidate_revision!r}); promote or roll back first"
            )
        if newest != current.stable_revision:
            changed = changed.with_service(name, replace(current, stable_revision=newest))
    if changed == state:
        raise OpsError("every service already serves its newest revision; nothing to adopt")
    return changed


def set_legacy_share(state: TrafficState, service: str, percent: int) -> TrafficState:
    """Keep ``percent`` % of one service's paths on the legacy app (gradual migration or its undo)."""
    current = state.service(service)
    validate_percent(percent, "PERCENT")
    if current.legacy_percent == percent:
        raise OpsError(f"{service}: legacy share is already {percent} %; nothing to change")
    return state.with_service(service, replace(current, legacy_percent=percent))


def set_legacy(state: TrafficState, on: bool) -> TrafficState:
    """Whole-site fallback to the legacy app (on) or back to the services (off)."""
    if state.legacy_fallback == on:
        raise OpsError(f"legacy fallback is already {'on' if on else 'off'}; nothing to change")
    return replace(state, legacy_fallback=on)


# --- the file on disk ----------------------------------------------------------------------------


class TrafficFile:
    """A traffic file edited under an exclusive lock and replaced atomically."""

    def __init__(self, path: Path, services: list[str], prefixes: dict[str, str] | None = None) -> None:
        self.path = path
        self.services = services
        self.prefixes = prefixes

    def read(self) -> TrafficState:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise OpsError(f"traffic file {self.path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise OpsError(f"traffic file {self.path} is not valid JSON: {exc}") from None
        return parse_state(raw, self.services, self.prefixes)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialize concurrent ops commands on one environment (two on-call engineers, one file).

        The lock is on the directory: the file's inode changes with every atomic replace, and a lock
        file would be one more file in the Terraform root.
        """
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def write(self, state: TrafficState) -> None:
        """Validate, write to a temporary file in the same directory, fsync, then rename over the old file."""
        parse_state(state.to_json(), self.services, self.prefixes)  # every transition ends in a valid file
        text = json.dumps(state.to_json(), indent=2, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def describe(state: TrafficState) -> str:
    """A human-readable table of the split (the ``status`` command)."""
    lines = [f"legacy_fallback: {'ON (whole site → legacy)' if state.legacy_fallback else 'off'}"]
    lines.append(f"{'service':<16} {'stable':<34} {'candidate':<28} {'cand %':>6} {'legacy %':>8}")
    for name, t in state.traffic.items():
        candidate = t.candidate_revision or "-"
        lines.append(
            f"{name:<16} {t.stable_revision + f' ({t.stable_percent}%)':<34} {candidate:<28} "
            f"{t.candidate_percent:>6} {t.legacy_percent:>8}"
        )
    return "\n".join(lines)
