"""Plain text (``.txt``) and HTML (``.html``/``.htm``) readers.

``.txt``: UTF-8; a BOM is dropped, and a trailing block of comment-widget lines is cut (see
:func:`strip_trailing_widget`), so the stored text is a prefix of the file and offsets and
line numbers are those of the file. No headings: a plain text file has no marked structure.

HTML: reduced to text by ``inscriptis`` (paragraphs, list items, table cells kept; scripts,
styles and markup dropped); ``<h1>``-``<h6>`` become the section path, located in the reduced
text in document order.
"""

from __future__ import annotations

import re
from pathlib import Path

from index.readers.base import Extracted, Unreadable, read_bytes
from index.types import SECTION_SEPARATOR, Heading

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
    return Extracted(strip_trailing_widget(decode_utf8(read_bytes(path), path)), format="text")


def html_to_text(html: str) -> tuple[str, str | None]:
    """Reduce an HTML page to ``(text, title)``.

    ``text`` is inscriptis' rendering with trailing spaces removed from each line and runs of
    blank lines folded to one; ``title`` is the ``<title>`` (or first ``<h1>``), whitespace
    folded, or None if the page has neither.
    """
    text, title, _ = _reduce_html(html)
    return text, title


def _reduce_html(html: str) -> tuple[str, str | None, list[tuple[int, str]]]:
    """``(text, title, [(level, heading text), ...])`` of a page."""
    from inscriptis import get_text
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    if not html.strip():
        return "", None, []
    config = ParserConfig(css=CSS_PROFILES["strict"], display_images=False, display_links=False)
    rendered = get_text(html, config)
    lines = [line.rstrip() for line in rendered.splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    title, headings = None, []
    try:
        import lxml.html

        root = lxml.html.document_fromstring(html)
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
    return text, title, headings


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
    raw, title, headings = _reduce_html(html)
    text = strip_trailing_widget(raw)
    found = tuple(h for h in locate_headings(text, headings) if h[0] < len(text))
    return Extracted(text, title=title, format="html", headings=found)
