"""The layout of a PDF's pages as lines (:class:`Line`: from PDFium's text or from OCR's words),
and what the layout says of them: running headers and footers repeated across pages, headings
set in a larger font or numbered ("4.2 Resetting..."), and the title of the first page. Used by
:mod:`index.readers.pdf` (and by :mod:`index.readers.image` for scanned images)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from index.readers.ocr import Word
from index.structure import looks_like_title

_ROMAN = re.compile(r"\b[ivxlcdm]{1,6}\b")


@dataclass
class Line:
    """One text line of a page: its characters with their PDFium indexes, and its box (PDF points, origin bottom-left)."""

    chars: list[tuple[str, int]] = field(default_factory=list)
    left: float = 0.0
    bottom: float = 0.0
    right: float = 0.0
    top: float = 0.0

    @property
    def text(self) -> str:
        return "".join(c for c, _ in self.chars)

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 0.1)


MARGIN = 0.1
"""Top and bottom band of a page (fraction of its height) where running headers and footers are looked for."""


def _key(text: str) -> str:
    """What a running header is compared by: its letters, page numbers (digits, roman) removed."""
    return re.sub(r"[\W\d_]+", "", _ROMAN.sub("", text.lower()))


def _margin_lines(lines: list[Line], height: float) -> list[int]:
    return [
        i for i, ln in enumerate(lines)
        if len(ln.chars) <= 150 and (ln.top >= height * (1 - MARGIN) or ln.bottom <= height * MARGIN)
    ]


def running_lines(pages: list[tuple[list[Line], float]]) -> list[set[int]]:
    """For each page, the indexes of its lines that are running headers or footers (see the module docstring)."""
    candidates = [[(i, _key(lines[i].text) or "#") for i in _margin_lines(lines, h)] for lines, h in pages]
    clusters: list[str] = []
    pages_of: list[set[int]] = []
    assigned: list[dict[int, int]] = []
    for p, cands in enumerate(candidates):
        assigned.append({})
        for i, key in cands:
            for c, rep in enumerate(clusters):
                if key == rep or (len(key) > 3 and difflib.SequenceMatcher(None, key, rep).ratio() >= 0.85):
                    break
            else:
                clusters.append(key)
                pages_of.append(set())
                c = len(clusters) - 1
            pages_of[c].add(p)
            assigned[p][i] = c
    n = len(pages)
    running = {c for c, ps in enumerate(pages_of) if n >= 3 and len(ps) >= 2 and 2 * len(ps) > n}
    return [{i for i, c in assigned[p].items() if c in running} for p in range(n)]


HEADING_FONT_RATIO = 1.2
"""A line is a heading when it is set in its page's largest font and that font is at least this
many times the page's body font (the median over its characters): "The Crazy Ones" at 14.3 pt
over 9 pt text. A common typographic step between body and heading sizes (10 -> 12 pt)."""


HEADING_MAX_WORDS = 12
"""A heading line has at most this many words (as for plain-text numbered headings, :mod:`index.structure`)."""


def font_headings(pages, fonts, dropped, origin: list[tuple[int, int]], text: str) -> list[tuple[int, int, str]]:
    """Heading marks ``(start, end, "heading")`` (character spans of ``text``) of the lines set
    in their page's largest font when it is at least :data:`HEADING_FONT_RATIO` times the page's
    body font, with at most :data:`HEADING_MAX_WORDS` words, a letter, and no closing
    punctuation. Running headers and footers (``dropped``) are not headings; pages without
    font sizes (OCR) have none. ``origin`` maps each character of ``text`` to ``(page, PDFium
    index)`` (:func:`assemble`)."""
    at = {o: k for k, o in enumerate(origin) if o[1] >= 0}
    marks = []
    for n, ((lines, _), sizes) in enumerate(zip(pages, fonts)):
        if not sizes or len(sizes) != len(lines):
            continue
        body = [(sizes[i], len(ln.chars)) for i, ln in enumerate(lines) if i not in dropped[n]]
        if not body:
            continue
        weighted = sorted(size for size, count in body for _ in range(count))
        median, largest = weighted[len(weighted) // 2], max(size for size, _ in body)
        if largest < HEADING_FONT_RATIO * median:
            continue
        for i, ln in enumerate(lines):
            words = ln.text.split()
            if i in dropped[n] or sizes[i] != largest or not words or len(words) > HEADING_MAX_WORDS:
                continue
            if not any(ch.isalpha() for ch in ln.text) or ln.text.rstrip()[-1] in ".,;:!?":
                continue
            offsets = [at[(n + 1, idx)] for _, idx in ln.chars if (n + 1, idx) in at]
            if offsets:
                marks.append((min(offsets), max(offsets) + 1, "heading"))
    return marks


def pdf_title(lines: list[Line], fonts: list[float] | None, running: set[int], height: float) -> str | None:
    """A title from page 1 (see the module docstring): ``lines`` in reading order, ``fonts``
    their font sizes (points; None: use line heights), ``running`` the indexes of running
    header/footer lines, ``height`` the page height (points). None when nothing qualifies."""
    if not lines:
        return None
    sizes = fonts if fonts is not None and len(fonts) == len(lines) else [ln.height for ln in lines]
    body = [i for i in range(len(lines)) if i not in running]
    if body:
        weights = sorted((round(sizes[i], 1), len(lines[i].chars)) for i in body)
        total, acc, median = sum(w for _, w in weights), 0, weights[0][0]
        for size, w in weights:  # the size of most characters: the body text
            acc += w
            if 2 * acc >= total:
                median = size
                break
        largest = max(sizes[i] for i in body)
        if largest > 1.15 * median:
            first = next(i for i in body if sizes[i] >= largest - 0.5)
            parts, prev = [lines[first].text], lines[first]
            for i in body[body.index(first) + 1 :]:
                ln = lines[i]
                if abs(sizes[i] - largest) > 0.5 or prev.bottom - ln.top > prev.height:
                    break
                parts.append(ln.text)
                prev = ln
            candidate = " ".join(" ".join(parts).split())
            if looks_like_title(candidate):
                return candidate
    for i in sorted(running):
        if lines[i].top >= height * (1 - MARGIN):  # a running header, not a footer
            words = re.sub(r"^\s*(?:\d+|[ivxlcdm]+)\s+|\s+(?:\d+|[ivxlcdm]+)\s*$", "", lines[i].text, flags=re.IGNORECASE)
            candidate = " ".join(words.split()).rstrip(" .,;:-–—")
            if looks_like_title(candidate) and len(candidate.split()) >= 2:
                return candidate
    for i in body[:5]:
        candidate = " ".join(lines[i].text.split())
        if looks_like_title(candidate) and len(candidate.split()) >= 2:
            return candidate
    return None


_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,4})\.?[ \t]+([^\W\d_a-z].{0,78})$", re.MULTILINE)
"""A line "2 LRS" / "3.1.2 Hydro network": a section number, then a title starting with a capital."""


def numbered_headings(text: str) -> tuple[tuple[int, str], ...]:
    """Section starts from numbered headings on lines of their own ("2 LRS", "3.1.2 Hydro
    network"): the number's depth nests them, so "2.1 LRS model" is in "2 LRS". A line with
    dot leaders (a table of contents) or ending like a sentence (``.,;:``) is not a heading.
    PDFs have no marked headings; this is the structure reports number themselves."""
    out: list[tuple[int, str]] = []
    stack: list[tuple[int, str]] = []
    for m in _NUMBERED_HEADING.finditer(text):
        title = " ".join(m.group(0).split())
        if "...." in title or title[-1] in ".,;:" or not any(c.isalpha() for c in m.group(2)):
            continue
        depth = m.group(1).count(".") + 1
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, title))
        out.append((m.start(), " > ".join(t for _, t in stack)))
    return tuple(out)


def ocr_lines(words: tuple[Word, ...], width: float, height: float) -> list[Line]:
    """OCR words as :class:`Line` objects in page units (``width`` x ``height``, origin
    bottom-left, like PDFium's), so headers, paragraphs and hyphens are handled as on any
    page. Each character's index is ``-2 - w`` for word ``w``; a space between words takes
    the index of the word before it."""
    lines: list[Line] = []
    current = None
    for w, word in enumerate(words):
        left, top, right, bottom = word.box
        box = (left * width, height * (1 - bottom), right * width, height * (1 - top))
        if current != word.line or not lines:
            current = word.line
            lines.append(Line(left=box[0], bottom=box[1], right=box[2], top=box[3]))
        else:
            line = lines[-1]
            line.chars.append((" ", -2 - (w - 1)))
            line.left, line.bottom = min(line.left, box[0]), min(line.bottom, box[1])
            line.right, line.top = max(line.right, box[2]), max(line.top, box[3])
        lines[-1].chars.extend((ch, -2 - w) for ch in word.text)
    return lines
