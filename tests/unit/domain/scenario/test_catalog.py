"""The whole scenario catalog loads and validates; the legacy-id mapping is total; the data keeps its
promises (reverse roles, real gray zones, 報連相 checks, counterparts from the one roster); bad data is
refused with a message naming the file; the docs tables match the data; the cache path validates too."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.support.fakes import FakeCache
from tools.scenario_docs import DOC, render
from workplace_roleplay.domain.modes.chat import PARTNER_TYPES
from workplace_roleplay.domain.scenario.catalog import (
    CACHE_PREFIX,
    LEGACY_SCENARIO_IDS,
    SCENARIO_DIR,
    ScenarioQuery,
    catalog_digest,
    load_catalog,
    load_catalog_cached,
)
from workplace_roleplay.domain.scenario.model import Category, Difficulty
from workplace_roleplay.domain.scenario.roster import CHAT_PARTNER_CHARACTERS, WATCH_CHARACTERS, load_roster
from workplace_roleplay.errors import ConfigurationError, ScenarioNotFound

CATALOG = load_catalog()
REPORTING_CHECKS = ["conclusion_first", "facts", "cause", "countermeasure", "apology"]


def test_the_catalog_has_at_least_54_scenarios_in_every_category_and_difficulty() -> None:
    assert len(CATALOG) >= 54
    assert {s.category for s in CATALOG.scenarios} == set(Category)
    assert {s.difficulty for s in CATALOG.scenarios} == set(Difficulty)
    assert len({s.id for s in CATALOG.scenarios}) == len(CATALOG)


def test_every_legacy_id_maps_to_exactly_one_v2_scenario() -> None:
    assert len(LEGACY_SCENARIO_IDS) == 54
    assert set(CATALOG.legacy_map) == set(LEGACY_SCENARIO_IDS)
    for legacy in LEGACY_SCENARIO_IDS:
        assert legacy in CATALOG.for_legacy_id(legacy).legacy_ids
    with pytest.raises(ScenarioNotFound):
        CATALOG.for_legacy_id("scenario44")


def test_gray_zone_cases_are_categorised_as_gray_zone_and_need_consent() -> None:
    for n in range(1, 11):
        s = CATALOG.for_legacy_id(f"gray_zone_{n:02d}")
        assert s.category is Category.GRAY_ZONE
        assert s.requires_consent
    assert CATALOG.for_legacy_id("training_01").category is Category.HARASSMENT_PREVENTION
    assert not CATALOG.for_legacy_id("scenario1").requires_consent


def test_reverse_role_scenarios_make_the_learner_the_manager() -> None:
    reverse = [s for s in CATALOG.scenarios if s.reverse_role]
    assert len(reverse) >= 10
    assert {"scenario31", "scenario32", "scenario33"} <= {x for s in reverse for x in s.legacy_ids}
    ranks = {CATALOG.roster.character(s.counterparts[0]).rank.value for s in reverse}
    assert ranks <= {"junior", "senior", "peer"}  # the learner manages them (older staff and peers included)


def test_reporting_a_mistake_scenarios_are_graded_on_the_horenso_structure() -> None:
    mistakes = [s for s in CATALOG.scenarios if "ミスの報告" in s.tags]
    assert len(mistakes) >= 3
    for s in mistakes:
        assert [c.id for c in s.checks] == REPORTING_CHECKS, s.id
        assert "報連相" in s.tags


def test_counterparts_come_from_the_one_roster_shared_with_chat_and_watch() -> None:
    roster = load_roster()
    used = Counter(c for s in CATALOG.scenarios for c in s.counterparts)
    assert set(used) <= set(roster)
    assert used["takahashi_makoto"] >= 5  # the same 高橋課長 recurs
    assert set(CHAT_PARTNER_CHARACTERS) == set(PARTNER_TYPES)
    for code, character_id in CHAT_PARTNER_CHARACTERS.items():
        assert roster.character(character_id).name == PARTNER_TYPES[code].name
    assert [roster.character(c).full_name[-2:] for c in WATCH_CHARACTERS] == ["太郎", "花子"]
    assert "高橋 誠" in roster.character("takahashi_makoto").persona_prompt()


def test_search_filters() -> None:
    assert {s.category for s in CATALOG.search(ScenarioQuery(category=Category.GRAY_ZONE))} == {Category.GRAY_ZONE}
    assert [s.id for s in CATALOG.search(ScenarioQuery(text="誤送信 報告"))] == ["report_misdirected_email"]
    assert all("報連相" in s.tags for s in CATALOG.search(ScenarioQuery(tag="報連相")))
    assert CATALOG.tags()[0] == max(CATALOG.tags(), key=lambda t: sum(t in s.tags for s in CATALOG.scenarios))


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "scenarios"
    shutil.copytree(SCENARIO_DIR, target)
    return target


def test_an_unmapped_legacy_id_stops_the_catalog(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "reporting.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    legacy_ids: [scenario1]\n", ""), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="legacy id 'scenario1' is not mapped"):
        load_catalog(folder)


def test_an_unknown_counterpart_or_bad_field_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "small_talk.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("counterparts: [sato_kenta]", "counterparts: [sato_kenta, nobody_here]"), encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="unknown counterpart 'nobody_here'"):
        load_catalog(folder)
    path.write_text(text.replace("difficulty: beginner", "difficulty: 初級", 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"small_talk\.yaml: invalid scenario file"):
        load_catalog(folder)


def test_an_opening_is_a_line_or_a_card_not_both(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "reporting.yaml"
    text = path.read_text(encoding="utf-8")
    broken = text.replace("opening: {card: 夕方、", "opening: {speaker: takahashi_makoto, card: 夕方、", 1)
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="either speaker"):
        load_catalog(folder)


def test_docs_tables_match_the_data() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert render(text, CATALOG) == text, "docs/scenarios.md is stale: run `make docs`"
    for legacy in LEGACY_SCENARIO_IDS:
        assert f"| `{legacy}` | `{CATALOG.legacy_map[legacy]}` |" in text


async def test_the_cached_catalog_is_validated_and_a_bad_entry_is_replaced() -> None:
    cache = FakeCache()
    first, hit = await load_catalog_cached(cache)
    assert not hit
    key = CACHE_PREFIX + catalog_digest()
    assert key in cache.data
    again, hit = await load_catalog_cached(cache)
    assert hit
    assert [s.id for s in again.scenarios] == [s.id for s in first.scenarios]
    assert again.get("report_own_mistake") == first.get("report_own_mistake")
    cache.data[key] = b'{"scenarios": [{"id": "tampered"}]}'
    repaired, hit = await load_catalog_cached(cache)
    assert not hit
    assert len(repaired) == len(first)
    assert cache.data[key] != b'{"scenarios": [{"id": "tampered"}]}'


async def test_an_unreachable_cache_still_gives_the_catalog() -> None:
    cache = FakeCache()
    cache.down = True
    catalog, hit = await load_catalog_cached(cache)
    assert (len(catalog), hit) == (len(CATALOG), False)
