"""Lighthouse (pinned in package.json) against a running ``make run``: the four category scores of the
home page and the chat page, desktop and mobile.

    make run &                     # or PORT=... make run
    make lighthouse                # = .venv/bin/python -m tools.lighthouse --base http://127.0.0.1:8080

Uses Debian's /usr/bin/chromium (CHROME_PATH) in a fresh profile per run, so /chat signs in
anonymously through the redirect like a first-time visitor. Exit status 1 when a score is under
``--min`` (100 by default); ``--json`` writes every score to a file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = ("/", "/chat")
FORM_FACTORS = ("desktop", "mobile")


def run(url: str, form_factor: str, chrome: str) -> dict[str, int]:
    """One Lighthouse run: category -> score (0-100)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ]
        if form_factor == "desktop":
            args.append("--preset=desktop")
        subprocess.run(args, check=True, env={"CHROME_PATH": chrome, "PATH": "/usr/bin:/bin"}, timeout=300)
        categories = json.loads(report.read_text())["categories"]
    return {name: round(categories[name]["score"] * 100) for name in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--chrome", default="/usr/bin/chromium")
    parser.add_argument("--min", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        print("lighthouse is missing: run `make node` (npm ci) first", file=sys.stderr)
        return 2
    scores: dict[str, dict[str, int]] = {}
    for page in PAGES:
        for form_factor in FORM_FACTORS:
            key = f"{page} {form_factor}"
            scores[key] = run(args.base + page, form_factor, args.chrome)
            print(f"{key:16} " + "  ".join(f"{c} {s}" for c, s in scores[key].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2) + "\n")
    low = [f"{k}: {c} {s}" for k, v in scores.items() for c, s in v.items() if s < args.min]
    if low:
        print("under the minimum: " + "; ".join(low), file=sys.stderr)
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
