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


def usable_history(history: Sequence[str], max_chars: int) -> list[str]:
    """The earlier user turns that can serve as context, cleaned like questions; turns that are
    not text, empty or over ``max_chars`` characters are skipped (they never fail the question)."""
    usable = []
    for turn in history:
        try:
            usable.append(clean_question(turn, max_chars))
        except QuestionError:
            continue
    return usable
