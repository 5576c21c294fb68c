"""Document text -> sentences -> quotation-safe units -> passages, with exact offsets.

This is the project's own core (citations point at these spans), built on a maintained
rule-based sentence splitter (``sentencex``, Wikimedia) for the hard part: abbreviations such
as "Mr.", "U.S.", decimals such as "3.5 per cent" and spaced ellipses ". . .".

Pipeline, all in character offsets into ``Document.text``:

1. **Sentences** (:func:`split_sentences`): a line break ends a sentence unless the next line
   starts in lower case (hard-wrapped prose); inside a line the splitter decides, and a piece
   that cannot start a sentence (lower-case start, or leading ``,;:)]”’``) is glued back to
   the one before. Spans are trimmed of surrounding whitespace.
2. **Units** (:func:`group_units`): sentences that must stay together. A quotation that is
   still open (more “ than ”) pulls in the next sentence, so a quote spanning lines stays with
   its closing attribution ("... ’,” Trump told a television interviewer"). A paragraph that
   opens with a quotation and names no speaker of its own (nothing outside the quotes, or only
   "he adds"-style pronoun attribution) is attached to the unit before it, which names the
   speaker; attachment stops at ``max_unit_chars``.
3. **Passages** (:func:`chunk_document`): consecutive units packed greedily up to
   ``max_chars``; a unit longer than that is a passage of its own. A single sentence longer
   than ``max_sentence_chars`` (e.g. a paragraph with no sentence breaks) is cut at word
   boundaries so no passage is silently truncated by the embedding model (256 word pieces).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

import sentencex

from index.types import Document, Passage, Span

CHUNKER_VERSION = 1
"""Bump when the algorithm changes in a way that changes passages; it is part of the index fingerprint."""

_CANNOT_START = re.compile(r"^[\s]*(?:[,;:)\]}”’»]|[a-z])")
_PRONOUN_ATTRIBUTION = re.compile(
    r"\b(?:(?:he|she|they)\s+(?:adds|added|says|said|recalls|recalled|argues|argued|notes|noted|continues|continued|explains|explained|warns|warned)"
    r"|(?:adds|added|says|said|recalls|argues|notes|continues|explains|warns)\s+(?:he|she|they))\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"“[^“”]*”?")


@dataclass(frozen=True, slots=True)
class ChunkingConfig:
    """How documents are cut into passages. Every field is part of the index fingerprint.

    Attributes:
        max_chars: Passages are packed from whole units up to this many characters.
        max_unit_chars: A speaker-less quotation paragraph is attached to the unit before it
            only while the result stays within this many characters.
        max_sentence_chars: A sentence longer than this many characters is cut at word
            boundaries (≈ 200 word pieces for English, under the model's 256 limit).
        language: Language code given to the sentence splitter.
    """

    max_chars: int = 500
    max_unit_chars: int = 900
    max_sentence_chars: int = 900
    language: str = "en"

    def fingerprint_fields(self) -> dict:
        """The config plus splitter and algorithm versions, as a JSON-able dict."""
        return {**asdict(self), "chunker_version": CHUNKER_VERSION, "splitter": f"sentencex-{_splitter_version()}"}


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
            if pieces and _CANNOT_START.match(text[span[0] : span[1]]):
                pieces[-1] = (pieces[-1][0], span[1])
            else:
                pieces.append(span)
        # The splitter's boundaries cover the whole line; guard anyway so no text is lost.
        if pieces:
            pieces[0] = _trim(text, line_start, pieces[0][1]) or pieces[0]
            pieces[-1] = _trim(text, pieces[-1][0], line_end) or pieces[-1]
        for span in pieces:
            spans.extend(_split_long(text, span, max_sentence_chars))
    return spans


def _quote_balance(segment: str) -> int:
    return segment.count("“") - segment.count("”")


def _outside_quotes(segment: str) -> str:
    return _QUOTED.sub(" ", segment)


def group_units(text: str, sentences: list[Span], max_unit_chars: int = 900) -> list[list[Span]]:
    """Group sentence spans into units that must not be separated (see module docstring).

    Returns:
        A list of units, each a non-empty list of consecutive sentence spans.
    """
    units: list[list[Span]] = []
    open_quotes = 0
    for span in sentences:
        if units and open_quotes > 0:
            units[-1].append(span)
        else:
            units.append([span])
        open_quotes = max(0, open_quotes + _quote_balance(text[span[0] : span[1]]))
        if open_quotes == 0 and len(units) >= 2:
            _maybe_attach_to_previous(text, units, max_unit_chars)
    return units


def _maybe_attach_to_previous(text: str, units: list[list[Span]], max_unit_chars: int) -> None:
    unit, prev = units[-1], units[-2]
    body = text[unit[0][0] : unit[-1][1]]
    if not body.startswith("“"):
        return
    outside = _outside_quotes(body)
    speakerless = not re.search(r"\w", outside) or bool(_PRONOUN_ATTRIBUTION.search(outside))
    if speakerless and unit[-1][1] - prev[0][0] <= max_unit_chars:
        prev.extend(unit)
        units.pop()


def passage_id(doc_id: str, text: str, occurrence: int) -> str:
    """Stable passage id: first 20 hex chars of ``sha1(doc_id \\0 text \\0 occurrence)``."""
    return hashlib.sha1(f"{doc_id}\0{text}\0{occurrence}".encode("utf-8")).hexdigest()[:20]


def chunk_document(doc: Document, config: ChunkingConfig = ChunkingConfig()) -> list[Passage]:
    """Cut one document into passages.

    Returns:
        Passages in document order; ``p.text == doc.text[p.start:p.end]`` for each, they do not
        overlap, and together they contain every sentence of the document.
    """
    sentences = split_sentences(doc.text, config.language, config.max_sentence_chars)
    units = group_units(doc.text, sentences, config.max_unit_chars)
    groups: list[list[Span]] = []
    for unit in units:
        if groups and unit[-1][1] - groups[-1][0][0] <= config.max_chars:
            groups[-1].extend(unit)
        else:
            groups.append(list(unit))
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for group in groups:
        start, end = group[0][0], group[-1][1]
        text = doc.text[start:end]
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        passages.append(
            Passage(
                passage_id=passage_id(doc.doc_id, text, occurrence),
                doc_id=doc.doc_id,
                text=text,
                start=start,
                end=end,
                line_start=doc.line_of(start),
                line_end=doc.line_of(end - 1),
                sentences=tuple(group),
                title=doc.title,
            )
        )
    return passages
