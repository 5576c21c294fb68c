"""PDF reader with ``pypdfium2`` (Apache-2.0 or BSD-3-Clause; PDFium itself BSD-3/Apache-2.0).

**Why pypdfium2.** Measured with ``python benchmarks/pdf_libraries.py`` on the two real PDFs
in ``tests/data`` (19-page report, 7-page OCR'd book): the three maintained candidates give
text of the same quality (share of words the model's vocabulary knows: pypdfium2 0.728 /
0.960, pypdf 0.727 / 0.950, pdfplumber 0.733 / 0.950), but pypdfium2 is 24x faster than
pypdf and 150x faster than pdfplumber (1.6 ms vs 38 ms vs 241 ms a page), it already joins
words hyphenated at line ends (pypdf and pdfplumber left 30 and 31 breaks in the book), it
gives every character's box (to highlight a cited span on the page) and it renders pages
(the source view): one library for reading, locating and showing, with a permissive licence
(pdfplumber is MIT but rides on pdfminer.six; pypdf, BSD, renders nothing).

**What the text is.** Per page, PDFium's characters in its reading order, grouped into
lines; then:

* a line-end hyphen PDFium marks (U+FFFE / U+0002) is dropped, so "dan-|gerous" reads
  "dangerous"; an unmarked one before a lower-case continuation likewise;
* running headers and footers are dropped: short lines in the top or bottom
  :data:`MARGIN` of the page whose letters (digits and roman page numbers ignored, near
  matches allowed for OCR noise) recur on more than half of the pages;
* lines are joined into paragraphs: a line that runs to the right edge of the text and is
  followed, at the usual line spacing, by a line of the same size that does not start a list
  item, continues with a space; otherwise a line break, and a blank line at a wider gap;
* pages are kept: :attr:`Extracted.pages` holds each page's span; pages are separated by a
  blank line, or by a space when a sentence runs on (the page ends mid-sentence and the next
  starts in lower case);
* numbered headings on lines of their own ("2 LRS", "3.1.2 Hydro network") give the section
  path (:func:`numbered_headings`): a PDF has no marked headings, but reports number theirs.

:func:`extract` also returns, for every character of the text, the page and PDFium index it
came from, which :mod:`index.readers.pdf_view` uses to draw a cited span's boxes.

**Bad input** (each one line, see :class:`~index.readers.base.Unreadable`): encrypted,
corrupt or truncated beyond repair, too large (:data:`~index.readers.base.MAX_FILE_BYTES`),
or without a text layer (scanned: "run OCR"). A page over :data:`MAX_PAGE_CHARS` characters
or one that fails to load is left out with a note; the rest is indexed.

**Nothing is executed or fetched.** PDFium runs JavaScript and form actions only inside a
form-fill environment (``init_forms()``), which is never created here; it has no network
access; embedded files and attachments are never opened.
"""

from __future__ import annotations

import difflib
import re
import statistics
import threading
from dataclasses import dataclass, field
from pathlib import Path

from index.readers.base import Extracted, Unreadable, check_size

MAX_PAGE_CHARS = 20_000
"""A page with more text characters than this is left out (with a note): ordinary dense
pages hold 3,000-8,000; more is a data dump or hidden text, not prose to cite."""

MARGIN = 0.1
"""Top and bottom band of a page (fraction of its height) where running headers and footers are looked for."""

OCR_IMAGE_SHARE = 0.25
OCR_MAX_CHARS = 100
"""A page whose images cover at least OCR_IMAGE_SHARE of its area and that has fewer than
OCR_MAX_CHARS text characters is a scan: its words are in the image (it needs OCR)."""

PDFIUM_LOCK = threading.RLock()
"""PDFium is not thread-safe: every use of it in this process (reading, the source view) holds this lock."""

_HYPHEN_MARKS = {0x02, 0xFFFE}
_BULLET_START = re.compile(r"^(?:[\uf0b7•◦▪‣*–-]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s|\d{1,3}(?:\.\d{1,3})+\.?\s)")
"""A line that starts a list item or a numbered section ("• ", "2. ", "b) ", "3.1.2 ")."""
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


def _open(path: Path):
    import pypdfium2 as pdfium

    check_size(path)
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise Unreadable(path, "encrypted PDF", "it needs a password; save an unencrypted copy (e.g. `qpdf --decrypt`) and index that") from None
        m = re.search(r"PDFium: ([^)]*)", str(err))
        detail = m.group(1) if m else str(err)
        raise Unreadable(path, "corrupt", f"it is not a readable PDF ({detail}); open and save it again, or export it again") from None


def _page_lines(textpage) -> list[Line]:
    """The page's lines in PDFium's order (line breaks are the CR/LF PDFium reports)."""
    import pypdfium2.raw as raw

    lines: list[Line] = [Line()]
    for i in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage, i)
        if code in (0x0A, 0x0D):
            if lines[-1].chars:
                lines.append(Line())
            continue
        if code in _HYPHEN_MARKS or code < 0x20 and code != 0x09:
            continue
        ch = " " if code == 0x09 else chr(code)
        line = lines[-1]
        if ch.isspace():
            if line.chars and line.chars[-1][0] != " ":
                line.chars.append((" ", i))
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        if len([c for c in line.chars if c[0] != " "]) == 0:
            line.left, line.bottom, line.right, line.top = left, bottom, right, top
        else:
            line.left, line.bottom = min(line.left, left), min(line.bottom, bottom)
            line.right, line.top = max(line.right, right), max(line.top, top)
        line.chars.append((ch, i))
    for line in lines:
        while line.chars and line.chars[-1][0] == " ":
            line.chars.pop()
    return [ln for ln in lines if ln.chars]


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


def _separator(prev: Line, line: Line, right_edge: float, left_edge: float) -> str:
    """What joins ``line`` to ``prev`` on a page: ``" "`` (same paragraph), ``"\\n"`` or ``"\\n\\n"``."""
    gap = prev.bottom - line.top
    size = min(prev.height, line.height)
    if line.top > prev.top + size or gap > 1.2 * size:  # went up (another column or block), or a wide gap
        return "\n\n"
    same_size = abs(prev.height - line.height) <= 0.25 * max(prev.height, line.height)
    full = prev.right >= right_edge - 0.08 * max(right_edge - left_edge, 1.0)
    leader = "...." in prev.text  # a table-of-contents line
    if full and same_size and gap <= 0.8 * size and not leader and not _BULLET_START.match(line.text):
        return " "
    return "\n"


def _page_chars(lines: list[Line], page: int) -> list[tuple[str, int, int]]:
    """The page's text as ``(char, page, pdfium index)`` triples (index -1 for inserted separators)."""
    if not lines:
        return []
    long_lines = [ln for ln in lines if len(ln.chars) >= 40] or lines
    right_edge = statistics.median(sorted(ln.right for ln in long_lines)[len(long_lines) // 2 :])
    left_edge = min(ln.left for ln in long_lines)
    out: list[tuple[str, int, int]] = []
    for k, line in enumerate(lines):
        if k:
            sep = _separator(lines[k - 1], line, right_edge, left_edge)
            if sep == " " and out and out[-1][0] == "-" and len(out) > 1 and out[-2][0].isalpha() and line.text[:1].islower():
                out.pop()  # an unmarked line-end hyphen: join the word
                sep = ""
            out.extend((ch, page, -1) for ch in sep)
        out.extend((ch, page, i) for ch, i in line.chars)
    return out


def _is_scan(page, n_chars: int) -> bool:
    import pypdfium2.raw as raw

    if n_chars >= OCR_MAX_CHARS:
        return False
    width, height = page.get_size()
    area = 0.0
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        area += max(right - left, 0) * max(top - bottom, 0)
    return area >= OCR_IMAGE_SHARE * width * height


def extract(path: Path) -> tuple[Extracted, list[tuple[int, int]]]:
    """Read a PDF: ``(extracted, origin)`` where ``origin[k]`` is ``(page number 1-based, PDFium
    char index)`` of character ``k`` of ``extracted.text`` (index -1 for inserted separators).

    Raises:
        Unreadable: encrypted, corrupt, too large, no text layer, or empty.
    """
    with PDFIUM_LOCK:
        pages, scans, notes, n_pages, title = _read_pages(path)
    return _assemble(path, pages, scans, notes, n_pages, title)


def _read_pages(path: Path):
    """Lines of every page, scanned pages, notes, page count and metadata title (PDFium calls only)."""
    pdf = _open(path)
    try:
        notes: list[str] = []
        pages: list[tuple[list[Line], float]] = []
        scans: list[int] = []
        for n in range(len(pdf)):
            try:
                page = pdf[n]
                textpage = page.get_textpage()
            except Exception:
                notes.append(f"page {n + 1} not indexed: PDFium cannot load it (the file may be damaged)")
                pages.append(([], 1.0))
                continue
            count = textpage.count_chars()
            lines = _page_lines(textpage) if count <= MAX_PAGE_CHARS else []
            if count > MAX_PAGE_CHARS:
                notes.append(f"page {n + 1} not indexed: {count:,} characters on one page (over {MAX_PAGE_CHARS:,}); export that page as text or split it")
            elif _is_scan(page, sum(len(ln.chars) for ln in lines)):
                scans.append(n + 1)
            pages.append((lines, page.get_size()[1]))
        n_pages = len(pdf)
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
    finally:
        pdf.close()
    return pages, scans, notes, n_pages, title


def _assemble(path: Path, pages, scans: list[int], notes: list[str], n_pages: int, title: str | None):
    """The document text from the pages' lines (headers and footers dropped, paragraphs joined, pages kept)."""
    dropped = running_lines(pages)
    chars: list[tuple[str, int, int]] = []
    spans = []
    for n, (lines, _) in enumerate(pages):
        body = _page_chars([ln for i, ln in enumerate(lines) if i not in dropped[n]], n + 1)
        if chars and body:
            ends_open = chars[-1][0] not in ".!?:;”\"’)" and body[0][0].islower()
            chars.extend((ch, n, -1) for ch in (" " if ends_open else "\n\n"))
        start = len(chars)
        chars.extend(body)
        spans.append((start, len(chars)))
    text = "".join(c for c, _, _ in chars)
    name = path.name
    if not text.strip() or len(scans) == n_pages:
        if scans:
            raise Unreadable(path, "no text layer", f"{_pages(scans)} images with almost no text (a scan); run OCR first (e.g. `ocrmypdf {name} out.pdf`) and index the result")
        raise Unreadable(path, "empty", "it has no text to index")
    if scans:
        notes.append(f"{_pages(scans)} mostly images with little text; if they are scans, run OCR (e.g. `ocrmypdf`) to index their words")
    origin = [(page, index) for _, page, index in chars]
    extracted = Extracted(text, title=title, format="pdf", pages=tuple(spans), headings=numbered_headings(text), notes=tuple(notes))
    return extracted, origin


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


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]} is"
    if len(numbers) == 2:
        return f"pages {numbers[0]} and {numbers[1]} are"
    shown = ", ".join(map(str, numbers[:8])) + (", ..." if len(numbers) > 8 else "")
    return f"pages {shown} are"


def read_pdf(path: Path) -> Extracted:
    """Read a PDF's text with its page spans (see the module docstring).

    Raises:
        Unreadable: encrypted, corrupt, too large, no text layer (needs OCR), or empty.
    """
    return extract(path)[0]
