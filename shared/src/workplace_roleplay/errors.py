"""The one error tree of the application; ``web.errors`` maps it to HTTP in one place.

::

    AppError                       code            user message (Japanese first)
    ├── InvalidInput               invalid_input
    │   ├── PayloadTooLarge        payload_too_large
    │   ├── EmptyMessage           empty_message
    │   ├── MessageTooLong         message_too_long   (carries max_chars)
    │   ├── UnsupportedMediaType   unsupported_media_type (a body that is not JSON where JSON is required)
    │   ├── MessageBlocked         message_blocked    (moderation: NG word; carries filtered_text)
    │   ├── RepeatedMessage        repeated_message   (moderation: the same line again and again)
    │   └── LegacySessionInvalid   legacy_session_invalid (tampered, unreadable or refused legacy session)
    ├── NotAuthenticated           not_authenticated  (a sign-in that expired)
    │   ├── NotSignedIn            not_authenticated  (no sign-in at all: never signed in here)
    │   ├── InvalidToken           invalid_token    (bad signature, claims, kid, algorithm)
    │   │   └── TokenExpired       token_expired    (refresh and retry)
    │   └── SessionRevoked         session_revoked  (logged out, or refresh-token reuse)
    ├── PermissionDenied           permission_denied
    │   ├── CsrfMissing            csrf_missing
    │   ├── CsrfInvalid            csrf_invalid
    │   ├── CrossSiteRefused       cross_site_refused (sign-in from another site: login CSRF)
    │   └── ConsentRequired        consent_required (carries consent_url: the page that records consent)
    ├── NotFound                   not_found
    │   ├── FeatureDisabled        feature_disabled   (switched off in this deployment, e.g. TTS_ENABLED=false)
    │   ├── ConversationNotFound   conversation_not_found (also for another learner's id)
    │   ├── ScenarioNotFound       scenario_not_found
    │   ├── MemoryNotFound         memory_not_found
    │   ├── ReportNotFound         report_not_found   (no summary / feedback report made yet)
    │   ├── MessageNotFound        message_not_found  (no such reply in the conversation: rating)
    │   ├── QuizNotFound           quiz_not_found
    │   ├── TakesNotFound          takes_not_found    (good and bad takes of a watch run)
    │   └── LegacySessionNotFound  legacy_session_not_found (absent or expired legacy session)
    ├── Conflict                   conflict
    │   ├── AlreadyExists          already_exists
    │   ├── TurnInProgress         turn_in_progress   (the same client_message_id is still streaming)
    │   ├── WatchPaused            watch_paused       (a watch run waits for a quiz or a new line budget)
    │   ├── WatchEnded             watch_ended        (a watch run was ended: 終了する)
    │   ├── WatchBusy              watch_busy         (another request is speaking the watch run's line)
    │   ├── TooManyWatchRuns       too_many_watch_runs
    │   ├── QuizAlreadyAnswered    quiz_already_answered
    │   └── TakesAlreadyAnswered   takes_already_answered
    ├── RateLimited                rate_limited     (carries retry_after seconds)
    │   ├── SpeechBudgetExceeded   tts_budget_exceeded (daily text-to-speech characters used up)
    │   └── DailyBudgetExceeded    daily_budget_exceeded (the learner's model calls of the day; carries resets_at)
    ├── DependencyUnavailable      dependency_unavailable
    │   ├── ServerBusy             server_busy      (this process is at capacity; carries retry_after)
    │   ├── StoreUnavailable       store_unavailable
    │   └── ModelUnavailable       model_unavailable
    │       ├── ModelOverloaded    model_overloaded   (429/503/5xx; carries retry_after)
    │       ├── ModelTimeout       model_timeout
    │       ├── ModelCredentialRejected model_credential_rejected (401/403)
    │       ├── ModelRejected      model_rejected     (400: the request itself)
    │       └── FeatureUnavailable feature_unavailable (e.g. TTS switched off)
    ├── EncryptionError            encryption_error
    │   ├── UnknownEncryptionKey   encryption_key_unknown (no key for the record's kid)
    │   └── DecryptionFailed       decryption_failed (wrong key or tampered ciphertext)
    ├── ConfigurationError         configuration_error (startup only)
    └── TransactionReadAfterWrite  internal_error   (a bug: a store transaction read after writing)

Adapters translate SDK exceptions into this tree at their boundary, so nothing above them sees a
Google, Redis or SQLite exception.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the application raises on purpose."""

    code: ClassVar[str] = "internal_error"
    message_ja: ClassVar[str] = "サーバーで問題が発生しました。しばらくしてからもう一度お試しください。"
    message_en: ClassVar[str] = "Something went wrong on our side. Please try again shortly."
    # Keys of ``extra`` that the error map puts in the response body (everything else stays server-side).
    public_extra: ClassVar[tuple[str, ...]] = ()

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail or self.message_en)
        self.detail = detail
        self.extra: dict[str, Any] = dict(extra or {})


class InvalidInput(AppError):
    code = "invalid_input"
    message_ja = "入力内容を確認してください。"
    message_en = "Please check your input."


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"
    message_ja = "送信内容が大きすぎます。短くしてもう一度お試しください。"
    message_en = "The request is too large. Please shorten it and try again."


class EmptyMessage(InvalidInput):
    code = "empty_message"
    message_ja = "メッセージが空です。話したいことを入力してください。"
    message_en = "The message is empty."


class MessageTooLong(InvalidInput):
    code = "message_too_long"
    message_ja = "メッセージが長すぎます。短く区切って送信してください。"
    message_en = "The message is too long. Please split it up."


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"
    message_ja = "送信形式が正しくありません。ページを再読み込みしてもう一度お試しください。"
    message_en = "The request body must be JSON (Content-Type: application/json)."


class MessageBlocked(InvalidInput):
    code = "message_blocked"
    message_ja = (
        "不適切な表現が含まれているため、このメッセージは送信しませんでした。言い換えてもう一度お試しください。"
    )
    message_en = "The message contains inappropriate words and was not sent. Please rephrase it."


class RepeatedMessage(InvalidInput):
    code = "repeated_message"
    message_ja = "同じメッセージが続いています。言い方を少し変えたり、質問を加えたりしてみましょう。"
    message_en = "You sent the same message several times. Try rephrasing it or asking a question."


class LegacySessionInvalid(InvalidInput):
    code = "legacy_session_invalid"
    message_ja = "以前のアプリのセッションを読み取れませんでした。新しく始めてください。"
    message_en = "The legacy session could not be read (tampered, malformed or refused)."


class NotAuthenticated(AppError):
    code = "not_authenticated"
    message_ja = "ログインの有効期限が切れました。ページを再読み込みしてください。"
    message_en = "Your sign-in has expired. Please reload the page."


class NotSignedIn(NotAuthenticated):
    """No credentials and no trace of an earlier sign-in (no CSRF cookie): not "expired"."""

    message_ja = "ログインが必要です。ページを再読み込みすると、自動でログインします。"
    message_en = "You are not signed in. Reload the page to sign in automatically."


class InvalidToken(NotAuthenticated):
    code = "invalid_token"


class TokenExpired(InvalidToken):
    code = "token_expired"


class SessionRevoked(NotAuthenticated):
    code = "session_revoked"
    message_ja = "ログイン状態が無効になりました。ページを再読み込みしてください。"
    message_en = "Your sign-in is no longer valid. Please reload the page."


class PermissionDenied(AppError):
    code = "permission_denied"
    message_ja = "この操作は許可されていません。"
    message_en = "You are not allowed to do this."


class CsrfMissing(PermissionDenied):
    code = "csrf_missing"
    message_ja = "セキュリティ確認用のトークンがありません。ページを再読み込みしてください。"
    message_en = "The security token is missing. Please reload the page."


class CsrfInvalid(PermissionDenied):
    code = "csrf_invalid"
    message_ja = "セキュリティ確認用のトークンが一致しません。ページを再読み込みしてください。"
    message_en = "The security token does not match. Please reload the page."


class CrossSiteRefused(PermissionDenied):
    code = "cross_site_refused"
    message_ja = "別のサイトからのログインはできません。このアプリのページから操作してください。"
    message_en = "Signing in from another site is not allowed. Please use this app's own pages."


class ConsentRequired(PermissionDenied):
    """A harassment-prevention or gray-zone scenario without the learner's recorded consent (ADR 0015)."""

    code = "consent_required"
    message_ja = "このシナリオを始めるには、研修内容への同意が必要です。同意ページで内容をご確認ください。"
    message_en = "This scenario needs your consent to the training content first. Please read and accept it."
    public_extra = ("consent_url",)

    def __init__(self, consent_url: str, detail: str | None = None) -> None:
        super().__init__(detail, extra={"consent_url": consent_url})
        self.consent_url = consent_url


class NotFound(AppError):
    code = "not_found"
    message_ja = "お探しのページやデータが見つかりませんでした。"
    message_en = "We could not find what you were looking for."


class FeatureDisabled(NotFound):
    """A feature switched off by configuration: for this deployment the route does not exist (404)."""

    code = "feature_disabled"
    message_ja = "この機能は現在ご利用いただけません。"
    message_en = "This feature is switched off here."


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    message_ja = "会話が見つかりませんでした。"
    message_en = "The conversation was not found."


class ScenarioNotFound(NotFound):
    code = "scenario_not_found"
    message_ja = "シナリオが見つかりませんでした。"
    message_en = "The scenario was not found."


class MemoryNotFound(NotFound):
    code = "memory_not_found"
    message_ja = "その記憶は見つかりませんでした。"
    message_en = "That memory was not found."


class ReportNotFound(NotFound):
    code = "report_not_found"
    message_ja = "この会話のまとめ・フィードバックはまだ作成されていません。"
    message_en = "No summary or feedback report has been made for this conversation yet."


class MessageNotFound(NotFound):
    code = "message_not_found"
    message_ja = "その発言が見つかりませんでした。"
    message_en = "That message was not found."


class LegacySessionNotFound(NotFound):
    code = "legacy_session_not_found"
    message_ja = "以前のアプリのセッションが見つからないか、有効期限が切れています。"
    message_en = "No legacy session was found, or it has expired."


class Conflict(AppError):
    code = "conflict"
    message_ja = "他の操作と重なりました。もう一度お試しください。"
    message_en = "This conflicted with another change. Please try again."


class AlreadyExists(Conflict):
    code = "already_exists"
    message_ja = "すでに存在します。"
    message_en = "It already exists."


class TurnInProgress(Conflict):
    code = "turn_in_progress"
    message_ja = "このメッセージへの返答を作成中です。少し待ってから会話を再読み込みしてください。"
    message_en = "The reply to this message is still being written. Please wait and reload the conversation."


class AnotherTurnInProgress(TurnInProgress):
    """A new line while another turn of the conversation is being answered (one turn at a time; ADR 0010)."""

    message_ja = "前のメッセージへの返答を作成中です。返答が届いてからもう一度送ってください。"
    message_en = "The reply to your previous message is still being written. Send this one once it has arrived."


class IdempotencyConflict(Conflict):
    """A client message id sent again with other text: it names one line, never two."""

    code = "idempotency_conflict"
    message_ja = "同じ送信IDで別の内容が送られました。ページを再読み込みしてから送り直してください。"
    message_en = "This message id was already used for different text. Reload the page and send again."


class WatchPaused(Conflict):
    """A watch run is waiting for the learner (a quiz to answer, or the line budget to be extended)."""

    code = "watch_paused"
    message_ja = "観戦は一時停止中です。クイズに答えるか、続きを再生してください。"
    message_en = "The watch run is paused: answer the quiz or continue first."
    public_extra = ("reason", "quiz_id")


class TooManyWatchRuns(Conflict):
    """The learner already has the allowed number of watch runs playing."""

    code = "too_many_watch_runs"
    message_ja = "同時に再生できる観戦は限られています。ほかの観戦を一時停止してからお試しください。"
    message_en = "Too many watch runs are playing at once: pause another one first."
    public_extra = ("max_playing",)


class WatchEnded(Conflict):
    """The watch run was ended (終了する): no more lines; reopening, quizzes and reports still work."""

    code = "watch_ended"
    message_ja = "この観戦は終了しています。振り返りやレポートを見るか、新しい観戦を始めてください。"
    message_en = "This watch run has ended: review it or start a new one."


class WatchBusy(Conflict):
    """Another request (the playing driver, a step or a join) is speaking this run's line right now."""

    code = "watch_busy"
    message_ja = "ほかの操作の処理中です。少し待ってからもう一度お試しください。"
    message_en = "Another request is speaking this run right now. Please try again shortly."


class TakesNotFound(NotFound):
    code = "takes_not_found"
    message_ja = "比較する場面（2通りの演技）が見つかりませんでした。"
    message_en = "The good and bad takes were not found."


class TakesAlreadyAnswered(Conflict):
    code = "takes_already_answered"
    message_ja = "この比較にはすでに回答しています。"
    message_en = "These takes were answered already."


class QuizNotFound(NotFound):
    code = "quiz_not_found"
    message_ja = "クイズが見つかりませんでした。"
    message_en = "The quiz was not found."


class QuizAlreadyAnswered(Conflict):
    code = "quiz_already_answered"
    message_ja = "このクイズにはすでに回答しています。"
    message_en = "This quiz was answered already."


class RateLimited(AppError):
    code = "rate_limited"
    message_ja = "リクエストが多すぎます。少し時間をおいてからもう一度お試しください。"
    message_en = "Too many requests. Please wait a moment and try again."

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = max(1, int(retry_after))


class SpeechBudgetExceeded(RateLimited):
    """The learner's daily text-to-speech characters are used up (retry_after: until the next day)."""

    code = "tts_budget_exceeded"
    message_ja = "本日の音声読み上げの上限に達しました。明日またお試しください。"
    message_en = "You have used today's text-to-speech allowance. Please try again tomorrow."


class DailyBudgetExceeded(RateLimited):
    """The learner's model calls of the day (Asia/Tokyo) are used up; ``resets_at`` is the next midnight."""

    code = "daily_budget_exceeded"
    message_ja = "本日のAI利用回数の上限に達しました。日本時間の午前0時にリセットされます。明日またお試しください。"
    message_en = "You have used today's AI allowance. It resets at midnight Japan time."
    public_extra = ("resets_at", "limit")

    def __init__(self, retry_after: int, *, resets_at: str, limit: int, detail: str | None = None) -> None:
        super().__init__(retry_after, detail)
        self.extra.update(resets_at=resets_at, limit=limit)


class DependencyUnavailable(AppError):
    code = "dependency_unavailable"
    message_ja = "一時的にサービスを利用できません。しばらくしてからもう一度お試しください。"
    message_en = "The service is temporarily unavailable. Please try again shortly."


class ServerBusy(DependencyUnavailable):
    """This process already streams as many turns as it can serve well; the learner retries shortly (ADR 0027)."""

    code = "server_busy"
    message_ja = "ただいま混雑しています。少し待ってから、もう一度送信してください。"
    message_en = "The service is busy right now. Please wait a moment and send again."

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = max(1, int(retry_after))


class StoreUnavailable(DependencyUnavailable):
    code = "store_unavailable"


class ModelUnavailable(DependencyUnavailable):
    code = "model_unavailable"
    message_ja = "現在AIが混み合っています。しばらくしてからもう一度お試しください。"
    message_en = "The AI is busy right now. Please try again shortly."


class ModelOverloaded(ModelUnavailable):
    """The model answered 429 or 5xx: busy or failing; worth a retry, then the other model."""

    code = "model_overloaded"

    def __init__(self, detail: str | None = None, *, status: int = 503, retry_after: float | None = None) -> None:
        super().__init__(detail, extra={"status": status, "retry_after": retry_after})
        self.status = status
        self.retry_after = retry_after


class ModelTimeout(ModelUnavailable):
    """The model did not answer (first chunk or whole call) within its budget."""

    code = "model_timeout"


class ModelCredentialRejected(ModelUnavailable):
    """The credential was refused (401/403): revoked or leaked key. Never retried with the same key."""

    code = "model_credential_rejected"


class ModelRejected(ModelUnavailable):
    """The model refused the request itself (400); retrying the same request cannot help."""

    code = "model_rejected"


class FeatureUnavailable(ModelUnavailable):
    """A model feature switched off by configuration (e.g. text-to-speech)."""

    code = "feature_unavailable"
    message_ja = "この機能は現在ご利用いただけません。"
    message_en = "This feature is not available right now."


class EncryptionError(AppError):
    """Stored encrypted data cannot be read; never answered with garbage."""

    code = "encryption_error"


class UnknownEncryptionKey(EncryptionError):
    code = "encryption_key_unknown"


class DecryptionFailed(EncryptionError):
    code = "decryption_failed"


class ConfigurationError(AppError):
    code = "configuration_error"


class TransactionReadAfterWrite(AppError):
    """A store transaction read after it wrote; Firestore forbids it, so both store adapters refuse it."""
