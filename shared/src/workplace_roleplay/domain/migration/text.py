"""Small pure conversions of legacy values: HTML replies to text, naive timestamps to epoch seconds."""

from __future__ import annotations

import html
import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

_BLOCK_TAGS = frozenset({"br", "p", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
_DROP_TAGS = frozenset({"script", "style"})
_TAG_HINT = re.compile(r"<[a-zA-Z/!][^>]*>")


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    """The text of a reply that may hold HTML fragments (tags removed, entities decoded, no script text).

    Text without anything that looks like a tag is returned unchanged (only entities are decoded when
    the reply had markup), so ordinary replies with ``<`` in prose survive.
    """
    if not _TAG_HINT.search(value):
        return value
    parser = _TextOnly()
    parser.feed(value)
    parser.close()
    text = html.unescape("".join(parser.parts))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def legacy_time(value: object, zone: ZoneInfo) -> float | None:
    """Epoch seconds of a legacy timestamp: a naive ISO string in the VM's zone, or epoch seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.timestamp()
