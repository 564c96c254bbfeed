"""Watch mode (会話観戦): the mode's rules (``mode.py``), runs over the engine (``run.py``), quizzes (``quiz.py``)."""

from workplace_roleplay.domain.modes.watch.mode import WatchMode

__all__ = ["WatchMode"]
