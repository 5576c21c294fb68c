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
   ``max_chars``, never across a page boundary of a PDF (only a sentence that runs on to
   the next page spans two) nor across a heading, so a passage has one page and one section; a unit longer than that is a passage of its own. A single sentence longer
   than ``max_sentence_chars`` (e.g. a paragraph with no sentence breaks) is cut at word
   boundaries.
4. **Token limit** (when :func:`chunk_document` is given the model's token counter): the
   embedding model reads at most ``max_tokens`` word pieces (all-MiniLM-L6-v2: 256 including
   ``[CLS]`` and ``[SEP]``, so 254) and silently drops the rest. A sentence over the limit is
   cut at the last word boundary that fits (found by counting with the real tokenizer), a
   unit over the limit is split between sentences, and passages are packed so their word
   pieces stay within the limit too. Nothing is ever embedded truncated.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from index.sentences import _split_long, _splitter_version, _trim, split_sentences
from index.structure import SentenceKinds, looks_like_title, row_spans
from index.token_limit import TokenCounter, _exact_fit, _split_unit, split_to_token_limit
from index.types import Document, Passage, Span, row_text

CHUNKER_VERSION = 7
"""Bump when the algorithm changes in a way that changes passages; it is part of the index fingerprint.
2: passages and sentences are kept within the model's token limit.
3: a list marker ("2.") starts the sentence after it; a document's blocks (code, tables) are
one sentence each; passages carry pages and sections.
4: each table row is one sentence (a table is kept in one passage where it fits); sentences
carry their kinds (title, heading, item, note, row, header, text) and rows their cells.
5: a list's consecutive items, with a note right before them, are one unit (a procedure is kept
in one passage where it fits, up to ``max_unit_chars``); a plain-text document's numbered
headings start sections (``index.structure.numbered_sections``).
6: a PDF's ruled tables are read as rows with their cells (``index.readers.pdf_tables``), so
PDFs indexed before are read again; a list's lead-in line (a heading-like line or one ending
with a colon, right before the first item) joins the list's unit (``leads_into_list``).
7: a document's own questions and the numbered section headings no reader marked get their
kinds at ingest (``question``, ``heading``: ``index.structure``); the answer path stopped
guessing them from the text."""


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
            boundaries (≈ 200 word pieces for ordinary English).
        max_tokens: Word pieces (without special tokens) a passage or sentence may have, when
            a token counter is given: the model's limit, 256 for all-MiniLM-L6-v2, minus
            ``[CLS]`` and ``[SEP]``.
        language: Language code given to the sentence splitter.
    """

    max_chars: int = 500
    max_unit_chars: int = 900
    max_sentence_chars: int = 900
    max_tokens: int = 254
    language: str = "en"

    def fingerprint_fields(self) -> dict:
        """The config plus splitter and algorithm versions, as a JSON-able dict."""
        return {**asdict(self), "chunker_version": CHUNKER_VERSION, "splitter": f"sentencex-{_splitter_version()}"}


def _whole_blocks(text: str, sentences: list[Span], blocks: Sequence[Span], max_sentence_chars: int) -> list[Span]:
    """Sentences with every block (code block, table) made one sentence of its own (cut at
    whitespace only beyond ``max_sentence_chars``); sentences outside blocks unchanged."""
    if not blocks:
        return sentences
    out: list[Span] = []
    spans = sorted(blocks)
    i = 0
    for s in sentences:
        while i < len(spans) and spans[i][1] <= s[0]:
            i += 1
        if i < len(spans) and s[1] > spans[i][0] and s[0] < spans[i][1]:
            block = _trim(text, min(s[0], spans[i][0]), max(s[1], spans[i][1]))
            if out and block and out[-1][1] > block[0]:  # extends the block already emitted
                out[-1] = (min(out[-1][0], block[0]), max(out[-1][1], block[1]))
            elif block:
                out.append(block)
            continue
        out.append(s)
    return [piece for span in out for piece in _split_long(text, span, max_sentence_chars)]


def _with_rows(text: str, sentences: list[Span], rows: Sequence[Span], max_row_chars: int) -> list[Span]:
    """Sentences with every table row made one sentence of its own (``rows``: sorted,
    non-overlapping spans; a row is cut at whitespace only beyond ``max_row_chars``); the parts
    of a sentence outside every row stay sentences (a row's line never joins the line before)."""
    if not rows:
        return sentences
    starts = [s for s, _ in rows]
    out: list[Span] = []
    for start, end in sentences:
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        pos = start
        while i < len(rows) and rows[i][0] < end:
            rs, re_ = rows[i]
            if re_ > pos:
                piece = _trim(text, pos, min(rs, end)) if rs > pos else None
                if piece:
                    out.append(piece)
                pos = max(pos, re_)
            i += 1
        piece = _trim(text, pos, end) if pos < end else None
        if piece:
            out.append(piece)
    out.extend(piece for r in rows for piece in _split_long(text, r, max_row_chars))
    return sorted(set(out))


def _table_units(text: str, units: list[list[Span]], rows: set[Span], max_chars: int) -> list[list[Span]]:
    """Units with consecutive rows of one table (only whitespace between them) joined into one
    unit while it stays within ``max_chars`` characters, so a table that fits is one passage."""
    out: list[list[Span]] = []
    for unit in units:
        if (
            out
            and all(s in rows for s in unit)
            and all(s in rows for s in out[-1])
            and not text[out[-1][-1][1] : unit[0][0]].strip()
            and unit[-1][1] - out[-1][0][0] <= max_chars
        ):
            out[-1].extend(unit)
        else:
            out.append(list(unit))
    return out


def _list_units(doc: Document, units: list[list[Span]], max_unit_chars: int) -> list[list[Span]]:
    """Units with the consecutive items of one list (and a note right before them, "Warning:
    a reset erases…") joined into one unit while it stays within ``max_unit_chars``
    characters: a procedure that fits is one passage, so an answer can quote it whole. A
    sentence's kind is that of the item or note mark (``doc.marks``) holding its first character."""
    marks = [m for m in doc.marks if m[2] in ("item", "note")]
    if not any(m[2] == "item" for m in marks):
        return units
    starts = [m[0] for m in marks]

    def kinds(unit: list[Span]) -> set[str | None]:
        out: set[str | None] = set()
        for s, _ in unit:
            i = bisect.bisect_right(starts, s) - 1
            out.add(marks[i][2] if i >= 0 and marks[i][0] <= s < marks[i][1] else None)
        return out

    out: list[list[Span]] = []
    previous: set[str | None] = set()
    for unit in units:
        here = kinds(unit)
        if out and here == {"item"} and previous in ({"item"}, {"note"}) and unit[-1][1] - out[-1][0][0] <= max_unit_chars:
            out[-1].extend(unit)
            previous = {"item"}
        elif out and here == {"item"} and leads_into_list(doc.text, out[-1][-1], unit[0]) and unit[-1][1] - out[-1][-1][0] <= max_unit_chars:
            lead = out[-1].pop()  # the list's lead-in line ("How to clear a paper jam", "To reset the router:") opens its unit
            if not out[-1]:
                out.pop()
            out.append([lead, *unit])
            previous = {"item"}
        else:
            out.append(list(unit))
            previous = here
    return out


def leads_into_list(text: str, line: Span, first_item: Span) -> bool:
    """Whether sentence ``line`` is a list's lead-in: a line of its own (nothing else on it),
    right before the list's first item (at most one blank line between), that reads as a
    heading (:func:`index.structure.looks_like_title`: short, not ending like a sentence) or
    ends with a colon. A procedure's heading or lead-in then stays in the procedure's passage."""
    s, e = line
    before, between = text[max(s - 1, 0) : s], text[e : first_item[0]]
    own_line = (s == 0 or before == "\n") and between.strip() == "" and 1 <= between.count("\n") <= 2
    body = text[s:e].strip()
    return own_line and (body.endswith(":") or looks_like_title(body))


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


def chunk_document(doc: Document, config: ChunkingConfig = ChunkingConfig(), count_tokens: TokenCounter | None = None) -> list[Passage]:
    """Cut one document into passages.

    Args:
        doc: The document.
        config: Chunking parameters.
        count_tokens: The embedding model's token counter; when given, no passage and no
            sentence has more than ``config.max_tokens`` word pieces (see the module docstring).
            :func:`index.build_index` always gives it.

    Returns:
        Passages in document order; ``p.text == doc.text[p.start:p.end]`` for each, they do not
        overlap, and together they contain every sentence of the document.
    """
    text = doc.text
    sentences = split_sentences(text, config.language, config.max_sentence_chars)
    sentences = _whole_blocks(text, sentences, doc.blocks, max(config.max_sentence_chars, config.max_chars))
    rows = sorted(set(row_spans(doc.rows)))
    sentences = _with_rows(text, sentences, rows, max(config.max_sentence_chars, config.max_chars))
    tokens: dict[Span, int] = {}
    if count_tokens is not None:
        sentences = [piece for span in sentences for piece in split_to_token_limit(text, span, config.max_tokens, count_tokens)]
        tokens = dict(zip(sentences, count_tokens([text[s:e] for s, e in sentences])))
    units = group_units(text, sentences, config.max_unit_chars)
    units = _table_units(text, units, set(rows), config.max_chars)
    units = _list_units(doc, units, config.max_unit_chars)
    if count_tokens is not None:
        units = [run for unit in units for run in _split_unit(unit, tokens, config.max_tokens)]
    groups = _pack(doc, units, tokens, config)
    if count_tokens is not None:
        groups = _exact_fit(text, groups, config.max_tokens, count_tokens)
    return _passages(doc, groups, _labelled_rows_that_fit(doc, count_tokens, config.max_tokens))


def _labelled_rows_that_fit(doc: Document, count: TokenCounter | None, limit: int) -> Document:
    """``doc`` with the cells of any row whose labelled text (``"Header: cell · ..."``) exceeds
    the model's ``limit`` of word pieces dropped (the row is then embedded as its own text), so
    nothing is ever embedded truncated."""
    if count is None or not doc.rows:
        return doc
    data = [r for r in doc.rows if r.cells]
    sizes = count([row_text(r.cells) for r in data]) if data else []
    over = {id(r) for r, n in zip(data, sizes) if n > limit}
    if not over:
        return doc
    return replace(doc, rows=tuple(replace(r, cells=()) if id(r) in over else r for r in doc.rows))


def _pack(doc: Document, units: list[list[Span]], tokens: dict[Span, int], config: ChunkingConfig) -> list[list[Span]]:
    """Greedily pack consecutive units into passages of at most ``config.max_chars`` characters
    and ``config.max_tokens`` word pieces (``tokens``: per sentence, empty when not counted),
    never across a page or section boundary."""
    groups: list[list[Span]] = []
    group_tokens = 0
    for unit in units:
        unit_tokens = sum(tokens.get(s, 0) for s in unit)
        # Sentences are separated by whitespace, where word pieces never straddle, so the
        # sum of their counts is the passage's count (checked exactly by _exact_fit anyway).
        if groups:
            before, here = groups[-1][-1][1] - 1, unit[0][0]
            same_place = doc.page_of(here) == doc.page_of(before) and doc.section_of(here) == doc.section_of(before)
        if groups and same_place and unit[-1][1] - groups[-1][0][0] <= config.max_chars and group_tokens + unit_tokens <= config.max_tokens:
            groups[-1].extend(unit)
            group_tokens += unit_tokens
        else:
            groups.append(list(unit))
            group_tokens = unit_tokens
    return groups


def _passages(doc: Document, groups: list[list[Span]], labels: Document | None = None) -> list[Passage]:
    """One :class:`Passage` per group of sentence spans, with its locators and sentence kinds
    (from ``labels``, default ``doc``: see :func:`index.structure.sentence_kinds`); identical
    texts in one document get distinct ids by occurrence."""
    text = doc.text
    kinds_of = SentenceKinds(labels or doc)
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for group in groups:
        start, end = group[0][0], group[-1][1]
        body = text[start:end]
        occurrence = seen.get(body, 0)
        seen[body] = occurrence + 1
        kinds, cells = kinds_of(group)
        passages.append(
            Passage(
                passage_id=passage_id(doc.doc_id, body, occurrence),
                doc_id=doc.doc_id,
                text=body,
                start=start,
                end=end,
                line_start=doc.line_of(start),
                line_end=doc.line_of(end - 1),
                sentences=tuple(group),
                title=doc.title,
                page_start=doc.page_of(start),
                page_end=doc.page_of(end - 1),
                section=doc.section_of(start),
                kinds=kinds,
                cells=cells,
            )
        )
    return passages


