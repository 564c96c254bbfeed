"""The README keeps its contract: the two commands, a Japanese quick start, every setting documented."""

from __future__ import annotations

from pathlib import Path

from tools.settings_doc import README, render_readme, rows


def test_readme_shows_the_two_commands_in_english_and_japanese() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text
    assert "クイックスタート" in text


def test_settings_table_lists_every_setting_and_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "README settings table is stale: run `make docs`"
    for name, *_ in rows():
        assert name in text


def test_ci_calls_make_test() -> None:
    ci = (Path(README).parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
