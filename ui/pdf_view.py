"""A cited span on its PDF page: the page rendered locally by PDFium, and the span's boxes.

The stored text of a PDF is made by :func:`index.readers.pdf.extract`, which also says, for
each character, which PDFium character of which page it came from. Re-reading the file
gives that map again; when the text it gives is not the stored text (the file changed since
it was indexed), there is no page view and the caller shows the text instead. Nothing in
the PDF is executed (no form environment, so no JavaScript) and nothing is fetched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.readers.pdf import PDFIUM_LOCK

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
def _origin(path: str, mtime_ns: int, size: int) -> tuple[str, tuple[tuple[int, int], ...]]:
    from index.readers.pdf import extract

    extracted, origin = extract(Path(path))
    return extracted.text, tuple(origin)


def origin_map(source: str, text: str) -> tuple[tuple[int, int], ...]:
    """``(page, PDFium char index)`` for every character of the stored ``text`` of the PDF ``source``.

    Raises:
        PageViewUnavailable: the file is gone, unreadable, or no longer gives ``text``.
    """
    path = Path(source)
    try:
        stat = path.stat()
        stored, origin = _origin(str(path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        raise PageViewUnavailable("the PDF is no longer at the path it was indexed from") from None
    except Exception as err:  # Unreadable and PDFium errors
        raise PageViewUnavailable(f"the PDF cannot be read now ({err})") from None
    if stored != text:
        raise PageViewUnavailable("the PDF changed since it was indexed; run `assistant index` again to see its pages")
    return origin


def span_boxes(source: str, text: str, start: int, end: int) -> dict[int, list[Box]]:
    """The boxes of characters ``[start, end)`` of the stored text, by 1-based page, one box
    per run of characters on one line.

    Raises:
        PageViewUnavailable: see :func:`origin_map`.
    """
    import pypdfium2 as pdfium

    origin = origin_map(source, text)
    by_page: dict[int, list[int]] = {}
    for page, index in origin[start:end]:
        if index >= 0:
            by_page.setdefault(page, []).append(index)
    out: dict[int, list[Box]] = {}
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
    """Page ``page_no`` (1-based) of the PDF ``source`` as PNG bytes.

    Raises:
        PageViewUnavailable: the file is gone or the page cannot be rendered.
    """
    try:
        return _render(source, Path(source).stat().st_mtime_ns, page_no, scale)
    except OSError:
        raise PageViewUnavailable("the PDF is no longer at the path it was indexed from") from None
    except Exception as err:
        raise PageViewUnavailable(f"page {page_no} cannot be rendered ({err})") from None
