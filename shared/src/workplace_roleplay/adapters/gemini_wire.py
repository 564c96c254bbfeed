"""What goes over the wire to Gemini and back: request contents and config, replies, errors, audio.

Pure translation between our port's values and google-genai's types (no I/O), so the backend in
``gemini`` holds only the calls.
"""

from __future__ import annotations

import io
import re
import wave

from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel

# The SDK-free parts live with the thin stream (so streaming never imports google.genai); re-exported here.
from workplace_roleplay.adapters.gemini_stream import FAST_TASKS, OPENING_TURN, transport_error, wire_error
from workplace_roleplay.errors import AppError
from workplace_roleplay.ports.model import GenerationRequest, Usage

__all__ = [
    "FAST_TASKS",
    "OPENING_TURN",
    "as_wav",
    "config",
    "contents",
    "finish_reason",
    "translate",
    "usage",
    "wire_error",
]


def translate(exc: BaseException) -> AppError:
    """One SDK or transport exception as an error of our tree."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        headers = getattr(exc.response, "headers", None)
        header = headers.get("retry-after") if headers is not None else None
        return wire_error(int(exc.code or 0), str(exc.status or ""), header, exc.details)
    return transport_error(exc)


def as_wav(audio: bytes, mime_type: str) -> tuple[bytes, str]:
    """Wrap raw PCM (``audio/L16;rate=24000``) in a WAV header browsers play; pass other formats on."""
    mime = mime_type.lower()
    if not (mime.startswith("audio/l16") or mime.startswith("audio/pcm")):
        return audio, mime_type
    rate = int(m.group(1)) if (m := re.search(r"rate=(\d+)", mime)) else 24000
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(audio)
    return buffer.getvalue(), "audio/wav"


def contents(request: GenerationRequest) -> list[types.Content]:
    if not request.messages:
        return [types.Content(role="user", parts=[types.Part(text=OPENING_TURN)])]
    return [types.Content(role=m.role, parts=[types.Part(text=m.text)]) for m in request.messages]


def config(
    request: GenerationRequest, schema: type[BaseModel] | None = None, *, think: bool = True
) -> types.GenerateContentConfig:
    config = types.GenerateContentConfig(
        system_instruction=request.system or None,
        temperature=request.temperature,
        max_output_tokens=request.max_output_tokens,
        # We declare no tools; this skips the SDK's function-calling loop and its per-call log line.
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    if not think:
        config.thinking_config = types.ThinkingConfig(thinking_budget=0)
    if schema is not None:
        config.response_mime_type = "application/json"
        config.response_json_schema = schema.model_json_schema()
    return config


def usage(meta: types.GenerateContentResponseUsageMetadata | None) -> Usage | None:
    if meta is None:
        return None
    return Usage(input_tokens=meta.prompt_token_count or 0, output_tokens=meta.candidates_token_count or 0)


def finish_reason(chunk: types.GenerateContentResponse) -> str | None:
    if chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason is not None:
        return "SAFETY"
    if chunk.candidates and chunk.candidates[0].finish_reason is not None:
        reason = chunk.candidates[0].finish_reason
        return str(getattr(reason, "value", reason))
    return None
