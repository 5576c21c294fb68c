"""Step 1 of chunking (:mod:`index.chunking`): document text -> sentence spans, in character
offsets. A line break ends a sentence unless the next line starts in lower case; inside a line
the ``sentencex`` splitter decides, and a piece that cannot start a sentence is glued back."""

from __future__ import annotations

import re

import sentencex

from index.structure import LIST_MARKER
from index.types import Span


_CANNOT_START = re.compile(r"^[\s]*(?:[,;:)\]}”’»]|[a-z])")


def _glued(text: str, prev: Span, span: Span) -> bool:
    """A full stop inside a token ends no sentence: one followed, with no space, by a letter, a
    digit, ``<``, ``_`` or ``/`` (``v<major>.<minor>``, ``v3.2``, ``example.com``; the splitter
    cut "The release tag format is v<major>.<minor>, for example v3.2." after "v<major>.").
    A bracket after it is a reference mark ("regions.[citation needed] After..."): still a
    boundary, as before. Only an ASCII full stop: Chinese and Japanese full stops (。) are
    followed by no space by rule."""
    return span[0] == prev[1] and text[prev[1] - 1] == "." and (text[span[0]].isalnum() or text[span[0]] in "<_/")


def _splitter_version() -> str:
    from importlib.metadata import version

    return version("sentencex")


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut an over-long span at whitespace into pieces of at most ``limit`` characters."""
    start, end = span
    pieces: list[Span] = []
    while end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit)
        if cut <= start:
            cut = start + limit
        piece = _trim(text, start, cut)
        if piece:
            pieces.append(piece)
        start = cut
    last = _trim(text, start, end)
    if last:
        pieces.append(last)
    return pieces


def _lines(text: str) -> list[Span]:
    """Spans of logical lines: a newline followed by a lower-case letter does not end a line."""
    spans: list[Span] = []
    start = 0
    for m in re.finditer(r"\n", text):
        nxt = text[m.end() : m.end() + 1]
        if nxt.islower():
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def split_sentences(text: str, language: str = "en", max_sentence_chars: int = 900) -> list[Span]:
    """Split ``text`` into trimmed sentence spans, in order, non-overlapping.

    Args:
        text: The document text.
        language: Language code for ``sentencex``.
        max_sentence_chars: Longer sentences are cut at word boundaries.

    Returns:
        ``[(start, end), ...]`` character spans; ``text[start:end]`` has no surrounding
        whitespace. Every non-whitespace character of ``text`` lies in exactly one span.
    """
    spans: list[Span] = []
    for line_start, line_end in _lines(text):
        line = text[line_start:line_end]
        if not line.strip():
            continue
        pieces: list[Span] = []
        for b in sentencex.get_sentence_boundaries(language, line):
            span = _trim(text, line_start + b["start_index"], line_start + b["end_index"])
            if span is None:
                continue
            if pieces and (_CANNOT_START.match(text[span[0] : span[1]]) or _glued(text, pieces[-1], span)):
                pieces[-1] = (pieces[-1][0], span[1])
            else:
                pieces.append(span)
        # The splitter's boundaries cover the whole line; guard anyway so no text is lost.
        if pieces:
            pieces[0] = _trim(text, line_start, pieces[0][1]) or pieces[0]
            pieces[-1] = _trim(text, pieces[-1][0], line_end) or pieces[-1]
        for span in pieces:
            spans.extend(_split_long(text, span, max_sentence_chars))
    return _markers_to_next(text, spans)


def _markers_to_next(text: str, spans: list[Span]) -> list[Span]:
    """Merge each list-marker-only span ("2.") into the span after it."""
    out: list[Span] = []
    carry: int | None = None
    for i, (start, end) in enumerate(spans):
        if carry is not None:
            start, carry = carry, None
        if _MARKER_ONLY.match(text[start:end]):
            if i + 1 < len(spans):
                carry = start
                continue
            if out:  # a marker at the very end of the text closes the sentence before it
                out[-1] = (out[-1][0], end)
                continue
        out.append((start, end))
    return out


_MARKER_ONLY = re.compile(rf"^(?:{LIST_MARKER})$")
"""A piece that is only a list item's marker ("2.", "b)", "iv.", "•"): it belongs to the
sentence after it, never stands alone or ends a passage."""
