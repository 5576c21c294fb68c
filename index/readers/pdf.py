"""PDF reader with ``pypdfium2`` (Apache-2.0 or BSD-3-Clause; PDFium itself BSD-3/Apache-2.0).

**Why pypdfium2.** Measured with ``python benchmarks/pdf_libraries.py`` on the two real PDFs
in ``tests/data`` (numbers in ``benchmarks/RESULTS.md``): the three maintained candidates
give text of the same quality, but pypdfium2 is much faster than pypdf and pdfplumber, it
already joins words hyphenated at line ends (pypdf and pdfplumber leave them broken), it
gives every character's box (to highlight a cited span on the page) and it renders pages
(the source view): one library for reading, locating and showing, with a permissive licence
(pdfplumber is MIT but rides on pdfminer.six; pypdf, BSD, renders nothing).

**What the text is.** Per page, PDFium's characters in its reading order, grouped into
lines; then:

* a line-end hyphen PDFium marks (U+FFFE / U+0002) is dropped, so "dan-|gerous" reads
  "dangerous"; an unmarked one before a lower-case continuation likewise;
* running headers and footers are dropped: short lines in the top or bottom
  :data:`~index.readers.pdf_layout.MARGIN` of the page whose letters (digits and roman page numbers ignored, near
  matches allowed for OCR noise) recur on more than half of the pages;
* lines are joined into paragraphs: a line that runs to the right edge of the text and is
  followed, at the usual line spacing, by a line of the same size that does not start a list
  item, continues with a space; otherwise a line break, and a blank line at a wider gap;
* pages are kept: :attr:`Extracted.pages` holds each page's span; pages are separated by a
  blank line, or by a space when a sentence runs on (the page ends mid-sentence and the next
  starts in lower case);
* numbered headings on lines of their own ("2 LRS", "3.1.2 Hydro network") give the section
  path (:func:`numbered_headings`): a PDF has no marked headings, but reports number theirs.
  List items and notes are found by the plain-text rules of :mod:`index.structure`.

**Tables**: PDFium (and so pypdfium2) has no table finding. pdfplumber finds ruled tables,
and :mod:`index.readers.pdf_tables` locates their rows and cells in the text read here, as
:class:`~index.types.TableRow` spans; other tables stay lines of text.

**Title** (:func:`pdf_title`), the first that applies: the metadata title when meaningful
(:func:`index.structure.meaningful_metadata_title`: not empty, not a file name or
"Untitled", not the program that made the file); else the largest text on page 1, when it is
larger than the page's body text (the lines of that size at the top, joined while they follow
at line spacing); else page 1's running header (a book's or report's title is printed on
every page; page number dropped); else the first line of page 1 that looks like a title
(:func:`index.structure.looks_like_title`); else none (the loader uses the file name in words).

**Scanned pages** (images over at least :data:`OCR_IMAGE_SHARE` of the page and fewer than
:data:`OCR_MAX_CHARS` text characters) are rendered at 300 dpi and read by OCR
(:mod:`index.readers.ocr`); the words it reads, with their boxes, become the page's lines and
go through the same steps (headers, paragraphs, hyphens). OCR results are cached by the
page's content, so reading the file again runs no OCR.

:func:`extract` also returns, for every character of the text, the page and PDFium index it
came from (or the OCR word's box), which :mod:`ui.pdf_view` uses to draw a cited span's boxes.

**Bad input** (each one line, see :class:`~index.readers.base.Unreadable`): encrypted,
corrupt or truncated beyond repair, too large (:data:`~index.readers.base.MAX_FILE_BYTES`),
or no text at all (scanned pages that OCR could not read: OCR off, Tesseract missing, blank).
A page over :data:`MAX_PAGE_CHARS` characters, one that fails to load, a scanned page OCR
finds no words on, or scanned pages left unread (OCR off or Tesseract missing: the note says
how to install it) are named in a note; the rest is indexed.

**Nothing is executed or fetched.** PDFium runs JavaScript and form actions only inside a
form-fill environment (``init_forms()``), which is never created here; it has no network
access; embedded files and attachments are never opened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import statistics
import threading
from functools import partial
from pathlib import Path

from index.readers.base import Extracted, Unreadable, check_size
from index.readers.ocr import OcrOptions, PageJob, ocr_pages, page_key
from index.readers.pdf_layout import Line, font_headings, numbered_headings, ocr_lines, pdf_title, running_lines
from index.readers.pdf_tables import table_rows
from index.structure import meaningful_metadata_title

Box = tuple[float, float, float, float]
"""A word's box read by OCR: ``(left, top, right, bottom)`` in fractions of the page from its top-left corner."""

MAX_PAGE_CHARS = 20_000
"""A page with more text characters than this is left out (with a note): ordinary dense
pages hold 3,000-8,000; more is a data dump or hidden text, not prose to cite."""


OCR_IMAGE_SHARE = 0.25
OCR_MAX_CHARS = 100
"""A page whose images cover at least OCR_IMAGE_SHARE of its area and that has fewer than
OCR_MAX_CHARS text characters is a scan: its words are in the image (it needs OCR)."""

PDFIUM_LOCK = threading.RLock()
"""PDFium is not thread-safe: every use of it in this process (reading, the source view) holds this lock."""

_HYPHEN_MARKS = {0x02, 0xFFFE}
_BULLET_START = re.compile(r"^(?:[\uf0b7•◦▪‣*–-]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s|\d{1,3}(?:\.\d{1,3})+\.?\s)")
"""A line that starts a list item or a numbered section ("• ", "2. ", "b) ", "3.1.2 ")."""


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


def extract(path: Path, ocr: OcrOptions | None = None) -> tuple[Extracted, list[tuple[int, int]], dict[int, tuple[Box, ...]]]:
    """Read a PDF: ``(extracted, origin, word_boxes)``. ``origin[k]`` is ``(page number 1-based,
    index)`` of character ``k`` of ``extracted.text``: the PDFium char index (>= 0), -1 for an
    inserted separator, or ``-2 - w`` for a character of word ``w`` that OCR read on that page,
    whose box is ``word_boxes[page][w]`` (``(left, top, right, bottom)`` in fractions of the
    page from its top-left corner).

    Scanned pages (see :func:`_is_scan`) are read by OCR with ``ocr`` (default
    :class:`OcrOptions`: on, English, no cache); pages it cannot read are named in the notes.

    Raises:
        Unreadable: encrypted, corrupt, too large, no text at all (scanned and not readable by
            OCR: the message says why and what to do), or empty.
    """
    ocr = ocr if ocr is not None else OcrOptions()
    with PDFIUM_LOCK:
        pages, sizes, scans, notes, n_pages, title, fonts = _read_pages(path, ocr)
    words: dict[int, tuple[Box, ...]] = {}
    unread: list[int] = []
    why = "OCR is off (setting index.ocr)"
    if scans and ocr.enabled:
        jobs = [PageJob(n, key, partial(_render_for_ocr, path, n, ocr.dpi)) for n, key in scans]
        run = ocr_pages(jobs, ocr, label=f"OCR {path.name}")
        why = run.unavailable or why
        for n, _ in scans:
            page = run.pages.get(n)
            if page is None:
                unread.append(n)
            elif page.problem:  # nothing read: the text layer's few characters (if any) stay
                notes.append(f"page {n} not indexed: {page.problem}")
            else:
                width, height = sizes[n - 1]
                pages[n - 1] = (ocr_lines(page.words, width, height), height)
                words[n] = tuple(w.box for w in page.words)
                fonts[n - 1] = None  # an OCR'd page: sizes are the lines' heights
    else:
        unread = [n for n, _ in scans]
    extracted, origin = assemble(path, pages, unread, why, notes, n_pages, title, fonts=fonts)
    rows = table_rows(path, extracted.text, origin, PDFIUM_LOCK)
    return (dataclasses.replace(extracted, rows=rows) if rows else extracted), origin, words


def _read_pages(path: Path, ocr: OcrOptions):
    """Lines and size of every page, scanned pages with their OCR cache keys, notes, page
    count, the meaningful metadata title (or None) and, per page, the font size (points) of
    each line (its largest character; None for a page without text) (PDFium calls only)."""
    import pypdfium2.raw as raw

    pdf = _open(path)
    try:
        notes: list[str] = []
        pages: list[tuple[list[Line], float]] = []
        sizes: list[tuple[float, float]] = []
        scans: list[tuple[int, str]] = []
        fonts: list[list[float] | None] = []
        for n in range(len(pdf)):
            try:
                page = pdf[n]
                textpage = page.get_textpage()
            except Exception:
                notes.append(f"page {n + 1} not indexed: PDFium cannot load it (the file may be damaged)")
                pages.append(([], 1.0))
                sizes.append((1.0, 1.0))
                fonts.append(None)
                continue
            count = textpage.count_chars()
            lines = _page_lines(textpage) if count <= MAX_PAGE_CHARS else []
            fonts.append([max((raw.FPDFText_GetFontSize(textpage, i) for c, i in ln.chars if c != " "), default=0.0) for ln in lines] or None)
            if count > MAX_PAGE_CHARS:
                notes.append(f"page {n + 1} not indexed: {count:,} characters on one page (over {MAX_PAGE_CHARS:,}); export that page as text or split it")
            elif _is_scan(page, sum(len(ln.chars) for ln in lines)):
                scans.append((n + 1, page_key(_page_content(page, lines), ocr) if ocr.enabled else ""))
            pages.append((lines, page.get_size()[1]))
            sizes.append(page.get_size())
        n_pages = len(pdf)
        meta = pdf.get_metadata_dict()
        title = meaningful_metadata_title(meta.get("Title"), generators=[meta.get("Creator") or "", meta.get("Producer") or ""])
    finally:
        pdf.close()
    return pages, sizes, scans, notes, n_pages, title, fonts


def _page_content(page, lines: list[Line]) -> bytes:
    """What a scanned page is made of, hashed for its OCR cache key: its size and rotation, its
    text-layer characters, and each image's placement and stored (undecoded) bytes. Reading
    these costs about as much as reading a page's text, far less than rendering it."""
    import pypdfium2.raw as raw

    digest = hashlib.sha256()
    digest.update(repr((page.get_size(), page.get_rotation(), [ln.text for ln in lines])).encode())
    for obj in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        matrix = obj.get_matrix()
        digest.update(repr((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)).encode())
        try:
            digest.update(bytes(obj.get_data(decode_simple=False)))
        except Exception:  # an image PDFium cannot hand out: its place still counts
            digest.update(b"?")
    return digest.digest()


def _render_for_ocr(path: Path, number: int, dpi: int):
    """Page ``number`` (1-based) rendered in grey at ``dpi``, as a PIL image (a worker thread calls this)."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(str(path))
        try:
            bitmap = pdf[number - 1].render(scale=dpi / 72, grayscale=True)
            try:
                return bitmap.to_pil().convert("L")  # a copy: the bitmap's buffer is freed below
            finally:
                bitmap.close()
        finally:
            pdf.close()


def assemble(
    path: Path, pages, unread: list[int], why: str, notes: list[str], n_pages: int, title: str | None, format: str = "pdf",
    fonts: list[list[float] | None] | None = None,
):
    """The document text from the pages' lines (headers and footers dropped, paragraphs joined,
    pages kept): ``(extracted, origin)`` (see :func:`extract`). ``unread``: scanned pages
    left without text, and ``why`` (one clause: OCR is off, Tesseract is missing). ``title``:
    the meaningful metadata title or None (then :func:`pdf_title` looks at page 1). ``fonts``:
    per page, each line's font size in points, or None (an OCR'd page: the lines' heights stand
    for page 1's title; no headings are found on it); they mark headings (:func:`font_headings`).

    Raises:
        Unreadable: no text at all (``"no text layer"`` when pages were left unread, else ``"empty"``).
    """
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
    if not text.strip() or len(unread) == n_pages:  # all scans, unread: a caption or two is not the document
        if unread:
            fix = "" if "install" in why else f"; {_fix(why, name)}"  # the install line is already in ``why``
            raise Unreadable(path, "no text layer", f"{_pages(unread)} images with almost no text (a scan) and {why}{fix}")
        raise Unreadable(path, "empty", "it has no text to index")
    if unread:
        notes.append(f"{_pages(unread)} mostly images with little text and {why}; {_fix(why, name)}")
    origin = [(page, index) for _, page, index in chars]
    first_page_fonts = fonts[0] if fonts else None
    if title is None and pages:
        title = pdf_title(pages[0][0], first_page_fonts, dropped[0], pages[0][1])
    marks = font_headings(pages, fonts, dropped, origin, text) if fonts else ()
    extracted = Extracted(
        text, title=title, format=format, pages=tuple(spans), headings=numbered_headings(text), notes=tuple(notes), plain=True,
        marks=tuple(marks),
    )
    return extracted, origin


def _fix(why: str, name: str) -> str:
    """What to do about scanned pages left unread: the install line is already in ``why`` when Tesseract is missing."""
    if "install" in why:
        return "the rest is indexed"
    return f"turn OCR on (ASSISTANT_INDEX__OCR=true) or run OCR first (e.g. `ocrmypdf {name} out.pdf`) to index their words"


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]} is"
    if len(numbers) == 2:
        return f"pages {numbers[0]} and {numbers[1]} are"
    shown = ", ".join(map(str, numbers[:8])) + (", ..." if len(numbers) > 8 else "")
    return f"pages {shown} are"


def read_pdf(path: Path, ocr: OcrOptions | None = None) -> Extracted:
    """Read a PDF's text with its page spans (see the module docstring), scanned pages by OCR with ``ocr``.

    Raises:
        Unreadable: encrypted, corrupt, too large, no text (scanned and not readable by OCR), or empty.
    """
    return extract(path, ocr)[0]
