"""Folding text before NG-word matching: what a reader sees, not the code points that were typed.

``fold(text)`` = NFKC (width and compatibility variants), minus every invisible character (Unicode
category Cf, variation selectors, the combining grapheme joiner, Hangul fillers, tags: the
Default_Ignorable_Code_Point set), katakana folded to hiragana, case folded. A voiced sound mark
left alone by a removed invisible character is composed again (は + ZWSP + ゛ → ば).

``fold_with_origin`` also tells, for every folded character, which characters of the original text
it came from, so a match can be masked in the text the learner typed.
"""

from __future__ import annotations

import unicodedata

# Default-ignorable code points that are not category Cf (Unicode DerivedCoreProperties).
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # half-width Hangul filler
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)
_KATAKANA = (0x30A1, 0x30F6)  # ァ..ヶ; hiragana is 0x60 lower
_SOUND_MARKS = frozenset("\u3099\u309a")


def is_invisible(char: str) -> bool:
    if unicodedata.category(char) == "Cf":
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def _kana(char: str) -> str:
    code = ord(char)
    if _KATAKANA[0] <= code <= _KATAKANA[1]:
        return chr(code - 0x60)
    return char


def fold_with_origin(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The folded text and, per folded character, the (first, last) index in ``text`` it came from."""
    out: list[str] = []
    origin: list[tuple[int, int]] = []
    for index, char in enumerate(text):
        if is_invisible(char):
            continue
        for piece in unicodedata.normalize("NFKC", char).casefold():
            if is_invisible(piece):
                continue
            if piece in _SOUND_MARKS and out:
                composed = unicodedata.normalize("NFC", out[-1] + piece)
                if len(composed) == 1:
                    out[-1] = composed
                    origin[-1] = (origin[-1][0], index)
                    continue
            out.append(_kana(piece))
            origin.append((index, index))
    return "".join(out), origin


def fold(text: str) -> str:
    return fold_with_origin(text)[0]
