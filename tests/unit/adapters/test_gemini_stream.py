"""Reading streamed Gemini chunks the way the SDK reads them (../shared/notes/libraries.md §1), and endpoints."""

from __future__ import annotations

import pytest

from workplace_roleplay.adapters.gemini_stream import Chunk, Endpoint, parse_chunk
from workplace_roleplay.errors import ModelCredentialRejected, ModelOverloaded
from workplace_roleplay.ports.model import Usage


def test_a_text_chunk() -> None:
    assert parse_chunk({"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}) == Chunk("hi", None, None)


def test_the_last_chunk_carries_finish_reason_and_usage() -> None:
    data = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": " there"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 2, "totalTokenCount": 3},
    }
    assert parse_chunk(data) == Chunk(" there", "STOP", Usage(input_tokens=1, output_tokens=2))


def test_thought_parts_are_left_out_of_the_text() -> None:
    parts = [{"text": "thinking...", "thought": True}, {"text": "答え"}, {"inlineData": {"data": "AA=="}}]
    assert parse_chunk({"candidates": [{"content": {"parts": parts}}]}).text == "答え"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"promptFeedback": {"blockReason": "SAFETY"}}, "SAFETY"),
        ({"candidates": [{"finishReason": "SAFETY"}]}, "SAFETY"),
        ({"candidates": [{"content": {"parts": [{"text": "途中"}]}, "finishReason": "MAX_TOKENS"}]}, "MAX_TOKENS"),
    ],
)
def test_blocked_and_cut_replies_carry_their_reason(data: dict[str, object], reason: str) -> None:
    assert parse_chunk(data).finish_reason == reason


def test_an_error_inside_the_stream_raises_our_error() -> None:
    with pytest.raises(ModelOverloaded) as caught:
        parse_chunk({"error": {"code": 500, "message": "boom", "status": "INTERNAL"}})
    assert caught.value.status == 500
    with pytest.raises(ModelCredentialRejected):
        parse_chunk({"error": {"code": 403, "status": "PERMISSION_DENIED"}})


def test_endpoints_follow_the_sdk_defaults() -> None:
    assert Endpoint.gemini_api("", "").url("models/gemini-2.5-flash") == (
        "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert Endpoint.vertex("", "", project="p", location="asia-northeast1").url("gemini-2.5-pro") == (
        "https://asia-northeast1-aiplatform.googleapis.com/v1beta1/projects/p/locations/asia-northeast1/"
        "publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    )
    assert Endpoint.vertex("", "", project="p", location="global").base_url == "https://aiplatform.googleapis.com"
    assert Endpoint.vertex("", "", project="p", location="us").base_url == "https://aiplatform.us.rep.googleapis.com"


def test_a_model_name_cannot_change_the_path() -> None:
    with pytest.raises(ValueError, match="unexpected model name"):
        Endpoint.gemini_api("", "").url("../other:streamGenerateContent?x=")
