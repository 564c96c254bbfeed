"""The page kit's fingerprinted assets: URLs carry the content hash; the current hash is immutable,
an older one still gets the file but must revalidate; anything else is not found."""

from __future__ import annotations

from pathlib import Path

import pytest

from workplace_roleplay.errors import NotFound
from workplace_roleplay.web.pagekit import IMMUTABLE, KIT_FILES, REVALIDATE, PageAssets


def test_urls_carry_the_content_hash_and_resolve_back(tmp_path: Path) -> None:
    own = tmp_path / "extra.js"
    own.write_text("console.log(1);")
    assets = PageAssets("/mode/static", {"extra.js": own})
    url = assets.url("extra.js")
    assert url.startswith("/mode/static/extra.")
    assert url.endswith(".js")
    name = url.rsplit("/", 1)[1]
    assert assets.resolve(name) == (own, IMMUTABLE)
    assert assets.resolve("extra.0000000000.js") == (own, REVALIDATE)
    assert assets.resolve(assets.url("kit.js").rsplit("/", 1)[1]) == (KIT_FILES["kit.js"], IMMUTABLE)
    # A new content is a new URL.
    own.write_text("console.log(2);")
    assert PageAssets("/mode/static", {"extra.js": own}).url("extra.js") != url


@pytest.mark.parametrize(
    "name", ["extra.js", "missing.0123456789.js", "..%2Fpages.0123456789.py", "kit.ab-c.js", ".js"]
)
def test_unknown_or_malformed_names_are_not_found(name: str) -> None:
    with pytest.raises(NotFound):
        PageAssets("/mode/static").resolve(name)
