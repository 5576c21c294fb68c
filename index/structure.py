"""Structure found at ingest: titles, headings, list items, notes and table rows, and the kind
of each sentence (decided once here and stored on the passage; the answer side reads it).

All offsets are character offsets into ``Document.text``, half-open ``[start, end)``.

Rules for text without marked structure (``.txt``, PDF text; the general conventions of
manuals, policies and reports, not of any one document):

* **List item** (:func:`text_marks`): a logical line (a line plus its continuation lines
  that start in lower case) starting with a list marker: ``1.``, ``2)``, ``(3)``, ``a)``,
  ``b.``, ``-``, ``*``, ``•`` (and similar bullets), or ``Step 3:``.
* **Numbered heading**: a numbered line ("4. Resetting the router", "3.1 Scope") is a
  heading, not an item, when it is short (at most :data:`HEADING_MAX_WORDS` words), has no
  terminal punctuation (``. ! ? : ; ,``), starts with a capital after the number, and the
  next non-blank line is a paragraph (not another list item). A line with dot leaders
  (``....``, a table of contents) is neither.
* **Note** (:func:`label_notes`, every format): a logical line that starts with a label
  ``Note``, ``Warning``, ``Caution``, ``Important``, ``Danger`` or ``Tip`` followed by ``:``,
  ``!`` or ``]`` (Markdown ``**Warning:**``, ``> [!WARNING]`` and blockquote marks allowed
  before it); a line that is only the label extends to the next line.
* **Title-like line** (:func:`looks_like_title`): short (at most :data:`TITLE_MAX_CHARS`
  characters), has a letter, does not start in lower case unless it is one word (a site or
  product name: "ticketmaster.com", "iPhone") and does not end like a sentence or clause
  (``. , ; :``). A body sentence is therefore never a title.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from pathlib import Path

from index.types import Cells, Document, Mark, Span, TableRow

TITLE_MAX_CHARS = 150
"""A title is at most this many characters (a long report title is about 100)."""

HEADING_MAX_WORDS = 12
"""A numbered line of more words than this is a list item, not a heading (section headings
in manuals and reports are a few words)."""

LIST_MARKER = r"\(?(?:\d{1,3}|[A-Za-z]|[ivxlcdm]{1,5})[.)]|[*•◦▪‣–\-\uf0b7]"
"""A list item's marker ("2.", "b)", "(iv)", "•", "-"): the chunker's too (a marker starts
the sentence after it, see :mod:`index.chunking`)."""
_MARKER = rf"(?:{LIST_MARKER}|Step\s+\d{{1,3}}\s*[:.)]?)"
_ITEM = re.compile(rf"^[ \t]*{_MARKER}[ \t]+\S", re.IGNORECASE)
_NUMBERED = re.compile(r"^[ \t]*(\d{1,2}(?:\.\d{1,2}){0,4})[.)]?[ \t]+(\S.*)$")
_LABEL = re.compile(
    r"^[ \t]*(?:>[ \t]*)*(?:\[!|!!![ \t]*)?(?:\*\*|__)?(note|warning|caution|important|danger|tip)s?\b(?:\*\*|__)?[ \t]*(?:[:!\]]|$|(?=\*\*))",
    re.IGNORECASE,
)


def logical_lines(text: str) -> list[Span]:
    """Spans of logical lines: a line break followed by a lower-case letter continues the line
    (hard-wrapped prose), as the chunker reads lines. Spans are untrimmed, without the break."""
    spans: list[Span] = []
    start = 0
    for m in re.finditer(r"\n", text):
        if text[m.end() : m.end() + 1].islower():
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _trimmed(text: str, span: Span) -> Span:
    s, e = span
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def is_numbered_heading(line: str, next_line: str | None) -> bool:
    """Whether a numbered ``line`` is a heading (see the module docstring), given the next
    non-blank line (None at the end of the text)."""
    m = _NUMBERED.match(line)
    if not m:
        return False
    title = m.group(2).strip()
    if "...." in title or not title[:1].isupper() or title[-1] in ".!?:;," or len(title.split()) > HEADING_MAX_WORDS:
        return False
    return next_line is not None and not _ITEM.match(next_line) and not _NUMBERED.match(next_line)


def numbered_sections(text: str, marks: Sequence[Mark]) -> tuple[tuple[int, str], ...]:
    """Section starts ``(offset, path)`` from the numbered ``heading`` marks of text without
    marked structure (:func:`text_marks`): "4. Resetting the router" opens a section, "4.2
    Cables" nests in it (the number's depth), so passages are not packed across them (the
    chunker keeps one section per passage) and a passage's section names them."""
    out: list[tuple[int, str]] = []
    stack: list[tuple[int, str]] = []
    for start, end, kind in sorted(marks):
        m = _NUMBERED.match(text[start:end]) if kind == "heading" else None
        if not m:
            continue
        depth = m.group(1).rstrip(".").count(".") + 1
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, " ".join(text[start:end].split())))
        out.append((start, " > ".join(t for _, t in stack)))
    return tuple(out)


def text_marks(text: str) -> list[Mark]:
    """Items, numbered headings and notes of text without marked structure (see the module docstring)."""
    lines = [(s, e) for s, e in logical_lines(text) if text[s:e].strip()]
    marks: list[Mark] = []
    for i, (s, e) in enumerate(lines):
        line = text[s:e]
        nxt = text[lines[i + 1][0] : lines[i + 1][1]] if i + 1 < len(lines) else None
        span = _trimmed(text, (s, e))
        if is_numbered_heading(line, nxt):
            marks.append((*span, "heading"))
        elif _ITEM.match(line) and "...." not in line:  # dot leaders: a table of contents line
            marks.append((*span, "item"))
    return sorted(marks + label_notes(text))


def label_notes(text: str) -> list[Mark]:
    """Note spans: logical lines starting with a note label (see the module docstring)."""
    lines = [(s, e) for s, e in logical_lines(text) if text[s:e].strip()]
    marks: list[Mark] = []
    for i, (s, e) in enumerate(lines):
        m = _LABEL.match(text[s:e])
        if not m:
            continue
        end = e
        rest = text[s + m.end() : e].strip(" \t*_]:!")
        if not rest and i + 1 < len(lines):  # "WARNING" alone on its line: the note is the next line
            end = lines[i + 1][1]
        marks.append((*_trimmed(text, (s, end)), "note"))
    return marks


def heading_marks(text: str, headings: Sequence[tuple[int, str]]) -> list[Mark]:
    """The line at each heading offset, as a ``heading`` mark."""
    out: list[Mark] = []
    for offset, _ in headings:
        end = text.find("\n", offset)
        span = _trimmed(text, (offset, len(text) if end < 0 else end))
        if span[1] > span[0]:
            out.append((*span, "heading"))
    return out


# ---- titles ----------------------------------------------------------------------------

_FILE_NAME_TITLE = re.compile(r"(?:^microsoft\s+\w+\s*-|\.(?:docx?|pdf|txt|rtf|odt|pptx?|xlsx?|html?|indd|qxd)\s*$|^untitled\b|^document\s*\d*$|^title$)", re.IGNORECASE)


def looks_like_title(line: str) -> bool:
    """Whether ``line`` can be a document title (see the module docstring)."""
    line = " ".join(line.split())
    return (
        0 < len(line) <= TITLE_MAX_CHARS
        and any(c.isalpha() for c in line)
        and (not line[0].islower() or " " not in line)  # "ticketmaster.com", "iPhone": one word may
        and line[-1] not in ".,;:"
    )


def meaningful_metadata_title(title: str | None, generators: Sequence[str] = ()) -> str | None:
    """A metadata title worth showing, whitespace folded, or None: empty, a file name
    ("Microsoft Word - report.doc", "scan.pdf"), "Untitled", the name of the program that
    made the file (``generators``: Creator, Producer), or not title-like."""
    title = " ".join((title or "").split())
    if not title or _FILE_NAME_TITLE.search(title):
        return None
    if any(g and title.lower() == " ".join(g.split()).lower() for g in generators):
        return None
    return title if looks_like_title(title) else None


def name_in_words(path: Path | str) -> str:
    """The file name as a title: ``"router-manual.txt"`` -> ``"Router manual"`` (stem,
    ``-``/``_``/``.`` as spaces, first letter upper case)."""
    words = " ".join(re.split(r"[-_.\s]+", Path(path).stem)).strip() or Path(path).name
    return words[:1].upper() + words[1:]


def first_title_line(text: str) -> str | None:
    """The first non-empty line of ``text`` (Markdown ``#`` marks removed) if it looks like a
    title, else None."""
    for line in text.splitlines():
        line = " ".join(line.strip().lstrip("#").split())
        if line:
            return line if looks_like_title(line) else None
    return None


def locate_title(text: str, title: str, within: int = 3000) -> Span | None:
    """Span of the line(s) holding ``title`` in ``text`` (from the line start, so with any
    Markdown ``#`` marks, to the title's last character) when the title is one or more whole
    lines starting in the first ``within`` characters (whitespace between words ignored, case
    kept); None when it is not there."""
    words = title.split()
    if not words:
        return None
    pattern = re.compile(r"(?m)^([ \t]*#*[ \t]*" + r"\s+".join(re.escape(w) for w in words) + r")[ \t#]*$")
    m = pattern.search(text, 0, min(len(text), within + len(title) * 2))
    if not m or m.start(1) >= within:
        return None
    start = m.start(1) + len(m.group(1)) - len(m.group(1).lstrip())
    return start, m.end(1)


# ---- tables --------------------------------------------------------------------------

def label_cells(header: Sequence[str] | None, row: Sequence[tuple[str, int]]) -> Cells:
    """``(header, text)`` pairs of a data row: ``row`` is ``(cell text, columns spanned)`` per
    cell in order; ``header`` the header labels per column (None: no header row). A cell
    spanning columns gets their distinct labels joined by ``" / "``; cells beyond the header
    get ``""``."""
    out: list[tuple[str, str]] = []
    col = 0
    for text, span in row:
        labels: list[str] = []
        for c in range(col, col + max(span, 1)):
            label = header[c] if header is not None and c < len(header) else ""
            if label and label not in labels:
                labels.append(label)
        out.append((" / ".join(labels), " ".join(text.split())))
        col += max(span, 1)
    return tuple(out)


HEADER_MAX_CHARS = 60
"""A first-row cell longer than this is data, not a column label (labels are a few words)."""


def looks_like_header(cells: Sequence[str]) -> bool:
    """Whether a table's first row, ``cells`` (their texts), reads as column labels: every cell
    a short label (at most :data:`HEADER_MAX_CHARS` characters, not ending like a sentence or
    clause, not a number or amount). For tables whose format does not mark a header row (a
    DOCX table without ``w:tblHeader``, a PDF table)."""
    texts = [" ".join(t.split()) for t in cells]
    return bool(texts) and all(
        t and len(t) <= HEADER_MAX_CHARS and t[-1] not in ".;:," and not re.fullmatch(r"[\d.,%$€£ -]+", t) for t in texts
    )


def expand_header(cells: Sequence[tuple[str, int]]) -> list[str]:
    """Header labels per column from ``(text, columns spanned)`` header cells."""
    return [" ".join(text.split()) for text, span in cells for _ in range(max(span, 1))]


# ---- kinds -----------------------------------------------------------------------------

class _Intervals:
    """Membership of offsets in a union of spans (merged, so nesting does not matter)."""

    def __init__(self, spans: Sequence[Span]) -> None:
        merged: list[list[int]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]

    def __contains__(self, offset: int) -> bool:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.ends[i]


_PRIORITY = ("title", "heading", "note", "item")
"""When marks overlap, the first kind in this order wins (a note inside a list item is a note)."""


class SentenceKinds:
    """The kinds of a document's sentences (built once per document, then called per passage).

    ``SentenceKinds(doc)(sentences) -> (kinds, cells)``, parallel to ``sentences`` (see
    :data:`index.types.SENTENCE_KINDS`): a sentence that is exactly a table row is ``row``
    (with its cells) or ``header``; a piece of a row cut at the model's limit is ``header`` for
    a header row and ``text`` for a data row (its cells would not be its text); otherwise the
    kind of the marks (and the title span) containing its first character, by
    :data:`_PRIORITY`; else ``text``.
    """

    def __init__(self, doc: Document) -> None:
        self.text = doc.text
        self.rows = {(r.start, r.end): r for r in doc.rows}
        self.row_starts = sorted(self.rows)
        self.header_rows = _Intervals([k for k, r in self.rows.items() if r.header])
        spans: dict[str, list[Span]] = {k: [] for k in _PRIORITY}
        for s, e, kind in doc.marks:
            if kind in spans:
                spans[kind].append((s, e))
        if doc.title_span:
            spans["title"].append(doc.title_span)
        self.members = {k: _Intervals(v) for k, v in spans.items() if v}

    def __call__(self, sentences: Sequence[Span]) -> tuple[tuple[str, ...], tuple[Cells, ...]]:
        kinds: list[str] = []
        cells: list[Cells] = []
        for span in sentences:
            row = self.rows.get(tuple(span))
            if row is not None:
                kinds.append("header" if row.header else "row")
                cells.append(() if row.header else row.cells)
                continue
            cells.append(())
            i = bisect.bisect_right(self.row_starts, tuple(span)) - 1
            if i >= 0 and span[0] < self.row_starts[i][1]:  # a piece of a row cut at the limit
                kinds.append("header" if span[0] in self.header_rows else "text")
                continue
            kind = next((k for k in _PRIORITY if k in self.members and span[0] in self.members[k]), "text")
            kinds.append(_text_kind(self.text[span[0] : span[1]]) if kind == "text" else kind)
        return tuple(kinds), tuple(cells)


_SECTION_HEADING = re.compile(r"^\s*(?:#|\d+(?:\.\d+)+\.?\s+\S|\d+\s+[A-Z])")
"""A Markdown heading ("## Staff network") or a numbered section heading ("4.2 Resetting the
router", "2 Results"); a list item's "1." or "2)" is not one."""


def _text_kind(sentence: str) -> str:
    """The kind of a sentence no mark covers: ``question`` when it asks (ends with "?": an FAQ's
    "How do I connect to the VPN?" repeats a user's words without answering them); ``heading``
    when it reads as a section heading the readers did not mark, a Markdown ``#`` line or a
    numbered line of at most eight words without closing punctuation ("4.2 Resetting to factory
    settings", a table of contents' entry); else ``text``."""
    body = " ".join(sentence.split())
    if body.endswith("?"):
        return "question"
    if body.startswith("#"):
        return "heading"
    if _SECTION_HEADING.match(body) and len(body.split()) <= 8 and not re.search(r"[.!?:;]$", body):
        return "heading"
    return "text"


def sentence_kinds(doc: Document, sentences: Sequence[Span]) -> tuple[tuple[str, ...], tuple[Cells, ...]]:
    """``(kinds, cells)`` of ``sentences`` of ``doc`` (see :class:`SentenceKinds`)."""
    return SentenceKinds(doc)(sentences)


def row_spans(rows: Sequence[TableRow]) -> list[Span]:
    """The rows' spans (each is kept one sentence by the chunker)."""
    return [(r.start, r.end) for r in rows]
