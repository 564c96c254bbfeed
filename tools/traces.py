"""Read the local span file of ``TRACE_EXPORTER=file`` (ADR 0028).

    make traces                                  # the 20 slowest spans of the last 15 minutes
    make traces ARGS="slowest --minutes 5 --limit 10"
    make traces ARGS="show <trace_id>"           # one trace as a tree, with each span's duration

The file defaults to ``<STACK_DIR>/traces.jsonl`` (where ``make stack`` points every service); ``--file``
reads another one (e.g. ``.data/traces.jsonl`` of ``make run``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from tools.ops.settings import OpsSettings

Span = dict[str, Any]


def read_spans(path: Path) -> list[Span]:
    """Every span in the file (a torn last line, written while we read, is skipped)."""
    spans = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                spans.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return spans


def slowest(spans: Iterable[Span], *, since_ns: int, limit: int) -> list[Span]:
    recent = [s for s in spans if int(s.get("end_ns", 0)) >= since_ns]
    return sorted(recent, key=lambda s: float(s.get("duration_ms", 0)), reverse=True)[:limit]


def tree(spans: Iterable[Span], trace_id: str) -> list[tuple[int, Span]]:
    """The spans of one trace depth-first from its roots, each with its depth."""
    mine = [s for s in spans if s.get("trace_id") == trace_id]
    ids = {s["span_id"] for s in mine}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for s in mine:
        children[s["parent_id"] if s.get("parent_id") in ids else None].append(s)
    out: list[tuple[int, Span]] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children[parent], key=lambda x: int(x["start_ns"])):
            out.append((depth, s))
            walk(s["span_id"], depth + 1)

    walk(None, 0)
    return out


def _line(span: Span, indent: str = "") -> str:
    attrs = span.get("attributes", {})
    detail = attrs.get("http.route") or attrs.get("db.collection") or attrs.get("model.task") or ""
    return (
        f"{float(span['duration_ms']):10.1f} ms  {indent}{span['name']}  [{span.get('service', '')}] {detail}  "
        f"trace={span['trace_id']}"
    )


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="traces", description="Slowest spans and single traces of a span file.")
    parser.add_argument("--file", type=Path, help="span file (default: <STACK_DIR>/traces.jsonl)")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("slowest", help="the slowest spans that ended in the last N minutes")
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--limit", type=int, default=20)
    p = sub.add_parser("show", help="one trace as a tree")
    p.add_argument("trace_id")
    args = parser.parse_args(argv)
    path = args.file or OpsSettings().STACK_DIR / "traces.jsonl"
    if not path.is_file():
        out(f"no span file at {path}: start the stack with TRACE_EXPORTER=file (make stack)")
        return 1
    spans = read_spans(path)
    if args.command == "show":
        for depth, span in tree(spans, args.trace_id):
            out(_line(span, "  " * depth))
        return 0
    minutes = getattr(args, "minutes", 15.0)
    since = time.time_ns() - int(minutes * 60e9)
    for span in slowest(spans, since_ns=since, limit=getattr(args, "limit", 20)):
        out(_line(span))
    return 0


if __name__ == "__main__":
    sys.exit(main())
