"""The pure transform: a legacy Flask session (+ optional server-side ``user_data``) → a ``MigrationPlan``.

No I/O, no clock, no randomness: the caller passes the ``user_id`` to use when the session has none
(generated once and recorded, so repeats agree). Shapes are those of the legacy key inventory
(``inventory.py``); anything malformed inside a history entry is skipped, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from workplace_roleplay.domain.migration.inventory import DROPPED, MAPPED
from workplace_roleplay.domain.migration.plan import MigrationPlan, PlannedConversation, PlannedMessage, Progress
from workplace_roleplay.domain.migration.scenarios import IdentityMapping, ScenarioMapping
from workplace_roleplay.domain.migration.text import html_to_text, legacy_time

OPENING_MARKERS = ("[雑談開始]", "[シナリオ開始]")
ERROR_PREFIX = "申し訳ありません"
PERSONAS = {"A": "太郎", "B": "花子"}
_STEP = 0.001  # seconds between a turn's learner line and its reply (legacy stored one timestamp per turn)
_TITLE_CHARS = 40


@dataclass(frozen=True, slots=True)
class TransformOptions:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    scenarios: ScenarioMapping = field(default_factory=IdentityMapping)
    fallback_time: float = 0.0  # used when a session carries no timestamp at all


def transform(
    session: Mapping[str, Any],
    *,
    user_id_if_absent: str,
    user_data: Mapping[str, Any] | None = None,
    options: TransformOptions | None = None,
) -> MigrationPlan:
    """What ``session`` becomes in v2."""
    opts = options or TransformOptions()
    legacy_uid = session.get("user_id")
    has_uid = isinstance(legacy_uid, str) and bool(legacy_uid)
    user_id = legacy_uid if isinstance(legacy_uid, str) and has_uid else user_id_if_absent
    conversations: list[PlannedConversation] = []
    chat = _chat(session, opts)
    if chat is not None:
        conversations.append(chat)
    scenarios, empty = _scenarios(session, opts)
    conversations.extend(scenarios)
    watch = _watch(session, opts)
    if watch is not None:
        conversations.append(watch)
    csrf = session.get("csrf_token")
    return MigrationPlan(
        user_id=user_id,
        user_id_generated=not has_uid,
        conversations=tuple(conversations),
        progress=_progress(session, user_data),
        consents=_consents(session, opts),
        legacy_csrf_token=csrf if isinstance(csrf, str) else "",
        dropped=tuple(sorted(k for k in session if k in DROPPED)),
        unknown={k: v for k, v in session.items() if k not in MAPPED and k not in DROPPED},
        skipped_empty_scenarios=tuple(empty),
    )


def _map(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pair_messages(
    history: object, opts: TransformOptions, *, model: str = ""
) -> tuple[list[PlannedMessage], str, float | None]:
    """Messages of a ``[{human, ai, timestamp}]`` history, its opening marker, and its first timestamp."""
    messages: list[PlannedMessage] = []
    marker = ""
    first: float | None = None
    last = opts.fallback_time
    for entry in history if isinstance(history, list) else []:
        if not isinstance(entry, dict):
            continue
        at = legacy_time(entry.get("timestamp"), opts.zone)
        at = last if at is None else at
        first = at if first is None else first
        human, ai = entry.get("human"), entry.get("ai")
        if isinstance(human, str) and human in OPENING_MARKERS:
            marker = marker or human
        elif isinstance(human, str) and human:
            messages.append(PlannedMessage("learner", human, at))
        if isinstance(ai, str) and ai:
            messages.append(_reply(ai, at + _STEP, model=model))
        last = at + 2 * _STEP
    return messages, marker, first


def _reply(text: str, at: float, *, speaker: str = "", model: str = "") -> PlannedMessage:
    failed = text.startswith(ERROR_PREFIX)
    return PlannedMessage("counterpart", html_to_text(text), at, speaker=speaker, failed=failed, model=model)


def _title(messages: list[PlannedMessage], default: str) -> str:
    first = next((m.text for m in messages if m.role == "learner"), "")
    return (first[:_TITLE_CHARS] if first else default).strip()


def _conversation(
    key: str, mode: Any, messages: list[PlannedMessage], started: float | None, **meta: Any
) -> PlannedConversation:
    settings: dict[str, str] = meta.pop("settings", {})
    created = started if started is not None else (messages[0].created_at if messages else 0.0)
    updated = max([created, *(m.created_at for m in messages)])
    title: str = meta.pop("title")
    return PlannedConversation(key, mode, settings, created, updated, title, meta, tuple(messages))


def _chat(session: Mapping[str, Any], opts: TransformOptions) -> PlannedConversation | None:
    history = session.get("chat_history")
    if not isinstance(history, list) or not history:
        return None
    settings = _map(session.get("chat_settings"))
    model = str(settings.get("model", ""))
    messages, marker, first = _pair_messages(history, opts, model=model)
    started = legacy_time(settings.get("start_time"), opts.zone) or first
    chosen = {k: str(settings[k]) for k in ("partner_type", "situation", "topic") if isinstance(settings.get(k), str)}
    legacy = {"model": model, "start_time": settings.get("start_time"), "opening_marker": marker}
    return _conversation(
        "chat", "chat", messages, started, settings=chosen, title=_title(messages, "以前の雑談"), legacy=legacy
    )


def _scenarios(session: Mapping[str, Any], opts: TransformOptions) -> tuple[list[PlannedConversation], list[str]]:
    histories = session.get("scenario_history")
    starts = _map(session.get("scenario_settings"))
    out: list[PlannedConversation] = []
    empty: list[str] = []
    for legacy_id, history in _map(histories).items():
        messages, marker, first = _pair_messages(history, opts)
        if not messages:
            empty.append(str(legacy_id))
            continue
        start = _map(starts.get(legacy_id))
        started = legacy_time(start.get("start_time"), opts.zone) or first
        mapped = opts.scenarios.v2_id(str(legacy_id))
        scenario_id = mapped or str(legacy_id)
        out.append(
            _conversation(
                f"scenario:{legacy_id}",
                "scenario",
                messages,
                started,
                settings={"scenario_id": scenario_id},
                title=_title(messages, f"シナリオ {legacy_id}"),
                legacy_scenario_id=str(legacy_id),
                scenario_mapped=mapped is not None,
                legacy={"start_time": start.get("start_time"), "opening_marker": marker},
            )
        )
    return out, empty


def _watch(session: Mapping[str, Any], opts: TransformOptions) -> PlannedConversation | None:
    history = session.get("watch_history")
    if not isinstance(history, list) or not history:
        return None
    settings = _map(session.get("watch_settings"))
    models = {"A": str(settings.get("model_a", "")), "B": str(settings.get("model_b", ""))}
    messages: list[PlannedMessage] = []
    last = legacy_time(settings.get("start_time"), opts.zone) or opts.fallback_time
    for entry in history:
        if not isinstance(entry, dict):
            continue
        if entry.get("role") == "user" and isinstance(entry.get("content"), str) and entry["content"]:
            last += _STEP  # user turns carry no timestamp: just after the line before
            messages.append(PlannedMessage("learner", entry["content"], last))
        elif entry.get("speaker") in PERSONAS and isinstance(entry.get("message"), str):
            at = legacy_time(entry.get("timestamp"), opts.zone)
            last = last + _STEP if at is None else at
            speaker = str(entry["speaker"])
            messages.append(_reply(entry["message"], last, speaker=PERSONAS[speaker], model=models[speaker]))
    spoke_last = settings.get("current_speaker")
    if spoke_last not in PERSONAS:
        last_persona = next((m.speaker for m in reversed(messages) if m.role == "counterpart"), "花子")
        spoke_last = "A" if last_persona == PERSONAS["A"] else "B"
    next_speaker = "B" if spoke_last == "A" else "A"
    chosen = {k: str(settings[k]) for k in ("partner_type", "situation", "topic") if isinstance(settings.get(k), str)}
    started = legacy_time(settings.get("start_time"), opts.zone)
    return _conversation(
        "watch",
        "watch",
        messages,
        started,
        settings=chosen,
        title="以前の会話観戦",
        personas=dict(PERSONAS),
        next_speaker=PERSONAS[next_speaker],
        legacy={"model_a": models["A"], "model_b": models["B"], "current_speaker": spoke_last},
    )


def _progress(session: Mapping[str, Any], user_data: Mapping[str, Any] | None) -> Progress:
    strength = session.get("strength_history")
    quiz = session.get("gamification_quiz_session")
    quiz = quiz if isinstance(quiz, dict) else {}
    results = quiz.get("results")
    last_quiz = quiz.get("last_quiz")
    return Progress(
        strength_history=dict(strength) if isinstance(strength, dict) else {},
        quiz_results=[r for r in results if isinstance(r, dict)] if isinstance(results, list) else [],
        last_quiz=dict(last_quiz) if isinstance(last_quiz, dict) else None,
        user_data=dict(user_data) if user_data else None,
    )


def _consents(session: Mapping[str, Any], opts: TransformOptions) -> dict[str, Any]:
    if session.get("harassment_consent") is not True:
        return {}
    return {
        "harassment": True,
        "harassment_at": legacy_time(session.get("harassment_consent_timestamp"), opts.zone),
    }
