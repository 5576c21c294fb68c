"""The data types that carry a document through indexing: Document -> Sentence spans -> Passage.

All offsets are **character** offsets (Python ``str`` indices, i.e. Unicode code points)
into ``Document.text``, the stored text, half-open ``[start, end)``; all line numbers are
1-based lines of the stored text. For ``.txt``/``.md`` files cleaning only ever removes a
trailing block (see ``index.loader``), so ``Document.text`` is a prefix of the file's text and
both coordinate systems agree with the file; for HTML the stored text is the page reduced to
text, and offsets and lines refer to that.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

Span = tuple[int, int]
"""A half-open ``(start, end)`` character span into a document's text."""

Heading = tuple[int, str]
"""``(offset, path)``: from character ``offset`` on (until the next heading), the text is in
the section ``path``, the heading titles from the top level down joined by ``" > "``
(``"Leave > Sick leave"``)."""

SECTION_SEPARATOR = " > "

SENTENCE_KINDS = ("text", "title", "heading", "question", "item", "note", "row", "header")
"""What a sentence of a passage is, decided once at ingest (see :mod:`index.structure`):

* ``title``: the document's title line, where it is in the text;
* ``heading``: a section heading line;
* ``question``: a sentence of the document that asks ("How do I connect to the VPN?" in an
  FAQ): it repeats a user's words without answering them;
* ``item``: (part of) one numbered or bulleted list item or procedure step;
* ``note``: a warning, note, caution or important paragraph;
* ``row``: one table data row (its column headers are in :attr:`Passage.cells`);
* ``header``: a table header row or a Markdown ``| --- |`` separator row (never an answer);
* ``text``: everything else (and every sentence of a store written before kinds existed)."""

Mark = tuple[int, int, str]
"""``(start, end, kind)``: the half-open character span ``[start, end)`` of the text has
``kind`` (``"title"``, ``"heading"``, ``"item"`` or ``"note"``; see :data:`SENTENCE_KINDS`).
A sentence gets the kind of a mark containing its first character."""

Cells = tuple[tuple[str, str], ...]
"""A table row's ``(column header, cell text)`` pairs in column order; the header is ``""``
when the table has no header row (or the row has more cells than the header)."""


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a table in a document's text.

    Attributes:
        start, end: Half-open character span of the row's line in ``Document.text``.
        header: True for a header row or a Markdown separator row (``| --- |``).
        cells: Data rows: ``(column header, cell text)`` per cell, in column order (cell text
            whitespace-folded; a merged cell once, under its columns' headers joined by
            ``" / "``). Header rows: ``()``.
    """

    start: int
    end: int
    header: bool = False
    cells: Cells = ()

    def to_json(self) -> list:
        return [self.start, self.end, self.header, [list(c) for c in self.cells]]

    @classmethod
    def from_json(cls, value) -> TableRow:
        start, end, header, cells = value
        return cls(int(start), int(end), bool(header), tuple((str(h), str(t)) for h, t in cells))


@dataclass(frozen=True, slots=True)
class Document:
    """One source document after cleaning.

    Attributes:
        doc_id: Stable id: the file's path relative to the indexed folder, POSIX style
            (``"japan-us-reset.txt"``), or the file name for a file indexed on its own. It
            survives edits of the file's content and is unique within an index.
        title: The reader's title (PDF meaningful metadata or largest text on page 1, DOCX
            core properties or first Title/Heading 1, HTML ``<title>``/``<h1>``, Markdown
            ``# heading``), else the first line when it looks like a title, else the file name
            in words (see :mod:`index.structure`); never a body sentence.
        text: The stored text: the file's text with the trailing comment-widget lines cut off
            (HTML: the page reduced to text first).
        source: Absolute path of the file it came from.
        sha256: Hex SHA-256 of ``text`` encoded as UTF-8; changes whenever the content does.
        format: The reader that made ``text`` (``"text"``, ``"markdown"``, ``"html"``,
            ``"pdf"``, ``"docx"``, ``"image"``; see :mod:`index.readers`).
        pages: PDF and image files (one page per frame): the character span of each page in
            ``text``, page 1 first (empty for other formats). Spans are in order and do not overlap; the characters between
            two pages are the separator (a line break).
        headings: Where sections start, in order (see :data:`Heading`); empty when the
            format has no headings or the document uses none.
        blocks: Spans that are never cut into sentences (code blocks): each is one
            sentence of the chunker, unless it exceeds the model's limit.
        rows: Table rows (:class:`TableRow`) in text order; each row is one sentence of the
            chunker (cut only beyond the model's limit), of kind ``row`` or ``header``.
        marks: Structure spans (:data:`Mark`) the reader or loader found: headings, list
            items, notes, the title line; sorted by start.
        title_span: The character span of the title in ``text`` when the title is a line
            of it (near the start), else None.
    """

    doc_id: str
    title: str
    text: str
    source: str
    sha256: str
    format: str = "text"
    pages: tuple[Span, ...] = ()
    headings: tuple[Heading, ...] = ()
    blocks: tuple[Span, ...] = ()
    rows: tuple[TableRow, ...] = ()
    marks: tuple[Mark, ...] = ()
    title_span: Span | None = None

    def line_of(self, offset: int) -> int:
        """1-based line number of the character at ``offset`` (``0 <= offset <= len(text)``)."""
        return self.text.count("\n", 0, offset) + 1

    def page_of(self, offset: int) -> int | None:
        """1-based page holding character ``offset`` (a separator counts to the page before);
        None for a document without pages."""
        if not self.pages:
            return None
        page = bisect.bisect_right([s for s, _ in self.pages], offset)
        return max(page, 1)

    def section_of(self, offset: int) -> str | None:
        """The section path at character ``offset`` (the last heading starting at or before
        it), or None before the first heading or without headings."""
        i = bisect.bisect_right([o for o, _ in self.headings], offset)
        return self.headings[i - 1][1] if i else None

    def locators(self) -> dict:
        """``pages``, ``headings``, ``blocks``, ``rows``, ``marks`` and ``title_span`` as a
        JSON-able dict (how the store keeps them)."""
        return {
            "pages": [list(p) for p in self.pages],
            "headings": [list(h) for h in self.headings],
            "blocks": [list(b) for b in self.blocks],
            "rows": [r.to_json() for r in self.rows],
            "marks": [list(m) for m in self.marks],
            "title_span": list(self.title_span) if self.title_span else None,
        }


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrievable chunk of one document: whole sentences, never a cut quotation.

    Invariant: ``text == document.text[start:end]`` for the document ``doc_id``.

    Attributes:
        passage_id: ``sha1(doc_id, text, occurrence)`` in hex (first 20 chars), where
            ``occurrence`` counts earlier passages of the same document with identical
            text; re-chunking the same text yields the same ids, and a repeated paragraph
            still gets distinct ids.
        doc_id: Id of the document it belongs to.
        text: The passage text, exactly as in the document.
        start, end: Character span into the document text (half-open).
        line_start, line_end: 1-based first and last source line of the span.
        sentences: Absolute character spans of the sentences in the passage, in order;
            they lie within ``[start, end)`` and never overlap.
        title: Title of the document, repeated here so a retrieved passage can be shown
            without another lookup.
        page_start, page_end: PDF: 1-based first and last page the span is on; None otherwise.
        section: Section path of the heading the passage falls under (``"Leave > Sick
            leave"``); None when the document has no heading before it.
        kinds: Parallel to ``sentences``: each sentence's kind, one of
            :data:`SENTENCE_KINDS` (decided at ingest; ``()`` means all ``"text"``).
        cells: Parallel to ``sentences``: a ``row``'s ``(column header, cell text)`` pairs
            (:data:`Cells`), ``()`` for every other kind (``()`` for the whole tuple means
            no cells anywhere).
    """

    passage_id: str
    doc_id: str
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    sentences: tuple[Span, ...] = field(default_factory=tuple)
    title: str = ""
    page_start: int | None = None
    page_end: int | None = None
    section: str | None = None
    kinds: tuple[str, ...] = ()
    cells: tuple[Cells, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.sentences)
        if not self.kinds:
            object.__setattr__(self, "kinds", ("text",) * n)
        if not self.cells:
            object.__setattr__(self, "cells", ((),) * n)
        if len(self.kinds) != n or len(self.cells) != n:
            raise ValueError(f"kinds ({len(self.kinds)}) and cells ({len(self.cells)}) must be parallel to the {n} sentences")
        unknown = set(self.kinds) - set(SENTENCE_KINDS)
        if unknown:
            raise ValueError(f"unknown sentence kinds {sorted(unknown)}; expected one of {SENTENCE_KINDS}")

    def location(self) -> dict:
        """Where the passage is: ``doc_id``, ``title``, ``start``, ``end``, ``line_start``,
        ``line_end``, ``page_start``, ``page_end`` (None unless a PDF) and ``section`` (None
        without a heading)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "page_start": self.page_start,
            "page_end": self.page_end,
            "section": self.section,
        }

    def locator(self) -> str:
        """The short human locator: ``"p. 4"``, ``"pp. 4–5"``, else ``"line 3"``/``"lines 3–5"``."""
        if self.page_start is not None:
            if self.page_end in (None, self.page_start):
                return f"p. {self.page_start}"
            return f"pp. {self.page_start}–{self.page_end}"
        if self.line_start == self.line_end:
            return f"line {self.line_start}"
        return f"lines {self.line_start}–{self.line_end}"

    def sentence_texts(self) -> list[str]:
        """The text of each sentence in ``sentences``, in order."""
        return [self.text[s - self.start : e - self.start] for s, e in self.sentences]

    def unit_texts(self) -> list[str]:
        """The text that stands for each sentence in embedding and lexical search: a ``row``
        with cells reads ``"Printer: LEEDS-PR-02 · Floor: First floor"`` (a cell without a
        header is its text alone, an empty cell is left out); every other sentence is its
        exact text (as :meth:`sentence_texts`, which citations use)."""
        return [row_text(c) if k == "row" and c else t for t, k, c in zip(self.sentence_texts(), self.kinds, self.cells)]


def row_text(cells: Cells) -> str:
    """A row's cells with their headers: ``"Header: cell · cell2"`` (empty cells left out; a
    cell whose header is empty or equal to the cell text is its text alone)."""
    parts = [f"{h}: {t}" if h and h != t else t for h, t in cells if t]
    return " · ".join(parts)
