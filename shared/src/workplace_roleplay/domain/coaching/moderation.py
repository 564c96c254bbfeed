"""Moderation of learner lines before anything reaches the model.

- NG words: a list kept in data (``data/ng_words.txt`` or a file named by settings), matched after
  folding (``text_folding``: NFKC, invisible characters removed, katakana as hiragana), so width, kana
  and zero-width variants do not slip through; the match is masked in the text as typed.
- Loops: the same line sent again and again is answered with advice instead of another model call.
- Off-topic: a gentle nudge (never a block) when a line shares nothing with the chosen topic.
Every result carries a Japanese explanation; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from workplace_roleplay.domain.coaching.text_folding import fold, fold_with_origin
from workplace_roleplay.errors import MessageBlocked, RepeatedMessage

DATA_DIR = Path(__file__).parent / "data"


def _normalise(text: str) -> str:
    return fold(text)


def load_words(path: Path) -> list[str]:
    """Non-empty, non-comment lines of a word list."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def load_topic_keywords(path: Path) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for line in load_words(path):
        topic, _, words = line.partition(":")
        table[topic.strip()] = words.split()
    return table


@dataclass(frozen=True, slots=True)
class ModerationResult:
    """The verdict on one learner line."""

    allowed: bool
    reason: str = ""  # "inappropriate_word" | "loop" | "off_topic" | ""
    masked_text: str = ""
    nudge: str = ""  # a gentle Japanese hint shown with the reply (off-topic)


class Moderator:
    """Checks learner lines against the NG list, loop rule and topic keywords."""

    def __init__(
        self,
        ng_words: Iterable[str],
        topic_keywords: dict[str, list[str]] | None = None,
        *,
        loop_threshold: int = 3,
    ) -> None:
        # Longest first, so a long NG phrase is masked whole rather than by its shorter part.
        self.ng_words = sorted({_normalise(w) for w in ng_words if w}, key=len, reverse=True)
        self.topic_keywords = {k: [_normalise(w) for w in v] for k, v in (topic_keywords or {}).items()}
        self.loop_threshold = loop_threshold

    @classmethod
    def from_files(cls, ng_words_file: Path | None = None) -> Moderator:
        return cls(
            load_words(ng_words_file or DATA_DIR / "ng_words.txt"),
            load_topic_keywords(DATA_DIR / "topic_keywords.txt"),
        )

    def mask(self, text: str) -> tuple[str, bool]:
        """The text with NG words replaced by ``*`` and whether any matched.

        Matching runs on the folded text; each match masks the typed characters it came from,
        invisible characters inside the word included.
        """
        folded, origin = fold_with_origin(text)
        hits = False
        chars = list(text)
        for word in self.ng_words:
            start = folded.find(word)
            while start != -1:
                hits = True
                for i in range(origin[start][0], origin[start + len(word) - 1][1] + 1):
                    chars[i] = "*"
                start = folded.find(word, start + 1)
        return "".join(chars), hits

    def check(self, text: str, *, previous_learner_lines: Sequence[str], topic: str = "") -> ModerationResult:
        """Block NG words and loops; nudge off-topic lines."""
        masked, hit = self.mask(text)
        if hit:
            return ModerationResult(False, "inappropriate_word", masked)
        same = _normalise(text.strip())
        repeats = 0
        for line in reversed(previous_learner_lines):
            if _normalise(line.strip()) != same:
                break
            repeats += 1
        if repeats + 1 >= self.loop_threshold:
            return ModerationResult(False, "loop", text)
        keywords = self.topic_keywords.get(topic)
        if keywords and len(same) >= 12 and not any(k in same for k in keywords):
            return ModerationResult(
                True,
                "off_topic",
                text,
                nudge="選んだ話題から少し離れているようです。話題に戻ると練習の効果が高まります。",
            )
        return ModerationResult(True)

    def raise_if_blocked(self, result: ModerationResult) -> None:
        if result.reason == "inappropriate_word":
            raise MessageBlocked(extra={"reason": result.reason, "filtered_text": result.masked_text})
        if result.reason == "loop":
            raise RepeatedMessage(extra={"reason": result.reason})
