"""Write small real PDFs for tests with PDFium itself (pypdfium2's raw API): text lines at given positions."""

from __future__ import annotations

import ctypes
from pathlib import Path


def make_pdf(
    path: Path, pages: list[list[tuple[str, float, float, float]]], size=(595.0, 842.0),
    rules: list[list[tuple[float, float, float, float]]] | None = None,
) -> Path:
    """Write ``path``: one page per item of ``pages``, each a list of ``(text, x, y, font size)``
    lines in PDF points (origin bottom-left), in Helvetica; ``rules``, per page, straight lines
    ``(x0, y0, x1, y1)`` stroked in black (a ruled table's grid). Returns ``path``."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    font = raw.FPDFText_LoadStandardFont(pdf, b"Helvetica")
    for n, lines in enumerate(pages):
        page = pdf.new_page(*size)
        for x0, y0, x1, y1 in (rules[n] if rules and n < len(rules) else ()):
            path_obj = raw.FPDFPageObj_CreateNewPath(x0, y0)
            raw.FPDFPath_LineTo(path_obj, x1, y1)
            raw.FPDFPageObj_SetStrokeColor(path_obj, 0, 0, 0, 255)
            raw.FPDFPageObj_SetStrokeWidth(path_obj, 1.0)
            raw.FPDFPath_SetDrawMode(path_obj, raw.FPDF_FILLMODE_NONE, True)
            raw.FPDFPage_InsertObject(page, path_obj)
        for text, x, y, font_size in lines:
            obj = raw.FPDFPageObj_CreateTextObj(pdf, font, font_size)
            buf = ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))
            raw.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(raw.FPDF_WCHAR)))
            raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
            raw.FPDFPage_InsertObject(page, obj)
        raw.FPDFPage_GenerateContent(page)
    pdf.save(str(path))
    pdf.close()
    return path


def report_pages(n: int, body: list[str]) -> list[list[tuple[str, float, float, float]]]:
    """``n`` pages with a running header and a page-number footer, ``body`` lines on each page (11 pt)."""
    pages = []
    for p in range(1, n + 1):
        lines = [("Staff Handbook - Edition 2", 72, 800, 9)]
        lines += [(text.format(page=p), 72, 740 - 14 * i, 11) for i, text in enumerate(body)]
        lines.append((f"Page {p} of {n}", 500, 30, 9))
        pages.append(lines)
    return pages


def render_pages(pdf: Path, numbers: list[int], dpi: int = 150):
    """Pages ``numbers`` (1-based) of ``pdf`` rendered in grey at ``dpi`` by PDFium: what a scanner gives."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [doc[n - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for n in numbers]
    finally:
        doc.close()


def image_pdf(path: Path, images: list, dpi: int = 150) -> Path:
    """Write ``path``: an image-only PDF (no text layer, like a scan), one page per PIL image,
    each page as large as its image at ``dpi`` (Pillow's PDF writer). Returns ``path``."""
    first, *rest = images
    first.save(path, format="PDF", save_all=True, append_images=rest, resolution=float(dpi))
    return path


def ruled_table(rows: list[list[str]], left: float, top: float, widths: list[float], height: float = 20.0, size: float = 10.0):
    """A ruled table at ``(left, top)`` (PDF points, origin bottom-left): ``(lines, rules)`` for
    :func:`make_pdf`, each cell's text inside its box, the grid drawn around every cell."""
    lines, rules = [], []
    xs = [left]
    for w in widths:
        xs.append(xs[-1] + w)
    bottom = top - height * len(rows)
    for i, row in enumerate(rows):
        y = top - height * (i + 1) + 6
        lines += [(text, xs[j] + 4, y, size) for j, text in enumerate(row) if text]
    rules += [(left, top - height * i, xs[-1], top - height * i) for i in range(len(rows) + 1)]
    rules += [(x, top, x, bottom) for x in xs]
    return lines, rules
