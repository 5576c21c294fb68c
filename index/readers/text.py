"""Plain text (``.txt``) and HTML (``.html``/``.htm``) readers.

``.txt``: UTF-8; a BOM is dropped, and a trailing block of comment-widget lines is cut (see
:func:`strip_trailing_widget`), so the stored text is a prefix of the file and offsets and
line numbers are those of the file. No headings: a plain text file has no marked structure.

HTML: reduced to text by ``inscriptis`` (paragraphs, list items, table cells kept; scripts,
styles and markup dropped); ``<h1>``-``<h6>`` become the section path, located in the reduced
text in document order. Structure is read from the ``lxml`` tree before reduction:

* **tables** of two or more columns (and no table inside) are rendered as one line per row,
  cells joined by ``" | "`` (each line a :class:`~index.types.TableRow`); the first row is the
  header row when all its cells are ``<th>`` or it is in ``<thead>`` (else no header labels); a
  ``colspan`` cell appears once, under the labels of the columns it spans. A one-column table
  (layout) is left to inscriptis, as plain text;
* **list items** (``<li>``, their own text without nested lists) and **notes** (``<aside>``,
  or an element whose ``class`` or ``role`` names a note, warning, caution, admonition, alert
  or callout) are located in the reduced text in document order, as marks.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.readers.base import Extracted, Unreadable, read_bytes
from index.structure import expand_header, label_cells
from index.types import SECTION_SEPARATOR, Heading, Mark, TableRow

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

# Lines a blog platform's comment widget appends after an article when a page is scraped
# (Blogger writes "0 comments:" and "Post a Comment", localised, e.g. Spanish "Publicar un
# comentario"). They are cut only as a trailing block, never from the middle of a text.
_WIDGET_LINE = re.compile(
    r"""^\s*(?:
        \d+\s+(?:comments?|comentarios?|commentaires?|Kommentare?)\s*:?
      | (?:no|sin)\s+(?:comments?|comentarios?)\s*:?
      | post\s+a\s+comment | publicar\s+un\s+comentario | publier\s+un\s+commentaire
      | leave\s+a\s+(?:comment|reply) | add\s+a\s+comment
      | subscribe\s+to:\s*post\s+comments.*
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


def strip_trailing_widget(text: str) -> str:
    """Return ``text`` without its trailing comment-widget lines (and trailing blank lines).

    The result is always a prefix of ``text``: offsets into it are offsets into ``text``.
    Only lines matching a known widget pattern, at the very end, are removed.
    """
    end = len(text)
    while end > 0:
        body = text[:end].rstrip()
        line_start = body.rfind("\n") + 1
        if body and _WIDGET_LINE.match(body[line_start:]):
            end = line_start
            continue
        end = len(body)
        break
    return text[:end]


def title_of(text: str, fallback: str) -> str:
    """First non-empty line of ``text``, without Markdown heading marks; ``fallback`` if none."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return fallback


def decode_utf8(data: bytes, path: Path) -> str:
    """``data`` as UTF-8 text without a BOM.

    Raises:
        Unreadable: ``"not UTF-8"``, naming the byte.
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a BOM is an encoding mark, not text
    except UnicodeDecodeError as err:
        raise Unreadable(path, "not UTF-8", f"{err.reason} at byte {err.start}; re-save it as UTF-8") from None


def read_text(path: Path) -> Extracted:
    """Read a UTF-8 ``.txt`` file (see the module docstring).

    Raises:
        Unreadable: not UTF-8, or too large.
    """
    return Extracted(strip_trailing_widget(decode_utf8(read_bytes(path), path)), format="text", plain=True)


def html_to_text(html: str) -> tuple[str, str | None]:
    """Reduce an HTML page to ``(text, title)``.

    ``text`` is inscriptis' rendering with trailing spaces removed from each line and runs of
    blank lines folded to one; ``title`` is the ``<title>`` (or first ``<h1>``), whitespace
    folded, or None if the page has neither.
    """
    text, title, _, _, _ = _reduce_html(html)
    return text, title


_NOTE_CLASS = re.compile(r"\b(?:note|warning|caution|important|danger|admonition|alert|callout)\b", re.IGNORECASE)
_MAX_COLSPAN = 50


def _words(node) -> str:
    return " ".join(node.text_content().split())


def _span_of(cell) -> int:
    try:
        return min(max(int(cell.get("colspan", "1")), 1), _MAX_COLSPAN)
    except ValueError:
        return 1


def _render_tables(root) -> list[tuple[str, bool, tuple]]:
    """Replace each data table of the tree (two or more columns, no table inside) by one
    ``<div>`` line per row; return ``(line, header?, cells)`` per row, in document order."""
    from lxml import etree

    rows_out: list[tuple[str, bool, tuple]] = []
    for table in list(root.iter("table")):
        if table.find(".//table") is not None:
            continue
        rows = []
        for tr in table.iter("tr"):
            cells = [(_words(c), _span_of(c), c.tag) for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
            if any(t for t, _, _ in cells):
                rows.append((tr, cells))
        if not rows or max(sum(n for _, n, _ in cells) for _, cells in rows) <= 1:
            continue  # layout: plain text
        first_tr, first = rows[0]
        in_head = any(a.tag == "thead" for a in first_tr.iterancestors())
        header = expand_header([(t, n) for t, n, _ in first]) if in_head or all(tag == "th" for _, _, tag in first) else None
        box = etree.Element("div")
        for k, (_, cells) in enumerate(rows):
            line = " | ".join(t for t, _, _ in cells)
            etree.SubElement(box, "div").text = line
            is_head = header is not None and k == 0
            rows_out.append((line, is_head, () if is_head else label_cells(header, [(t, n) for t, n, _ in cells])))
        box.tail = table.tail
        table.getparent().replace(table, box)
    return rows_out


def _own_text(li) -> str:
    """An ``<li>``'s text without its nested lists."""
    parts = [li.text or ""]
    for child in li:
        if isinstance(child.tag, str) and child.tag not in ("ul", "ol"):
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _find(text: str, words: str, pos: int):
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words.split())).search(text, pos)


def _locate(text: str, rows, items: list[str], notes: list[str]) -> tuple[list[TableRow], list[Mark]]:
    """Rows, items and notes located in the reduced ``text`` in order (one not found is left out)."""
    out_rows: list[TableRow] = []
    pos = 0
    for line, head, cells in rows:
        m = _find(text, line, pos)
        if m:
            out_rows.append(TableRow(m.start(), m.end(), head, cells))
            pos = m.end()
    marks: list[Mark] = []
    for kind, texts in (("item", items), ("note", notes)):
        pos = 0
        for words in texts:
            m = _find(text, words, pos)
            if m:
                line_start = text.rfind("\n", 0, m.start()) + 1
                marks.append((line_start, m.end(), kind))
                pos = m.end()
    return out_rows, marks


def _tree(html: str):
    """The page's lxml tree as inscriptis builds it (XML declaration dropped; a page lxml
    cannot parse is read as preformatted text), or None for an empty page."""
    import lxml.html
    from lxml.etree import ParserError

    html = html.strip()
    if not html:
        return None
    if html.startswith("<?xml "):
        html = re.sub(r"^<\?xml [^>]*\?>", "", html, count=1)
    try:
        return lxml.html.document_fromstring(html)
    except ParserError:
        return lxml.html.document_fromstring("<pre>" + html + "</pre>")


def _reduce_html(html: str) -> tuple[str, str | None, list[tuple[int, str]], list[TableRow], list[Mark]]:
    """``(text, title, [(level, heading text), ...], rows, marks)`` of a page."""
    from inscriptis import Inscriptis
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    if not html.strip():
        return "", None, [], [], []
    config = ParserConfig(css=CSS_PROFILES["strict"], display_images=False, display_links=False)
    try:
        root = _tree(html)
    except ValueError:  # e.g. an encoding declaration lxml refuses in a str: inscriptis' own path
        from inscriptis import get_text

        root = None
        rendered = get_text(html, config)
        rows, items, notes = [], [], []
    if root is not None:
        rows = _render_tables(root)
        items = [_own_text(li) for li in root.iter("li")]
        notes = [
            _words(n) for n in root.iter()
            if isinstance(n.tag, str) and (n.tag == "aside" or _NOTE_CLASS.search(f"{n.get('class', '')} {n.get('role', '')}"))
        ]
        rendered = Inscriptis(root, config).get_text()
    lines = [line.rstrip() for line in rendered.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    found_rows, marks = _locate(text, rows, [i for i in items if i], [n for n in notes if n])
    title, headings = None, []
    try:
        if root is None:
            raise ValueError("no tree")
        for node in (root.find(".//title"), root.find(".//h1")):
            if node is not None and " ".join(node.text_content().split()):
                title = " ".join(node.text_content().split())[:200]
                break
        for node in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
            words = " ".join(node.text_content().split())
            if words:
                headings.append((int(node.tag[1]), words))
    except Exception:  # lxml raises on empty or odd input; the title then comes from the text
        pass
    return text, title, headings, found_rows, marks


def locate_headings(text: str, headings: list[tuple[int, str]]) -> tuple[Heading, ...]:
    """Section starts for ``(level, heading text)`` pairs found in ``text`` in order: each
    heading is searched (whitespace-insensitively) after the previous one; one not found is
    left out. The path of a heading is the titles of the open headings above it and its own."""
    out: list[Heading] = []
    stack: list[tuple[int, str]] = []
    pos = 0
    for level, title in headings:
        pattern = r"\s+".join(re.escape(w) for w in title.split())
        m = re.compile(pattern).search(text, pos)
        if not m:
            continue
        pos = m.end()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        out.append((m.start(), SECTION_SEPARATOR.join(t for _, t in stack)))
    return tuple(out)


def _decode_html(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _META_CHARSET.search(data[:4096])
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    raise Unreadable(path, "not UTF-8", "it is neither UTF-8 nor in a charset its <meta charset> names; re-save it as UTF-8")


def read_html(path: Path) -> Extracted:
    """Read an ``.html``/``.htm`` page (see the module docstring).

    Raises:
        Unreadable: neither UTF-8 nor its declared charset, or too large.
    """
    html = _decode_html(read_bytes(path), path).removeprefix("\ufeff")
    raw, title, headings, rows, marks = _reduce_html(html)
    text = strip_trailing_widget(raw)
    found = tuple(h for h in locate_headings(text, headings) if h[0] < len(text))
    return Extracted(text, title=title, format="html", headings=found, rows=tuple(rows), marks=tuple(marks))
