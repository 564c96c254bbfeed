"""Every key a legacy session can hold, and what the migration does with it (docs/migration.md).

``MAPPED`` keys become v2 data; ``DROPPED`` keys are left behind on purpose, each with the reason. A key
in neither table is reported (``MigrationPlan.unknown``) and named on the migration record (its value is
not copied: it could hold learner text, and the legacy record stays readable for a later pass).
"""

from __future__ import annotations

MAPPED: dict[str, str] = {
    "user_id": "users/{user_id}: the same id byte for byte (uuid4 generated when absent, as the legacy did)",
    "csrf_token": "users/{user_id}.legacy.csrf_token (carried over for tabs still open during coexistence)",
    "chat_settings": "settings (partner_type, situation, topic) and extra.legacy (model, start_time) of the chat "
    "conversation",
    "chat_history": "the chat conversation's messages",
    "scenario_history": "one scenario conversation per non-empty scenario id",
    "scenario_settings": "created_at (start_time) of each scenario conversation",
    "watch_settings": "settings and extra (models, next speaker) of the watch conversation",
    "watch_history": "the watch conversation's messages (A = 太郎, B = 花子, user turns = the learner)",
    "strength_history": "progress/legacy.strength_history",
    "gamification_quiz_session": "progress/legacy.quiz_results and last_quiz",
    "harassment_consent": "users/{user_id}.consents.harassment",
    "harassment_consent_timestamp": "users/{user_id}.consents.harassment_at (epoch seconds)",
}

DROPPED: dict[str, str] = {
    "_permanent": "Flask-Session's permanence flag; v2 lifetimes come from its own tokens",
    "csrf_token_time": "never checked by the legacy app; the carried token needs no age",
    "three_way_active": "a live three-way join cannot survive the move; the watch conversation restarts idle",
    "three_way_turn_order": "transient turn order of a live three-way join",
    "supabase_access_token": "a Supabase JWT of the legacy auth; v2 issues its own tokens",
    "conversation_history": "dormant pre-refactor leftover, only ever emptied",
    "selected_model": "dormant: never written by the legacy code",
    "scenario_feedback": "dormant: never written by the legacy code",
    "current_scenario_id": "dormant: never written by the legacy code",
    "scenario_chat_history": "dormant: never written by the legacy code",
    "model_choice": "dormant: never written by the legacy code",
    "current_model": "dormant (broken /api/v2 path); the model is chosen per request in v2",
    "current_voice": "dormant (broken /api/v2 path); v2 picks voices per persona",
    "conversation_id": "dormant (broken /api/v2 path); v2 mints its own conversation ids",
    "learning_history": "dormant (broken /api/v2 path); effectively never persisted",
    "watch_model1": "dormant (broken /api/v2 path)",
    "watch_model2": "dormant (broken /api/v2 path)",
    "watch_topic": "dormant (broken /api/v2 path)",
}
