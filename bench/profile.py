"""Summaries of py-spy's collapsed stacks (``--format raw``): top functions by own time, shares by package."""

from __future__ import annotations

import re
from collections import Counter

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")
# Inclusive groups: a sample counts once for a group when any of its frames is in a file matching the pattern.
GROUPS = {
    "google-genai SDK": r"\(genai/",
    "pydantic": r"\(pydantic(_core)?/",
    "httpx2/httpcore (model HTTP client)": r"\((httpx2|httpcore2?|httpx)/",
    "our thin Gemini stream": r"adapters/gemini_stream",
    "redis-py": r"\(redis/",
    "replay buffer (web/sse.py)": r"web/sse\.py",
    "sealing / field crypto": r"(domain/sealing|adapters/field_crypto|\(cryptography/)",
    "starlette": r"\(starlette/",
    "fastapi": r"\(fastapi/",
    "sse-starlette": r"\(sse_starlette/",
    "uvicorn": r"\(uvicorn/",
    "h11": r"\(h11/",
    "asyncio": r"\(asyncio/",
    "threads / executor (SQLite worker waits)": r"\((threading|concurrent/futures/thread)\.py",
    "anyio": r"\(anyio/",
    "our middleware, logs, metrics": r"web/(middleware|logs|metrics|security)\.py|\(prometheus_client/|\(logging/",
    "domain (turn pipeline, chat)": r"workplace_roleplay/domain/",
    "SQLite store": r"(\(sqlite3/|adapters/sqlite_)",
    "json": r"\(json/",
}


def _parse(raw: str) -> list[tuple[list[str], int]]:
    stacks = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "/src/", "/lib/python3.11/", "/work/wt/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def summarize_raw(raw: str, top: int = 30) -> str:
    """Plain-text report: total samples, top functions by own samples, inclusive package shares."""
    stacks = _parse(raw)
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    own_groups: Counter[str] = Counter()
    compiled = {name: re.compile(pattern) for name, pattern in GROUPS.items()}
    for frames, count in stacks:
        own[_short(frames[-1])] += count
        leaf_group = next((name for name, pattern in compiled.items() if pattern.search(frames[-1])), "other")
        own_groups[leaf_group] += count
        joined = "\n".join(frames)
        for name, pattern in compiled.items():
            if pattern.search(joined):
                groups[name] += count
    lines = [f"samples (non-idle, all threads): {total}", "", f"top {top} functions by own time:"]
    lines += [f"{100 * n / total:6.2f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "own time by package (the sampled function's own file; adds up to 100 %):"]
    lines += [f"{100 * n / total:6.2f}%  {name}" for name, n in own_groups.most_common()]
    lines += ["", "inclusive share by package (overlapping; a wrapper such as the middleware holds whole requests):"]
    lines += [f"{100 * n / total:6.2f}%  {name}" for name, n in groups.most_common()]
    return "\n".join(lines) + "\n"
