"""The extracted google provider schema (tools/tfstandin) covers our Terraform and its overlay stays honest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.tfstandin.extract_schema import OUTPUT, used_types

OVERLAY = OUTPUT.parent.parent / "overlay.json"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_the_schema_covers_every_google_type_our_terraform_declares(repo: Path) -> None:
    resources, data_sources = used_types(repo / "terraform")
    schema = _load(OUTPUT)
    assert resources, "no google resources found: the scan is broken"
    assert resources <= set(schema["resources"]), sorted(resources - set(schema["resources"]))
    assert data_sources <= set(schema["data_sources"]), sorted(data_sources - set(schema["data_sources"]))
    assert schema["provider"]["attributes"]["project"]["mode"] == "optional"


def test_the_schema_keeps_blocks_apart_from_attributes_and_required_flags() -> None:
    redis = _load(OUTPUT)["resources"]["google_redis_cluster"]
    assert redis["attributes"]["shard_count"] == {"mode": "required", "type": "number"}
    assert redis["blocks"]["automated_backup_config"]["max"] == 1
    assert redis["blocks"]["timeouts"]["nesting"] == "single"
    assert redis["attributes"]["discovery_endpoints"]["mode"] == "computed"


def test_overlay_entries_are_absent_from_the_extracted_schema() -> None:
    """An overlay entry the extracted schema already has is stale: remove it from overlay.json."""
    schema = _load(OUTPUT)["resources"]
    overlay = _load(OVERLAY)["resources"]
    assert overlay
    for tf_type, extra in overlay.items():
        assert tf_type in schema, tf_type
        for name in extra["attributes"]:
            assert name not in schema[tf_type]["attributes"], f"{tf_type}.{name} is no longer an overlay"
