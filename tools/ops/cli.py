"""The ops command line: ``make ops ARGS="status --env prod"``. Exit 0 done, 2 refused, 1 failed."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence

from tools.ops import checks, switches
from tools.ops.environments import ENVS, Target, break_glass_traffic
from tools.ops.settings import OpsSettings
from tools.ops.stack_state import SWITCHES_FILE, read_state
from tools.ops.traffic import (
    OpsError,
    OpsFailed,
    TrafficState,
    adopt,
    canary,
    describe,
    promote,
    rollback,
    set_legacy,
    set_legacy_share,
)
from workplace_roleplay.catalog import load_catalog

FAILED = 1
REFUSED = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ops", description="Traffic, fallback and cache operations.")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, *, traffic: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--env", choices=ENVS, default="local", help="environment (default: local)")
        if traffic:
            p.add_argument("--apply", action="store_true", help="run terraform apply instead of printing it")
            p.add_argument("--auto-approve", action="store_true", help="pass -auto-approve to terraform")
        return p

    command("status", "show the current split per service", traffic=False).add_argument(
        "--json", action="store_true", help="print the traffic file as JSON"
    )
    p = command("canary", "send PERCENT %% of SERVICE to a candidate revision")
    p.add_argument("service")
    p.add_argument("percent", type=int)
    p.add_argument("--revision", help="candidate revision (required when none is in flight)")
    p = command("promote", "make the candidate the stable revision (100 %%)")
    p.add_argument("service")
    p.add_argument("--force", action="store_true", help="promote a candidate that has served 0 %%")
    p = command("rollback", "send 100 %% of SERVICE back to its stable revision")
    p.add_argument("service")
    p.add_argument("--to", dest="to_revision", help="a known-good revision (undo a promotion)")
    p = command("legacy", "whole-site fallback to the legacy app")
    p.add_argument("state", choices=("on", "off"))
    p = command("legacy-share", "keep PERCENT %% of one service's paths on the legacy app")
    p.add_argument("service")
    p.add_argument("percent", type=int)
    p = command("adopt", "make the newest revisions (after a Terraform template change) stable")
    p.add_argument("services", nargs="*", help="services (default: all)")
    p = command("switch", "set or clear an emergency runtime switch")
    p.add_argument("name", choices=sorted(switches.SWITCHES))
    p.add_argument("value", nargs="?", help="new value (omit with --clear)")
    p.add_argument("--clear", action="store_true", help="remove the switch (back to the default)")
    p = command("check", "health and readiness of every service through nginx / the LB", traffic=False)
    p.add_argument("--base-url", help="site URL, e.g. https://example.jp (default for local: the stack)")
    p = sub.add_parser("restart", help="restart local stack processes (all, or one service's)")
    p.add_argument("service", nargs="?")
    p = sub.add_parser("cache-clear", help="delete cached model results (Redis at REDIS_URL)")
    p.add_argument("--prefix", default="ai_cache:", help="key prefix (default ai_cache:)")
    p = sub.add_parser("session-cleanup", help="drop hot session state user_session:* (REDIS_URL, every shard)")
    p.add_argument("--user-prefix", default="", help="only users whose id starts with this")
    p = command("migrate-sessions", "migrate every stored legacy session (inline locally, Cloud Tasks)", traffic=False)
    p.add_argument("--source", required=True, help="filesystem:<dir> or redis://… (LEGACY_SESSION_SOURCE form)")
    p.add_argument("--dry-run", action="store_true", help="read and transform every session, write nothing")
    p = sub.add_parser("stack", help="run the local nginx stack in the foreground (make stack)")
    p.add_argument("--store", choices=("firestore", "sqlite"), help="store backend (default STACK_STORE)")
    p.add_argument("--port", type=int, help="nginx port (default PORT, 8080)")
    p.add_argument("--candidates", help="services with a candidate process (default STACK_CANDIDATES)")
    return parser


def _target(args: argparse.Namespace, settings: OpsSettings) -> Target:
    return Target(name=args.env, settings=settings, catalog=load_catalog())


def _change(
    args: argparse.Namespace, settings: OpsSettings, transition: Callable[[TrafficState], TrafficState]
) -> None:
    """Edit the traffic file under its lock, make it live, and restore it if going live fails locally."""
    target = _target(args, settings)
    file = target.traffic_file()
    with file.locked():
        before = file.read()
        after = transition(before)
        target.check_applicable(after)
        file.write(after)
        try:
            took = target.take_effect(after, apply=args.apply, auto_approve=args.auto_approve)
        except OpsError:
            if target.is_local:
                file.write(before)
            raise
    print(f"{file.path}: updated")
    print(describe(after))
    if took is not None:
        print(f"took effect in {took * 1000:.0f} ms" if target.is_local else f"applied in {took:.1f} s")
    service = getattr(args, "service", None)
    if service and not target.is_local:
        print("break-glass (Terraform unavailable): " + break_glass_traffic(target, service, after))


def _switch(args: argparse.Namespace, settings: OpsSettings) -> None:
    target = _target(args, settings)
    if args.clear == (args.value is not None):
        raise OpsError("give either a VALUE or --clear")
    if target.is_local:
        path = target.root / SWITCHES_FILE
        read_state(target.root)
    else:
        if not target.root.is_dir():
            raise OpsError(f"environment {args.env!r}: {target.root} does not exist")
        path = target.root / switches.CLOUD_SWITCHES_FILE
    values = switches.read_switches(path)
    if args.clear:
        values.pop(args.name, None)
    else:
        values[args.name] = switches.parse_value(args.name, args.value)
    switches.write_switches(path, values, cloud=not target.is_local)
    print(f"{path}: {args.name}={values.get(args.name, '(default)')}")
    if target.is_local:
        _restart(settings, None)
    else:
        target.terraform(apply=args.apply, auto_approve=args.auto_approve)
        # Traffic is pinned to named revisions, so the revisions this apply creates serve nothing yet.
        print(f'then, so the new revisions take the traffic:  make ops ARGS="adopt --env {args.env} --apply"')


def _restart(settings: OpsSettings, service: str | None) -> None:
    from tools.ops.stack import request_restart

    took = request_restart(settings.STACK_DIR, service)
    print(f"restarted {service or 'all services'} in {took:.1f} s")


def run(argv: Sequence[str], settings: OpsSettings | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = settings or OpsSettings()
    try:
        match args.command:
            case "status":
                state = _target(args, settings).traffic_file().read()
                print(json.dumps(state.to_json(), indent=2) if args.json else describe(state))
                if args.env == "local" and not args.json:
                    stack = read_state(settings.STACK_DIR)
                    print(f"local stack on :{stack.port} (store {stack.store}); processes:")
                    for p in stack.processes:
                        print(f"  {p.revision:<28} port {p.port:<6} pid {p.pid}")
            case "canary":
                _change(args, settings, lambda s: canary(s, args.service, args.percent, args.revision))
            case "promote":
                _change(args, settings, lambda s: promote(s, args.service, force=args.force))
            case "rollback":
                _change(args, settings, lambda s: rollback(s, args.service, to_revision=args.to_revision))
            case "legacy":
                _change(args, settings, lambda s: set_legacy(s, args.state == "on"))
            case "legacy-share":
                _change(args, settings, lambda s: set_legacy_share(s, args.service, args.percent))
            case "adopt":
                target = _target(args, settings)
                latest = target.latest_revisions()
                names = args.services or [e.name for e in target.catalog.services]
                _change(args, settings, lambda s: adopt(s, latest, names))
            case "switch":
                _switch(args, settings)
            case "check":
                if args.base_url:
                    base = args.base_url.rstrip("/")
                elif args.env == "local":
                    base = f"http://127.0.0.1:{read_state(settings.STACK_DIR).port}"
                else:
                    raise OpsError("pass --base-url https://<the environment's host> for a cloud environment")
                print(checks.report(checks.check_services(base, load_catalog())))
            case "restart":
                _restart(settings, args.service)
            case "cache-clear":
                # Imported here: the settings and adapters cost a second of start-up that a rollback
                # should not pay.
                from tools.ops import cache_ops
                from workplace_roleplay.settings import ServiceSettings

                done = asyncio.run(cache_ops.clear_cache(ServiceSettings(), args.prefix))
                print(
                    f"cache-clear {args.prefix}*: deleted {done.count} key(s) on {done.backend}{done.describe_nodes()}"
                )
            case "session-cleanup":
                from tools.ops import cache_ops
                from workplace_roleplay.settings import ServiceSettings

                done = asyncio.run(cache_ops.cleanup_sessions(ServiceSettings(), args.user_prefix))
                where = done.backend + done.describe_nodes()
                print(f"session-cleanup: deleted {done.count} session key(s) on {where}")
            case "migrate-sessions":
                from tools.ops.migrate_sessions import migrate_sessions
                from workplace_roleplay.errors import AppError

                try:
                    asyncio.run(migrate_sessions(args.source, env=args.env, dry=args.dry_run))
                except AppError as exc:
                    raise OpsError(f"{exc.code}: {exc}") from None
            case "stack":
                from tools.ops.stack import run_stack

                return run_stack(settings, store=args.store, port=args.port, candidates=args.candidates)
    except OpsFailed as exc:
        print(f"ops: failed: {exc}", file=sys.stderr)
        return FAILED
    except OpsError as exc:
        print(f"ops: refused: {exc}", file=sys.stderr)
        return REFUSED
    return 0


def main(argv: Sequence[str]) -> int:
    return run(argv)
