"""The source view: a cited span shown in its document, served by the assistant itself.

Routes (added by :func:`add_source_routes`, under ``settings.root_path`` like every route):

- ``GET /sources/{doc_id}?start=S&end=E``: an HTML page with the document's stored text and
  characters ``[S, E)`` highlighted (``<mark id="cited">``; links add ``#cited`` so the
  browser scrolls to it without a script). For a PDF or an image file, the cited page(s) come
  first, rendered locally, with the span's boxes drawn over them (on a scanned page, the boxes
  of the words OCR read).
- ``GET /source-pages/{page}/{doc_id}``: page ``page`` (1-based) of an indexed PDF or image as PNG.

URLs carry document ids, never paths: an id is looked up among the indexed documents, and
only the file that document was indexed from is ever opened. Anything else is a 404. The
pages load nothing from outside (inline styles, no scripts).
"""

from __future__ import annotations

import html
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from index.types import Document, Passage

PAGED_FORMATS = ("pdf", "image")
"""Document formats shown as page images (see :mod:`ui.pdf_view`)."""

MAX_VIEW_PAGES = 3
"""Pages of a PDF shown above the text for one span (a span over more shows the first ones)."""

STYLE = """
body { font: 15px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #d0d7de; padding: 8px 16px; z-index: 2; }
header h1 { font-size: 16px; margin: 0; } header .meta { font-size: 13px; color: #57606a; }
main { max-width: 980px; margin: 0 auto; padding: 12px 16px 48px; }
.page { position: relative; margin: 0 auto 16px; box-shadow: 0 1px 4px rgba(0,0,0,.25); background: #fff; max-width: 900px; }
.page img { display: block; width: 100%; height: auto; }
.page .box { position: absolute; background: rgba(255, 213, 0, .38); outline: 2px solid rgba(230, 160, 0, .9); scroll-margin-top: 120px; }
.page .label { position: absolute; right: 6px; top: 6px; font-size: 12px; background: #fff; border: 1px solid #d0d7de; border-radius: 4px; padding: 0 6px; }
.notice { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 6px 10px; margin-bottom: 12px; }
pre.text { white-space: pre-wrap; word-wrap: break-word; font: 14px/1.55 ui-sans-serif, system-ui, sans-serif; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 16px; }
mark { background: #ffe58a; color: inherit; border-radius: 2px; scroll-margin-top: 120px; }
"""


def source_url(passage: Passage, base: str = "") -> str:
    """The relative URL of ``passage``'s source view (``base`` is the path back to the app's
    root from the page linking it: ``""`` from the chat, ``"../"`` from the widget)."""
    return f"{base}sources/{quote(passage.doc_id, safe='/')}?start={passage.start}&end={passage.end}#cited"


def _locator(doc: Document, start: int, end: int) -> str:
    parts = []
    first, last = doc.page_of(start), doc.page_of(max(end - 1, start))
    if first is not None:
        parts.append(f"p. {first}" if first == last else f"pp. {first}–{last}")
    else:
        a, b = doc.line_of(start), doc.line_of(max(end - 1, start))
        parts.append(f"line {a}" if a == b else f"lines {a}–{b}")
    if section := doc.section_of(start):
        parts.append(section)
    return " · ".join(parts)


def _page_html(root: str, doc: Document, start: int, end: int, ocr=None) -> tuple[str, str | None]:
    """The rendered page(s) with the span's boxes, or ``("", why not)``."""
    from ui.pdf_view import PageViewUnavailable, span_boxes

    try:
        boxes = span_boxes(doc.source, doc.text, start, end, ocr)
    except PageViewUnavailable as err:
        return "", str(err)
    out, first = [], True
    for page_no in sorted(boxes)[:MAX_VIEW_PAGES]:
        src = f"{root}/source-pages/{page_no}/{quote(doc.doc_id, safe='/')}"
        divs = []
        for b in boxes[page_no]:
            anchor = ' id="cited"' if first else ""
            first = False
            divs.append(
                f'<div class="box"{anchor} style="left:{b.left:.4%};top:{b.top:.4%};width:{b.width:.4%};height:{b.height:.4%}"></div>'
            )
        out.append(
            f'<div class="page" data-page="{page_no}"><img src="{html.escape(src)}" alt="page {page_no} of {html.escape(doc.title)}">'
            f'{"".join(divs)}<span class="label">page {page_no}</span></div>'
        )
    return "".join(out), None


def source_page(root: str, doc: Document, start: int, end: int, ocr=None) -> str:
    """The HTML of the source view of ``doc[start:end]`` (see the module docstring); ``ocr``:
    the index's :class:`~index.readers.ocr.OcrOptions` (where scanned pages' words are cached)."""
    pages, notice = ("", None)
    if doc.format in PAGED_FORMATS:
        pages, notice = _page_html(root, doc, start, end, ocr)
    text_id = "" if pages else ' id="cited"'
    body = (
        html.escape(doc.text[:start])
        + f"<mark{text_id}>{html.escape(doc.text[start:end])}</mark>"
        + html.escape(doc.text[end:])
    )
    notice_html = f'<p class="notice">Page view unavailable: {html.escape(notice)}. The text is shown instead.</p>' if notice else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(doc.title)} · source</title><style>{STYLE}</style></head><body>"
        f'<header><h1>{html.escape(doc.title)}</h1><div class="meta"><code>{html.escape(doc.doc_id)}</code> · '
        f"{html.escape(_locator(doc, start, end))} · characters {start}–{end}</div></header>"
        f'<main>{notice_html}{pages}<pre class="text">{body}</pre></main></body></html>'
    )


def _not_found(message: str, status: int = 404) -> HTMLResponse:
    page = f'<!doctype html><meta charset="utf-8"><title>Not found</title><style>{STYLE}</style><main><p class="notice">{html.escape(message)}</p></main>'
    return HTMLResponse(page, status_code=status)


def add_source_routes(app: FastAPI, assistant) -> None:
    """Add the source view's routes to ``app`` (before Gradio is mounted at ``/``).

    ``assistant`` gives the indexed documents (:meth:`assistant.Assistant.documents`); a reader
    gets only those they may read (a document they may not read is answered as one that does
    not exist: the same 404)."""
    from ui.auth import reader_of

    def find(doc_id: str, request: Request) -> Document | None:
        return next((d for d in assistant.documents(reader_of(request).groups) if d.doc_id == doc_id), None)

    settings = getattr(assistant, "settings", None)
    ocr = settings.reading().ocr if settings is not None else None

    @app.get("/sources/{doc_id:path}", include_in_schema=False, response_class=HTMLResponse)
    def source_view(request: Request, doc_id: str, start: int = Query(0, ge=0), end: int | None = Query(None, ge=0)) -> Response:
        doc = find(doc_id, request)
        if doc is None:
            return _not_found("No indexed document has this id; open the source from a citation of an answer.")
        end = len(doc.text) if end is None else end
        if start > end:
            return _not_found(f"The span {start}–{end} ends before it starts; start must not be greater than end.")
        if end > len(doc.text):
            return _not_found(f"The span {start}–{end} is outside this document ({len(doc.text)} characters).")
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(source_page(root, doc, start, end, ocr), headers={"Cache-Control": "no-store"})

    @app.get("/source-pages/{page}/{doc_id:path}", include_in_schema=False)
    def source_page_image(request: Request, page: int, doc_id: str) -> Response:
        from ui.pdf_view import PageViewUnavailable, render_page

        doc = find(doc_id, request)
        if doc is None or doc.format not in PAGED_FORMATS or not 1 <= page <= len(doc.pages):
            return Response("not found", status_code=404, media_type="text/plain")
        try:
            png = render_page(doc.source, page)
        except PageViewUnavailable as err:
            return Response(str(err), status_code=404, media_type="text/plain")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})
