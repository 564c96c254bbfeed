"""Reading streamed Gemini chunks the way the SDK reads them (../shared/notes/libraries.md §1), and endpoints."""

from __future__ import annotations

import json

import pytest

from workplace_roleplay.adapters.gemini_stream import Chunk, Endpoint, SseLines, parse_chunk
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


def _events(reads: list[bytes]) -> list[bytes]:
    lines = SseLines()
    found = [data for raw in reads for data in lines.feed(raw)]
    return found + lines.end()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_sse_events_are_read_whatever_the_line_ending(newline: bytes) -> None:
    wire = b"".join(f'data: {{"n": {i}}}'.encode() + newline + newline for i in range(3))
    assert _events([wire]) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    # Every split point between two reads gives the same events (a CRLF or a character cut in two too).
    for cut in range(1, len(wire)):
        assert _events([wire[:cut], wire[cut:]]) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}'], cut


def test_sse_data_lines_join_a_multibyte_text_cut_between_reads_and_a_last_event_without_blank_line() -> None:
    wire = 'data: {"t":\ndata: "こんにちは"}\n\n: comment\nevent: x\ndata: {"t": "最後"}'.encode()
    events = _events([wire[:20], wire[20:]])
    assert events == ['{"t":\n"こんにちは"}'.encode(), '{"t": "最後"}'.encode()]
    assert [json.loads(e) for e in events] == [{"t": "こんにちは"}, {"t": "最後"}]
