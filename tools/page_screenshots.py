"""Phone-width screenshots of the learner pages (docs/screenshots/), from a running ``make run``.

    make run &  # then
    .venv/bin/python -m tools.page_screenshots --base http://127.0.0.1:8080 --tag after

Takes the home page, the chat start form and a started conversation with one answered turn at 360,
390 and 430 px (the offline simple-response model answers). Uses Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
WIDTHS = (360, 390, 430)


def shoot(base: str, tag: str) -> list[Path]:
    """Save the screenshots; returns their paths."""
    OUT.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        try:
            for width in WIDTHS:
                # Touch emulation (the "before" shots of issue 17 were taken without it; nothing on those
                # pages depended on it).
                context = browser.new_context(
                    locale="ja-JP", viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True
                )
                page = context.new_page()
                page.goto(base + "/")
                saved.append(_save(page, f"{tag}-home-{width}.png"))
                page.goto(base + "/chat")
                page.locator("#setup-form").wait_for(timeout=15000)
                saved.append(_save(page, f"{tag}-chat-setup-{width}.png"))
                page.click("#setup-form button[type=submit]")
                page.locator("#log li").first.wait_for(timeout=15000)
                page.fill("#message", "おはようございます。週末は山に行きました。")
                page.click("#send")
                page.locator("#log li").nth(2).wait_for(timeout=15000)
                page.wait_for_timeout(500)
                saved.append(_save(page, f"{tag}-chat-conversation-{width}.png"))
                context.close()
        finally:
            browser.close()
    return saved


def _save(page: Page, name: str) -> Path:
    # A viewport as tall as the page, not full_page=True: Chromium's full-page capture drops the touch
    # emulation for the shot (the send hint flips to the keyboard one).
    path = OUT / name
    width = page.viewport_size["width"] if page.viewport_size else 390
    page.set_viewport_size({"width": width, "height": page.evaluate("() => document.documentElement.scrollHeight")})
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 800})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--tag", default="after")
    args = parser.parse_args()
    for path in shoot(args.base, args.tag):
        print(path)


if __name__ == "__main__":
    main()
