"""Markdown (``.md``) reader: the file's text as is, with its structure from ``markdown-it-py``.

The stored text is the file's own Markdown (UTF-8, BOM dropped, trailing comment-widget
lines cut, as for ``.txt``), so offsets and line numbers are those of the file. The parse
(CommonMark plus GFM tables; ``markdown-it-py``, MIT, already installed with ``rich``) gives:

* **headings** (ATX ``## Sick leave`` and setext): the section path, e.g. ``"Leave > Sick leave"``;
* **blocks** kept whole by the chunker: fenced and indented code blocks;
* **rows**: each table row (``tr`` line) with its cells under the header row's labels; the
  header row and the ``| --- |`` separator line are header rows (a table whose header cells
  are all empty has no header labels). A one-column table (layout, not data) gives no rows:
  its lines are plain text, its separator line a header row;
* **marks**: the heading lines, each list item's lines (``list_item_open`` line range;
  nested items inside their parent's), and a blockquote whose first line carries a note label
  (``> **Warning:**``, ``> [!NOTE]``; see :mod:`index.structure`) as a note;
* **title**: the first level-1 heading (``# Title`` or setext ``===``), else none (the loader
  falls back to the first line or the file name).

List markers ("2.") are handled by the chunker for every format (they start the sentence
after them; see :mod:`index.chunking`).
"""

from __future__ import annotations

from pathlib import Path

from index.readers.base import Extracted, read_bytes
from index.readers.text import decode_utf8, strip_trailing_widget
from index.structure import expand_header, label_cells, label_notes
from index.types import SECTION_SEPARATOR, Heading, Mark, Span, TableRow


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            offsets.append(i + 1)
    offsets.append(len(text))
    return offsets


def _heading_text(inline) -> str:
    parts = [c.content for c in (inline.children or []) if c.type in ("text", "code_inline")]
    return " ".join("".join(parts).split()) or " ".join(inline.content.split())


def structure(text: str) -> tuple[tuple[Heading, ...], tuple[Span, ...]]:
    """``(headings, blocks)`` of Markdown ``text`` (character offsets into it)."""
    headings, blocks, _, _, _ = parse(text)
    return headings, blocks


def _tables(tokens, span, separator_after) -> list[TableRow]:
    """The rows of every table (see the module docstring); ``span(map)`` is a token's
    character span, ``separator_after(row span)`` the separator line after a header row or None.
    markdown-it pads a short row with empty cells and drops cells beyond the header's count
    (GFM): those stay in the row's text, not in its cells."""
    rows: list[TableRow] = []
    i = 0
    while i < len(tokens):
        if tokens[i].type != "table_open":
            i += 1
            continue
        table: list[tuple[Span, bool, list[str]]] = []
        j = i + 1
        while j < len(tokens) and tokens[j].type != "table_close":
            tok = tokens[j]
            if tok.type == "tr_open" and tok.map:
                cells, k, head = [], j + 1, False
                while k < len(tokens) and tokens[k].type != "tr_close":
                    if tokens[k].type == "inline":
                        cells.append(_heading_text(tokens[k]))
                    head = head or tokens[k].type == "th_open"
                    k += 1
                table.append((span(tok.map), head, cells))
                j = k
            j += 1
        i = j
        if not table:
            continue
        ncols = max(len(c) for _, _, c in table)
        if ncols <= 1:  # layout, not data: plain text; the separator line stays a header row
            sep = separator_after(table[0][0])
            if sep:
                rows.append(TableRow(*sep, header=True))
            continue
        header = expand_header([(c, 1) for c in table[0][2]]) if table[0][1] else None
        if header is not None and not any(header):
            header = None
        for (s, e), head, cells in table:
            if head:
                rows.append(TableRow(s, e, header=True))
                sep = separator_after((s, e))
                if sep:
                    rows.append(TableRow(*sep, header=True))
            else:
                rows.append(TableRow(s, e, cells=label_cells(header, [(c, 1) for c in cells])))
    return rows


def parse(text: str) -> tuple[tuple[Heading, ...], tuple[Span, ...], tuple[TableRow, ...], tuple[Mark, ...], str | None]:
    """``(headings, blocks, rows, marks, title)`` of Markdown ``text`` (character offsets into
    it; see the module docstring)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    lines = _line_offsets(text)

    def span(mapping) -> Span:
        first, last = mapping
        end = lines[min(last, len(lines) - 1)]
        return lines[first], len(text[:end].rstrip())

    def separator_after(row: Span) -> Span | None:
        """The ``| --- |`` line right after the header row ``row``, trimmed, or None."""
        nl = text.find("\n", row[1])
        if nl < 0:
            return None
        end = text.find("\n", nl + 1)
        line = (nl + 1, len(text) if end < 0 else end)
        body = text[line[0] : line[1]]
        if set(body.strip()) <= set("|-: \t") and "-" in body:
            return line[0] + len(body) - len(body.lstrip()), line[0] + len(body.rstrip())
        return None

    headings: list[Heading] = []
    blocks: list[Span] = []
    marks: list[Mark] = []
    stack: list[tuple[int, str]] = []
    doc_title = None
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        if tok.type == "list_item_open":
            s, e = span(tok.map)
            if e > s:
                marks.append((s, e, "item"))
        elif tok.type == "blockquote_open":
            s, e = span(tok.map)
            if e > s and label_notes(text[s : text.find("\n", s) if "\n" in text[s:e] else e]):
                marks.append((s, e, "note"))
        if tok.type == "heading_open" and i + 1 < len(tokens):
            level, title = int(tok.tag[1]), _heading_text(tokens[i + 1])
            if not title:
                continue
            s, e = span(tok.map)
            marks.append((s, e, "heading"))
            if level == 1 and doc_title is None:
                doc_title = title
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            headings.append((span(tok.map)[0], SECTION_SEPARATOR.join(t for _, t in stack)))
        elif tok.type in ("fence", "code_block"):
            start, end = span(tok.map)
            if end > start:
                blocks.append((start, end))
    rows = _tables(tokens, span, separator_after)
    return tuple(headings), tuple(blocks), tuple(rows), tuple(marks), doc_title


def read_markdown(path: Path) -> Extracted:
    """Read a Markdown file (see the module docstring).

    Raises:
        Unreadable: not UTF-8, or too large.
    """
    text = strip_trailing_widget(decode_utf8(read_bytes(path), path))
    headings, blocks, rows, marks, title = parse(text)
    return Extracted(text, title=title, format="markdown", headings=headings, blocks=blocks, rows=rows, marks=marks)
