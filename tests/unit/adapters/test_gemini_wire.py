"""SDK and transport errors become our error tree; PCM becomes WAV."""

from __future__ import annotations

import io
import wave

import httpx2
import pytest
from google.genai import errors as genai_errors

from workplace_roleplay.adapters.gemini_wire import as_wav, translate
from workplace_roleplay.errors import (
    AppError,
    ModelCredentialRejected,
    ModelOverloaded,
    ModelRejected,
    ModelTimeout,
)


def _api_error(code: int) -> genai_errors.APIError:
    body = {"error": {"code": code, "message": "scripted", "status": "X"}}
    cls = genai_errors.ClientError if code < 500 else genai_errors.ServerError
    return cls(code, body, None)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (400, ModelRejected),
        (401, ModelCredentialRejected),
        (403, ModelCredentialRejected),
        (404, ModelRejected),
        (408, ModelOverloaded),
        (429, ModelOverloaded),
        (500, ModelOverloaded),
        (503, ModelOverloaded),
    ],
)
def test_http_codes_map_to_the_error_tree(code: int, expected: type[AppError]) -> None:
    error = translate(_api_error(code))
    assert type(error) is expected
    assert "scripted" not in str(error)  # upstream messages stay out of our errors (and logs)


def test_transport_failures_are_retryable_outages_or_timeouts() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:1/")
    refused = translate(httpx2.ConnectError("refused", request=request))
    assert isinstance(refused, ModelOverloaded)
    assert refused.status == 0
    assert isinstance(translate(httpx2.ReadTimeout("slow", request=request)), ModelTimeout)
    assert isinstance(translate(TimeoutError()), ModelTimeout)


def test_retry_info_in_the_body_becomes_retry_after() -> None:
    body = {"error": {"code": 429, "details": [{"retryDelay": "2.5s"}]}}
    error = translate(genai_errors.ClientError(429, body, None))
    assert isinstance(error, ModelOverloaded)
    assert error.retry_after == 2.5


def test_pcm_is_wrapped_as_wav_and_other_audio_passes_through() -> None:
    audio, mime = as_wav(b"\x00\x01" * 2400, "audio/L16;codec=pcm;rate=16000")
    assert mime == "audio/wav"
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes()) == (16000, 1, 2, 2400)
    assert as_wav(b"ID3...", "audio/mpeg") == (b"ID3...", "audio/mpeg")
