"""NG words hidden by invisible characters, width or kana variants are still caught (issue 13, item 3).

The shipped list (domain/data/ng_words.txt) has ``死ね``, ``ばか``, ``バカ``, ``クズ``, ``消えろ``.
"""

from __future__ import annotations

import pytest

from workplace_roleplay.domain.coaching.moderation import Moderator

ZWSP, ZWJ, ZWNJ, SHY, VS16, WJ, BOM, CGJ, LRM = (
    "\u200b",
    "\u200d",
    "\u200c",
    "\u00ad",
    "\ufe0f",
    "\u2060",
    "\ufeff",
    "\u034f",
    "\u200e",
)

VARIANTS = [
    # invisible format characters (category Cf) and other default-ignorable code points inside the word
    pytest.param(f"死{ZWSP}ね", id="zero-width-space"),
    pytest.param(f"死{ZWJ}ね", id="zero-width-joiner"),
    pytest.param(f"死{ZWNJ}ね", id="zero-width-non-joiner"),
    pytest.param(f"ば{SHY}か", id="soft-hyphen"),
    pytest.param(f"ば{VS16}か", id="variation-selector-16"),
    pytest.param(f"ば{WJ}か", id="word-joiner"),
    pytest.param(f"ば{BOM}か", id="byte-order-mark"),
    pytest.param(f"ば{CGJ}か", id="combining-grapheme-joiner"),
    pytest.param(f"ば{LRM}か", id="left-to-right-mark"),
    pytest.param("消\u2062え\u2063ろ", id="invisible-times-separator"),
    pytest.param(f"ク{ZWSP}{ZWJ}{SHY}ズ", id="several-in-a-row"),
    pytest.param("死\U000e0063\U000e0064ね", id="tag-characters"),
    # width variants
    pytest.param("ﾊﾞｶ", id="half-width-katakana"),
    pytest.param("ﾊ\u3099ｶ", id="half-width-with-combining-voiced-mark"),
    pytest.param("ハ\u3099カ", id="decomposed-voiced-mark"),
    pytest.param("は\u3099か", id="decomposed-hiragana"),
    pytest.param(f"は{ZWSP}\u3099か", id="voiced-mark-after-an-invisible"),
    # kana variants
    pytest.param("ばカ", id="mixed-kana"),
    pytest.param("ｸず", id="half-width-and-hiragana"),
    pytest.param("しネ", id="katakana-for-hiragana"),
]


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator.from_files()


@pytest.mark.parametrize("word", VARIANTS)
def test_a_hidden_or_folded_variant_is_blocked_like_the_plain_word(moderator: Moderator, word: str) -> None:
    line = f"本当に{word}と言いたい"
    masked, hit = moderator.mask(line)
    assert hit, f"{line!r} slipped through"
    assert masked.startswith("本当に*")
    assert masked.endswith("*と言いたい")  # masked in place, the rest of the line kept as typed
    result = moderator.check(line, previous_learner_lines=[])
    assert not result.allowed
    assert result.reason == "inappropriate_word"


@pytest.mark.parametrize(
    "line",
    [
        "お疲れさまです。今日の会議の資料を共有します。",
        "ﾃｽﾄの結果をご報告します",  # half-width katakana that is no NG word
        "仕事がはかどっています",  # は + か: folding must not drop or add the voiced mark of ば
        "ﾊｶｾに相談します",
        "👍\ufe0f よろしくお願いします",
    ],
)
def test_ordinary_lines_pass_and_are_kept_as_typed(moderator: Moderator, line: str) -> None:
    assert moderator.mask(line) == (line, False)


def test_a_line_of_only_invisible_characters_changes_nothing(moderator: Moderator) -> None:
    line = f"{ZWSP}{ZWJ}{SHY}"
    assert moderator.mask(line) == (line, False)
