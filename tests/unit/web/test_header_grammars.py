"""Every header and path parameter we parse has a strict ASCII grammar (issue 13, item 2).

Property tests (Hypothesis) over the parsers: any text a client can put in a header or a path gives a
value of the grammar or a clean refusal, never an exception. ``Last-Event-ID: t1.\\xb2`` (a superscript
two, which ``str.isdigit`` accepts and ``int`` refuses) used to raise ``ValueError`` (a 500).
"""

from __future__ import annotations

import re

import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from workplace_roleplay.web.context import accept_request_id, parse_trace
from workplace_roleplay.web.grammar import check_path_value, parse_content_length
from workplace_roleplay.web.sse import parse_event_id

ASCII_ALNUM = re.compile(r"[A-Za-z0-9]+")
# Header values reach the app decoded as latin-1: every code point up to U+00FF, plus what an ASGI
# test client may pass; test the whole of Unicode.
ANY_TEXT = st.text(max_size=80)
DIGIT_LOOKALIKES = ["\xb2", "\xb3", "\xb9", "\u0663", "\uff11", "\u2460", "\U0001d7ce"]


@pytest.mark.parametrize("digit", DIGIT_LOOKALIKES)
def test_a_non_ascii_digit_in_last_event_id_is_refused_not_a_crash(digit: str) -> None:
    assert parse_event_id(f"t1.{digit}") is None
    assert parse_event_id(f"t{digit}.1") is None


@given(ANY_TEXT)
@example("t1.\xb2")
@example("t\u0663.1")
@example("ｔ1.1")
def test_parse_event_id_never_raises_and_yields_ascii(value: str) -> None:
    parsed = parse_event_id(value)
    if parsed is not None:
        turn_id, seq = parsed
        assert ASCII_ALNUM.fullmatch(turn_id)
        assert seq >= 0
        assert parse_event_id(f"{turn_id}.{seq}") == parsed


@given(st.from_regex(r"\A[A-Za-z0-9]{1,64}\Z"), st.integers(min_value=0, max_value=10**9))
def test_every_event_id_we_send_parses_back(turn_id: str, seq: int) -> None:
    assert parse_event_id(f"{turn_id}.{seq}") == (turn_id, seq)


@given(ANY_TEXT, ANY_TEXT)
@example("00-" + "1" * 32 + "-" + "2" * 16 + "-01", None)
@example(None, "a" * 32 + "/\u0663\u0663;o=1")
def test_trace_headers_never_raise_and_yield_ascii_hex(traceparent: str | None, cloud: str | None) -> None:
    trace = parse_trace(traceparent, cloud)
    if trace is not None:
        assert re.fullmatch(r"[0-9a-f]{32}", trace.trace_id)
        assert re.fullmatch(r"[0-9a-f]{16}", trace.span_id)


def test_cloud_trace_span_must_be_ascii_digits() -> None:
    assert parse_trace(None, "a" * 32 + "/\u0663;o=1") is None
    parsed = parse_trace(None, "a" * 32 + "/17;o=1")
    assert parsed is not None
    assert parsed.span_id == f"{17:016x}"


@given(ANY_TEXT)
def test_request_ids_are_ascii(value: str) -> None:
    kept = accept_request_id(value)
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", kept)


@given(ANY_TEXT)
@example("\xb2")
@example("\u0661\u0662")
def test_content_length_is_ascii_digits_or_nothing(value: str) -> None:
    length = parse_content_length(value)
    if length is not None:
        assert re.fullmatch(r"[0-9]{1,18}", value.strip())
        assert length == int(value.strip())


@given(ANY_TEXT)
@example("c\xb2")
@example("..")
@example("__name__")
def test_path_parameters_are_ascii_ids_or_a_422(value: str) -> None:
    try:
        check_path_value("conversation_id", value)
    except RequestValidationError as exc:
        error = exc.errors()[0]
        assert error["loc"] == ("path", "conversation_id")
        assert error["type"] == "string_pattern_mismatch"
    else:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}", value)


@given(ANY_TEXT)
@example("chat.css")
@example("../settings.py")
@example("a/./b")
@example("vendor/htmx.min.js")
def test_file_path_parameters_are_ascii_segments_without_dot_segments(value: str) -> None:
    try:
        check_path_value("name", value, file_path=True)
    except RequestValidationError as exc:
        error = exc.errors()[0]
        assert error["loc"] == ("path", "name")
    else:
        segments = value.split("/")
        assert all(re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", s) for s in segments)
        assert not any(s in (".", "..") for s in segments)
