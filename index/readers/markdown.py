"""Markdown (``.md``) reader: the file's text as is, with its structure from ``markdown-it-py``.

The stored text is the file's own Markdown (UTF-8, BOM dropped, trailing comment-widget
lines cut, as for ``.txt``), so offsets and line numbers are those of the file. The parse
(CommonMark plus GFM tables; ``markdown-it-py``, MIT, already installed with ``rich``) gives:

* **headings** (ATX ``## Sick leave`` and setext): the section path, e.g. ``"Leave > Sick leave"``;
* **blocks** kept whole by the chunker: fenced and indented code blocks, and tables.

List markers ("2.") are handled by the chunker for every format (they start the sentence
after them; see :mod:`index.chunking`).
"""

from __future__ import annotations

from pathlib import Path

from index.readers.base import Extracted, read_bytes
from index.readers.text import decode_utf8, strip_trailing_widget
from index.types import SECTION_SEPARATOR, Heading, Span


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
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    lines = _line_offsets(text)

    def span(mapping) -> Span:
        first, last = mapping
        end = lines[min(last, len(lines) - 1)]
        return lines[first], len(text[:end].rstrip())

    headings: list[Heading] = []
    blocks: list[Span] = []
    stack: list[tuple[int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        if tok.type == "heading_open" and i + 1 < len(tokens):
            level, title = int(tok.tag[1]), _heading_text(tokens[i + 1])
            if not title:
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            headings.append((span(tok.map)[0], SECTION_SEPARATOR.join(t for _, t in stack)))
        elif tok.type in ("fence", "code_block", "table_open"):
            start, end = span(tok.map)
            if end > start:
                blocks.append((start, end))
    return tuple(headings), tuple(blocks)


def read_markdown(path: Path) -> Extracted:
    """Read a Markdown file (see the module docstring).

    Raises:
        Unreadable: not UTF-8, or too large.
    """
    text = strip_trailing_widget(decode_utf8(read_bytes(path), path))
    headings, blocks = structure(text)
    return Extracted(text, format="markdown", headings=headings, blocks=blocks)
