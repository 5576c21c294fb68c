"""Table rows of a PDF, found by pdfplumber and located in the text PDFium read.

PDFium (pypdfium2, :mod:`index.readers.pdf`) finds no tables: a PDF's table reaches the text as
lines, and a row's cells cannot be told apart ("September 2002 Draft 01 First draft for
discussion"). pdfplumber (MIT, on pdfminer.six) finds **ruled** tables, those whose cells are
drawn with lines or rectangles (its default ``lines`` strategy: `pdfplumber's table
extraction <https://github.com/jsvine/pdfplumber#extracting-tables>`_). It is used here only
to find where tables and their cells are; the text stays PDFium's, so a row is a span of the
document text with exact offsets, as a Markdown, HTML or DOCX row is.

For each table pdfplumber finds on a page:

* a row is the span from the first to the last character of the text whose box centre lies
  in the row's box (PDFium character boxes, :func:`extract` gives their indexes); a cell's
  text is that of the characters in the cell's box, in text order;
* the table is kept only if every row is such a span with no character of another row or of
  the text around the table inside it (a table the reading order runs through in another
  order is read as lines, as before), and if it has at least :data:`MIN_ROWS` rows and two
  columns with text (a one-column box is a frame or a diagram, not a table: as for the other formats,
  :mod:`index.structure`);
* the first row is a header when :func:`index.structure.looks_like_header` says so; then
  each data row's cells carry the header's labels (:class:`~index.types.TableRow`).

Only pages with at least :data:`MIN_PATHS` drawn paths are handed to pdfplumber (a ruled
table needs them; pdfplumber parses a page far slower than PDFium), and not more than
:data:`MAX_PATHS` (a vector drawing, where cells are boxes of a diagram). Scanned pages are
not read for tables. A page pdfplumber cannot parse keeps its text as lines: a table is never
a reason to fail a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from index.structure import expand_header, label_cells, looks_like_header
from index.types import TableRow

MIN_PATHS = 4
"""Fewer drawn paths than this on a page: no ruled table (a table of two columns and two rows
has at least the 3 + 3 lines of its grid, or 4 cell rectangles)."""

MAX_PATHS = 5_000
"""More drawn paths than this: a vector drawing (a map, a chart), not searched for tables."""

MIN_ROWS = 3
"""A table has at least this many rows with text (a header and two rows): a ruled box of one
or two lines is a frame, a form field or a diagram's shape more often than a table."""

Box = tuple[float, float, float, float]
"""``(x0, top, x1, bottom)`` in PDF points from the page's top-left corner (pdfplumber's layout)."""


def table_rows(path: Path, text: str, origin: Sequence[tuple[int, int]], lock) -> tuple[TableRow, ...]:
    """Rows of the ruled tables of the PDF at ``path`` (see the module docstring), as spans of
    ``text``, the document text :func:`index.readers.pdf.extract` assembled, whose character
    ``k`` came from ``origin[k] = (page number 1-based, PDFium char index)`` (index < 0: not a
    PDFium character). ``lock`` serialises PDFium calls.

    Returns:
        Rows in text order (empty when no table is found, pdfplumber is missing or fails).
    """
    pages: dict[int, list[int]] = {}
    for k, (page, index) in enumerate(origin):
        if index >= 0:
            pages.setdefault(page, []).append(k)
    with lock:
        centres = _ruled_pages_centres(path, {n: [(k, origin[k][1]) for k in ks] for n, ks in pages.items()})
    ruled = sorted(centres)
    if not ruled:
        return ()
    try:
        import pdfplumber
    except ImportError:
        return ()
    rows: list[TableRow] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            for n in ruled:
                try:
                    tables = pdf.pages[n - 1].find_tables()
                except Exception:  # pdfminer cannot lay the page out: its text stays lines
                    continue
                for table in tables:
                    cells = [[c for c in row.cells] for row in table.rows]
                    rows.extend(_rows(text, centres[n], cells))
    except Exception:  # pdfminer cannot open what PDFium could: no tables, the text stays
        return ()
    return tuple(sorted(rows, key=lambda r: r.start))


def _ruled_pages_centres(path: Path, chars: dict[int, list[tuple[int, int]]]) -> dict[int, list[tuple[int, float, float]]]:
    """For the pages of ``chars`` (page -> ``(text offset, PDFium char index)``) with between
    :data:`MIN_PATHS` and :data:`MAX_PATHS` drawn paths, ``(text offset, x, y)`` of each
    character's box centre in pdfplumber's layout (points from the top-left corner); the PDF
    is opened once."""
    import pypdfium2 as pdfium
    from pypdfium2 import raw

    out: dict[int, list[tuple[int, float, float]]] = {}
    pdf = pdfium.PdfDocument(str(path))
    try:
        for n, pairs in chars.items():
            page = pdf[n - 1]
            count = 0
            for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH], max_depth=3):
                count += 1
                if count > MAX_PATHS:
                    break
            if not MIN_PATHS <= count <= MAX_PATHS:
                continue
            height = page.get_size()[1]
            textpage = page.get_textpage()
            n_chars = textpage.count_chars()
            found = []
            for k, index in pairs:
                if index < n_chars:
                    left, bottom, right, top = textpage.get_charbox(index)
                    found.append((k, (left + right) / 2, height - (bottom + top) / 2))
            out[n] = found
    finally:
        pdf.close()
    return out


def _cell_text(text: str, offsets: list[int]) -> str:
    """The text of a cell's characters (text offsets, in order): a gap in the offsets (a line
    break, another cell's text) reads as a space; whitespace folded."""
    out: list[str] = []
    for i, k in enumerate(offsets):
        if i and k > offsets[i - 1] + 1:
            out.append(" ")
        out.append(text[k])
    return " ".join("".join(out).split())


def _inside(x: float, y: float, box: Box | None) -> bool:
    return box is not None and box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _rows(text: str, centres: list[tuple[int, float, float]], grid: list[list[Box | None]]) -> list[TableRow]:
    """The rows of one table (``grid``: per row, each cell's box or None for a merged-over
    cell), or none when the table cannot be located as spans (see the module docstring)."""
    spans: list[tuple[int, int]] = []
    texts: list[list[tuple[str, int]]] = []
    for row in grid:
        boxes = [b for b in row if b is not None]
        if not boxes:
            return []
        band = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        inside = [k for k, x, y in centres if _inside(x, y, band)]
        if not inside:
            spans.append((-1, -1))
            texts.append([])
            continue
        spans.append((min(inside), max(inside) + 1))
        cells: list[tuple[str, int]] = []
        for i, box in enumerate(row):
            if box is None:
                continue
            span = 1 + next((j for j, b in enumerate(row[i + 1 :]) if b is not None), len(row) - i - 1)
            cells.append((_cell_text(text, [k for k, x, y in centres if _inside(x, y, box)]), span))
        texts.append(cells)
    located = [(s, e) for s, e in spans if s >= 0]
    if len(located) < MIN_ROWS or max(len([t for t, _ in cells if t.strip()]) for cells in texts) < 2:
        return []
    for (s, e), (s2, _) in pairwise(located):
        if e > s2:  # the reading order interleaves the rows
            return []
    table = (located[0][0], located[-1][1])
    ours = {k for s, e in located for k in range(s, e)}
    if any(table[0] <= k < table[1] and k not in ours for k, _, _ in centres):
        return []  # text from outside the table sits between its rows
    first = next(i for i, (s, _) in enumerate(spans) if s >= 0)
    header = expand_header(texts[first]) if looks_like_header([t for t, _ in texts[first]]) else None
    out = []
    for i, ((s, e), cells) in enumerate(zip(spans, texts)):
        if s < 0 or not any(t.strip() for t, _ in cells):
            continue
        is_head = header is not None and i == first
        out.append(TableRow(s, e, header=is_head, cells=() if is_head else label_cells(header, cells)))
    return out
