"""Import-time cost the model gateway keeps off a simple-mode service's startup (``python -X importtime``).

Measures, in fresh processes (median of ``--runs``):

- ``service``: importing the chat service's wiring (what every cold start pays), and whether
  ``google.genai`` was imported by it (it must not be);
- ``gemini_adapter``: what importing the Gemini adapter adds on top (paid only when a key or Vertex
  is configured), with ``google.genai``'s own cumulative share.

    .venv/bin/python -m bench.model_import_time [--runs 7] [--out bench/results/model_import_time.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def importtime(code: str) -> dict[str, int]:
    """Cumulative microseconds per top-level-in-this-process module of one fresh interpreter run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    cumulative: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            cumulative[match.group(4)] = int(match.group(2))
    return cumulative


def total_ms(rows: dict[str, int], roots: tuple[str, ...]) -> float:
    return sum(rows.get(name, 0) for name in roots) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "model_import_time.json")
    args = parser.parse_args()
    service, adapter, genai, genai_in_service = [], [], [], []
    for _ in range(args.runs):
        rows = importtime("import functions.chat.main")
        service.append(rows.get("functions.chat.main", 0) / 1000)
        genai_in_service.append("google.genai" in rows)
        extra = importtime("import functions.chat.main\nimport workplace_roleplay.adapters.gemini")
        adapter.append(extra.get("workplace_roleplay.adapters.gemini", 0) / 1000)
        genai.append(extra.get("google.genai", 0) / 1000)
    report = {
        "runs": args.runs,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # the box is shared: read figures with it
        "chat_service_import_ms_p50": round(statistics.median(service), 1),
        "google_genai_imported_by_simple_mode_service": any(genai_in_service),
        "gemini_adapter_import_ms_p50_kept_off_startup": round(statistics.median(adapter), 1),
        "of_which_google_genai_ms_p50": round(statistics.median(genai), 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
