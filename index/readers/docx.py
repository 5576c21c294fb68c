"""Word (``.docx``) reader, with ``python-docx`` (MIT).

The body is read in document order:

* a paragraph is one paragraph of text (paragraphs are separated by a blank line);
* a paragraph styled ``Title`` or ``Heading N`` is a heading: it is kept in the text and
  starts a section, whose path is the open headings above it and its own (``"Leave > Sick leave"``);
* a table becomes one line per row, its cells joined by ``" | "`` (a merged cell once, under
  the labels of the columns it spans); each line is a :class:`~index.types.TableRow`. The
  first row is the header row when Word marks it as one (``w:tblHeader``, "repeat as header
  row"), when all its text is bold, or when every one of its cells is a short label (at most
  :data:`index.structure.HEADER_MAX_CHARS` characters, not ending like a sentence, not a number) and the
  table has a second row; otherwise the table has no header labels. A one-column table is
  layout, not data: its cells are read as paragraphs;
* a list paragraph (Word numbering ``w:numPr``, or a ``List ...`` style) is an item; a
  paragraph whose style is named like a note (``Note``, ``Warning``, ``Caution``,
  ``Important``) is a note;
* the title: core properties title when meaningful (not a file name or "Untitled"), else the
  first ``Title`` paragraph, else the first ``Heading 1``.

Nothing in the file is executed: macros are not in a ``.docx`` (a ``.docm`` is not read),
and the XML is parsed without resolving external entities. A file that is not a Word
document (another zip, a renamed ``.doc``) is refused in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.readers.base import Extracted, Unreadable, check_size
from index.structure import expand_header, label_cells, looks_like_header, meaningful_metadata_title
from index.types import SECTION_SEPARATOR, Heading, Mark, TableRow

_HEADING_STYLE = re.compile(r"^(?:Heading\s*(\d)|Title)$", re.IGNORECASE)
_NOTE_STYLE = re.compile(r"\b(?:note|warning|caution|important|danger|alert)\b", re.IGNORECASE)
_LIST_STYLE = re.compile(r"^list\b", re.IGNORECASE)



def _level(paragraph) -> int | None:
    style = getattr(paragraph.style, "name", "") or ""
    m = _HEADING_STYLE.match(style.strip())
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else 0


def _row_cells(row) -> list[tuple[str, int]]:
    """``(cell text, columns spanned)`` of a row; a merged cell (repeated by python-docx) once."""
    cells: list[tuple[str, int]] = []
    last = None
    for cell in row.cells:
        if cell._tc is last:  # a horizontally merged cell is repeated by python-docx
            cells[-1] = (cells[-1][0], cells[-1][1] + 1)
            continue
        last = cell._tc
        cells.append((" ".join(cell.text.split()), 1))
    return cells


def _row_text(row) -> str:
    return " | ".join(text for text, _ in _row_cells(row))


def _is_header(table_rows, first: list[tuple[str, int]]) -> bool:
    """Whether the first row is a header row (see the module docstring)."""
    from docx.oxml.ns import qn

    tr = table_rows[0]._tr
    if tr.trPr is not None and tr.trPr.find(qn("w:tblHeader")) is not None:
        return True
    runs = [r for c in table_rows[0].cells for p in c.paragraphs for r in p.runs if r.text.strip()]
    if runs and all(r.bold for r in runs):
        return True
    return len(table_rows) > 1 and looks_like_header([t for t, _ in first])


def _is_item(paragraph) -> bool:
    ppr = paragraph._p.pPr
    style = getattr(paragraph.style, "name", "") or ""
    return (ppr is not None and ppr.numPr is not None) or bool(_LIST_STYLE.match(style.strip()))


def _open(path: Path):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(str(path))
    except PackageNotFoundError:
        raise Unreadable(path, "corrupt", "it is not a Word document (not a zip package); save it again as .docx from Word") from None
    except Exception as err:  # a zip of something else: KeyError, ValueError, XML errors...
        kind = "another kind of zip file" if isinstance(err, (KeyError, ValueError)) else f"damaged ({type(err).__name__})"
        raise Unreadable(path, "not a Word document", f"it is {kind}; open it in Word and save it as .docx") from None


def _paragraph_kind(item) -> str | None:
    """``"item"`` for a list paragraph, ``"note"`` for a note's style ("Note", "Warning", ...), else None."""
    if _is_item(item):
        return "item"
    return "note" if _NOTE_STYLE.search((getattr(item.style, "name", "") or "").strip()) else None


def _table(item) -> list[tuple[str, bool | None, tuple]]:
    """A table's non-empty rows, each ``(line, is_header, labelled cells)``: its cells joined by
    " | ", whether it is the header row, and its cells labelled with the column headers
    (``()`` for the header itself); ``is_header`` None for a one-column table (layout: each row
    is read as a paragraph)."""
    rows = [(row, cells) for row, cells in ((row, _row_cells(row)) for row in item.rows) if any(t for t, _ in cells)]
    if not rows:
        return []
    if max(sum(n for _, n in cells) for _, cells in rows) <= 1:
        return [(cells[0][0], None, ()) for _, cells in rows]
    header = expand_header(rows[0][1]) if rows[0][0]._tr is item.rows[0]._tr and _is_header(item.rows, rows[0][1]) else None
    out = []
    for k, (_, cells) in enumerate(rows):
        is_head = header is not None and k == 0
        out.append((" | ".join(t for t, _ in cells), is_head, () if is_head else label_cells(header, cells)))
    return out


def read_docx(path: Path) -> Extracted:
    """Read a ``.docx`` file (see the module docstring).

    Raises:
        Unreadable: not a Word document, damaged, or too large.
    """
    check_size(path)
    document = _open(path)
    parts: list[str] = []
    pos = 0
    headings: list[Heading] = []
    rows_out: list[TableRow] = []
    marks: list[Mark] = []
    stack: list[tuple[int, str]] = []
    first: dict[int, str] = {}

    def add(piece: str) -> int:
        nonlocal pos
        if parts:
            parts.append("\n\n")
            pos += 2
        start = pos
        parts.append(piece)
        pos += len(piece)
        return start

    def add_line(piece: str) -> int:  # the rows of a table are consecutive lines
        nonlocal pos
        parts.append("\n")
        start = pos + 1
        parts.append(piece)
        pos = start + len(piece)
        return start

    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            for k, (line, is_head, cells) in enumerate(_table(item)):
                if is_head is None:  # one column: layout, read as paragraphs
                    add(line)
                    continue
                start = add(line) if k == 0 else add_line(line)
                rows_out.append(TableRow(start, start + len(line), header=is_head, cells=cells))
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        start = add(text)
        if kind := _paragraph_kind(item):
            marks.append((start, pos, kind))
        level = _level(item)
        if level is not None:
            first.setdefault(level, text)
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            headings.append((start, SECTION_SEPARATOR.join(t for _, t in stack)))
    core = document.core_properties
    title = meaningful_metadata_title(core.title) or first.get(0) or first.get(1)
    return Extracted("".join(parts), title=title[:200] if title else None, format="docx", headings=tuple(headings), rows=tuple(rows_out), marks=tuple(marks))
