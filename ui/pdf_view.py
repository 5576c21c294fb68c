"""A cited span on its page: the page rendered locally (PDFium for a PDF, Pillow for an image
file), and the span's boxes.

The stored text of a PDF is made by :func:`index.readers.pdf.extract`, which also says, for
each character, which PDFium character of which page it came from, or which OCR word's box
(scanned pages, image files: :func:`index.readers.image.extract_image`). Re-reading the file
gives that map again, OCR results from the cache only (the page view never runs OCR); when
the text it gives is not the stored text (the file changed since it was indexed), there is
no page view and the caller shows the text instead. Nothing in the PDF is executed (no form
environment, so no JavaScript) and nothing is fetched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index import NOT_CACHED, PDFIUM_LOCK, OcrOptions

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
"""Files shown as pages with Pillow (the image readers' suffixes, :mod:`index.readers`)."""


_NOT_CACHED_HINT = "the OCR results of its scanned pages are not in the OCR cache; run `assistant index` again to read them"

MAX_IMAGE_PIXELS_WIDE = 1800
"""An image file's page is scaled down to at most this width for the page view (pixels)."""

RENDER_SCALE = 2.0
"""Pixels per PDF point of a rendered page (2.0 = 144 dpi: sharp on high-density screens)."""


@dataclass(frozen=True)
class Box:
    """A highlighted rectangle on a page, in fractions of the page's width and height, from its top-left corner."""

    left: float
    top: float
    width: float
    height: float


class PageViewUnavailable(Exception):
    """The PDF cannot be shown as pages (missing, changed since indexing, unreadable); ``str`` says why."""


@lru_cache(maxsize=8)
def _origin(path: str, mtime_ns: int, size: int, ocr: OcrOptions) -> tuple[str, tuple[tuple[int, int], ...], dict, bool]:
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        from index import extract_image as extract
    else:
        from index import extract_pdf as extract

    extracted, origin, words = extract(Path(path), ocr)
    uncached = any(NOT_CACHED in note for note in extracted.notes)
    return extracted.text, tuple(origin), words, uncached


def _view_options(ocr: OcrOptions | None) -> OcrOptions:
    """``ocr`` for the page view: the cache only, never a run of OCR, no progress bar."""
    from dataclasses import replace

    return replace(ocr or OcrOptions(), cache_only=True, progress=False)


def origin_map(source: str, text: str, ocr: OcrOptions | None = None) -> tuple[tuple[int, int], ...]:
    """``(page, index)`` for every character of the stored ``text`` of the PDF or image
    ``source`` (index: PDFium char index, -1 separator, ``-2 - w`` OCR word ``w``; see
    :func:`index.readers.pdf.extract`). ``ocr``: the index's OCR options (its cache and
    languages); OCR results are read from the cache only.

    Raises:
        PageViewUnavailable: the file is gone, unreadable, not OCR'd yet, or no longer gives ``text``.
    """
    return _located(source, text, ocr)[0]


def _located(source: str, text: str, ocr: OcrOptions | None):
    path = Path(source)
    try:
        stat = path.stat()
        stored, origin, words, uncached = _origin(str(path), stat.st_mtime_ns, stat.st_size, _view_options(ocr))
    except OSError:
        raise PageViewUnavailable("the PDF is no longer at the path it was indexed from") from None
    except Exception as err:  # Unreadable and PDFium errors
        if NOT_CACHED in str(err):
            raise PageViewUnavailable(_NOT_CACHED_HINT) from None
        raise PageViewUnavailable(f"the PDF cannot be read now ({err})") from None
    if stored != text and uncached:
        raise PageViewUnavailable(_NOT_CACHED_HINT)
    if stored != text:
        raise PageViewUnavailable("the file changed since it was indexed; run `assistant index` again to see its pages")
    return origin, words


def span_boxes(source: str, text: str, start: int, end: int, ocr: OcrOptions | None = None) -> dict[int, list[Box]]:
    """The boxes of characters ``[start, end)`` of the stored text, by 1-based page, one box
    per run of characters on one line (for OCR'd pages: per run of words on one line).
    ``ocr``: see :func:`origin_map`.

    Raises:
        PageViewUnavailable: see :func:`origin_map`.
    """
    import pypdfium2 as pdfium

    origin, words = _located(source, text, ocr)
    by_page: dict[int, list[int]] = {}
    ocr_words: dict[int, list[int]] = {}
    for page, index in origin[start:end]:
        if index >= 0:
            by_page.setdefault(page, []).append(index)
        elif index <= -2 and (not ocr_words.get(page) or ocr_words[page][-1] != -2 - index):
            ocr_words.setdefault(page, []).append(-2 - index)
    out: dict[int, list[Box]] = {page: _word_boxes([words[page][w] for w in ws]) for page, ws in ocr_words.items()}
    if not by_page:
        return out
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(source)
        try:
            _boxes_of(pdf, by_page, out)
        finally:
            pdf.close()
    return out


def _boxes_of(pdf, by_page: dict[int, list[int]], out: dict[int, list[Box]]) -> None:
    """Fill ``out[page]`` with the line boxes of the PDFium characters ``by_page[page]``."""
    for page_no, indexes in by_page.items():
        page = pdf[page_no - 1]
        textpage = page.get_textpage()
        left0, bottom0, right0, top0 = page.get_cropbox()
        width, height = right0 - left0, top0 - bottom0
        rects = _line_rects([textpage.get_charbox(i) for i in indexes])
        out[page_no] = [Box((l - left0) / width, (top0 - t) / height, (r - l) / width, (t - b) / height) for l, b, r, t in rects]


def _word_boxes(boxes: list[tuple[float, float, float, float]]) -> list[Box]:
    """OCR word boxes ``(left, top, right, bottom)`` (page fractions, top-left origin) in reading
    order merged into one box per line (measured in thousandths of the page, so that
    :func:`_line_rects`' 2-unit slack is 0.2 % of it)."""
    flipped = [(l * 1000, (1 - b) * 1000, r * 1000, (1 - t) * 1000) for l, t, r, b in boxes]
    return [Box(l / 1000, 1 - t / 1000, (r - l) / 1000, (t - b) / 1000) for l, b, r, t in _line_rects(flipped)]


def _line_rects(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes ``(left, bottom, right, top)`` in reading order merged into one rectangle per line."""
    rects: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if right <= left or top <= bottom:
            continue
        if rects:
            r = rects[-1]
            mid = (bottom + top) / 2
            if r[1] <= mid <= r[3] and left >= r[0] - 2:
                r[0], r[1], r[2], r[3] = min(r[0], left), min(r[1], bottom), max(r[2], right), max(r[3], top)
                continue
        rects.append([left, bottom, right, top])
    return [tuple(r) for r in rects]


@lru_cache(maxsize=16)
def _render(path: str, mtime_ns: int, page_no: int, scale: float) -> bytes:
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        from index import image_frame as frame

        image = frame(Path(path), page_no)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.thumbnail((MAX_IMAGE_PIXELS_WIDE, MAX_IMAGE_PIXELS_WIDE * 4))
    else:
        import pypdfium2 as pdfium

        with PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(path)
            try:
                image = pdf[page_no - 1].render(scale=scale).to_pil()
            finally:
                pdf.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def render_page(source: str, page_no: int, scale: float = RENDER_SCALE) -> bytes:
    """Page ``page_no`` (1-based) of the PDF or image file ``source`` as PNG bytes (a PDF at
    ``scale`` pixels per point; an image file at most :data:`MAX_IMAGE_PIXELS_WIDE` wide).

    Raises:
        PageViewUnavailable: the file is gone or the page cannot be rendered.
    """
    try:
        return _render(source, Path(source).stat().st_mtime_ns, page_no, scale)
    except OSError:
        raise PageViewUnavailable("the PDF is no longer at the path it was indexed from") from None
    except Exception as err:
        raise PageViewUnavailable(f"page {page_no} cannot be rendered ({err})") from None
