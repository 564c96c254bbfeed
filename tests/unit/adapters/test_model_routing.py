"""Routing: Flash for turns, Pro for reports, per-task overrides, the other class as fallback."""

from __future__ import annotations

import pytest

from workplace_roleplay.adapters.model_routing import ModelRouter
from workplace_roleplay.errors import ConfigurationError
from workplace_roleplay.ports.model import ModelTask

FLASH, PRO = "flash-model", "pro-model"


def test_turns_use_flash_and_reports_use_pro() -> None:
    router = ModelRouter(flash=FLASH, pro=PRO)
    for task in (ModelTask.OPENING, ModelTask.CONVERSATION_TURN, ModelTask.WATCH_LINE, ModelTask.TURN_ANALYSIS):
        assert router.route(task).models == (FLASH, PRO)
    for task in (ModelTask.FEEDBACK_REPORT, ModelTask.SUMMARY, ModelTask.QUIZ):
        assert router.route(task).models == (PRO, FLASH)


def test_overrides_pick_a_class_or_a_named_model() -> None:
    router = ModelRouter(
        flash=FLASH, pro=PRO, overrides={"feedback_report": "flash", "watch_line": "gemini-exp", "quiz": "PRO"}
    )
    assert router.route(ModelTask.FEEDBACK_REPORT).models == (FLASH, PRO)
    assert router.route(ModelTask.WATCH_LINE).models == ("gemini-exp", FLASH)
    assert router.route(ModelTask.QUIZ).models == (PRO, FLASH)
    assert router.model_class("gemini-exp") is None


def test_one_model_for_both_classes_has_no_fallback() -> None:
    route = ModelRouter(flash="only", pro="only").route(ModelTask.SUMMARY)
    assert route.models == ("only",)
    assert route.fallback is None


@pytest.mark.parametrize("overrides", [{"report": "pro"}, {"summary": "  "}])
def test_bad_overrides_fail_at_startup_naming_the_setting(overrides: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="MODEL_TASK_OVERRIDES"):
        ModelRouter(flash=FLASH, pro=PRO, overrides=overrides)
