"""Word (``.docx``) reader, with ``python-docx`` (MIT).

The body is read in document order:

* a paragraph is one paragraph of text (paragraphs are separated by a blank line);
* a paragraph styled ``Title`` or ``Heading N`` is a heading: it is kept in the text and
  starts a section, whose path is the open headings above it and its own (``"Leave > Sick leave"``);
* a table becomes one line per row, its cells joined by ``" | "`` (a merged cell once), and
  the table is a block the chunker keeps whole.

Nothing in the file is executed: macros are not in a ``.docx`` (a ``.docm`` is not read),
and the XML is parsed without resolving external entities. A file that is not a Word
document (another zip, a renamed ``.doc``) is refused in one line.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.readers.base import Extracted, Unreadable, check_size
from index.types import SECTION_SEPARATOR, Heading, Span

_HEADING_STYLE = re.compile(r"^(?:Heading\s*(\d)|Title)$", re.IGNORECASE)


def _level(paragraph) -> int | None:
    style = getattr(paragraph.style, "name", "") or ""
    m = _HEADING_STYLE.match(style.strip())
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else 0


def _row_text(row) -> str:
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is repeated by python-docx
            continue
        seen.add(id(cell._tc))
        cells.append(" ".join(cell.text.split()))
    return " | ".join(cells)


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
    blocks: list[Span] = []
    stack: list[tuple[int, str]] = []
    first_heading = None

    def add(piece: str) -> int:
        nonlocal pos
        if parts:
            parts.append("\n\n")
            pos += 2
        start = pos
        parts.append(piece)
        pos += len(piece)
        return start

    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            rows = [r for r in (_row_text(row) for row in item.rows) if r.strip(" |")]
            if rows:
                start = add("\n".join(rows))
                blocks.append((start, pos))
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        start = add(text)
        level = _level(item)
        if level is not None:
            first_heading = first_heading or text
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            headings.append((start, SECTION_SEPARATOR.join(t for _, t in stack)))
    title = (document.core_properties.title or "").strip() or first_heading
    return Extracted("".join(parts), title=title[:200] if title else None, format="docx", headings=tuple(headings), blocks=tuple(blocks))
