"""What a question (and an earlier turn) must be before it is answered: cleaned text of a
bounded length. Used by :class:`assistant.Assistant` and, before a model loads, by the CLI
and the HTTP API (``clean_question`` is one of :mod:`assistant`'s public names)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from assistant.errors import QuestionError


def clean_question(question: str, max_chars: int) -> str:
    """Normalise a question: Unicode NFKC (full-width "Ｗｈｏ" -> "Who", ligatures split),
    invisible format characters (zero-width space, direction marks, soft hyphen) removed,
    other control characters turned into spaces, whitespace folded.

    Raises:
        QuestionError: it is empty after cleaning, has no letter or digit, or is longer than
            ``max_chars`` characters.
    """
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    text = unicodedata.normalize("NFKC", question)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question about the documents.")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("The question has no words, only punctuation or symbols; please ask about the documents in words.")
    if len(text) > max_chars:
        raise QuestionError(f"The question is {len(text):,} characters long; please keep it under {max_chars:,}.")
    return text


def usable_history(history: Sequence[str], max_chars: int, max_total_chars: int | None = None) -> list[str]:
    """The earlier user turns that can serve as context, cleaned like questions, oldest first;
    turns that are not text, empty or over ``max_chars`` characters (before or after cleaning)
    are skipped, and of the rest only the latest whose lengths sum to at most
    ``max_total_chars`` are kept (they never fail the question). An over-long turn is skipped
    before it is cleaned, so a huge history costs no Unicode work."""
    usable: list[str] = []
    total = 0
    for turn in reversed(history):
        if not isinstance(turn, str) or len(turn) > max_chars:
            continue
        try:
            text = clean_question(turn, max_chars)
        except QuestionError:
            continue
        total += len(text)
        if max_total_chars is not None and total > max_total_chars:
            break
        usable.append(text)
    return usable[::-1]


def history_problem(history: Sequence[str], max_turn_chars: int, max_total_chars: int) -> tuple[int | None, str] | None:
    """Why ``history`` is refused by the HTTP API, or None: ``(index of the turn at fault or
    None for the whole, one readable line)`` when one turn is over ``max_turn_chars`` or all
    turns together are over ``max_total_chars`` (characters, before cleaning)."""
    for i, turn in enumerate(history):
        if len(turn) > max_turn_chars:
            return i, f"History turn {i + 1} is {len(turn):,} characters long; please keep each turn under {max_turn_chars:,}."
    total = sum(len(turn) for turn in history)
    if total > max_total_chars:
        return None, f"The history is {total:,} characters long; please keep it under {max_total_chars:,} (send fewer turns)."
    return None
