"""The source view: a cited span shown in its document, served by the assistant itself.

Routes (added by :func:`add_source_routes`, under ``settings.root_path`` like every route):

- ``GET /sources/{doc_id}?start=S&end=E&q=A-B,C-D``: an HTML page with the document as the
  reader knows it (Markdown rendered by markdown-it-py with raw HTML off, links and images made
  inert text; other formats as their stored text, escaped), the quoted sentences ``q``
  (character spans) in ``<mark class="quote">`` and the rest of ``[S, E)`` in
  ``<mark class="passage">``; the first quote has ``id="cited"`` (links add ``#cited`` so the
  browser scrolls to it without a script). For a PDF or an image file, the cited page(s) come
  first, rendered locally, with the quoted sentences' boxes drawn over them (on a scanned page,
  the boxes of the words OCR read). The header reads the title, then ``page 7 · section`` (or
  lines) and the document id.
- ``GET /source-pages/{page}/{doc_id}``: page ``page`` (1-based) of an indexed PDF or image as PNG.
- ``GET /source-status/{doc_id}``: whether the document is still indexed (a citation's popover
  asks): 200 ``{"indexed": true, "title"}`` or 404.

URLs carry document ids, never paths: an id is looked up among the indexed documents, and
only the file that document was indexed from is ever opened. Anything else is a 404. The
pages load nothing from outside (inline styles, no scripts).
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from index import Document, Passage

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
mark { color: #1f2328; border-radius: 2px; scroll-margin-top: 120px; }
mark.passage { background: #fff4c2; }
mark.quote { background: #ffd33d; box-shadow: 0 0 0 1px #bf8700; font-weight: 600; }
.legend { font-size: 13px; color: #57606a; margin: 0 0 10px; }
article.doc { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 20px 16px; overflow-wrap: anywhere; }
article.doc table { border-collapse: collapse; margin: 8px 0; }
article.structured p { white-space: pre-wrap; }
article.structured h2 { font-size: 1.2em; margin: 18px 0 6px; }
article.doc th, article.doc td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
article.doc pre { background: #f6f8fa; padding: 8px; overflow-x: auto; }
article.doc .link { text-decoration: underline dotted; }
article.doc .image { color: #57606a; font-style: italic; }
"""


def source_url(passage: Passage, base: str = "", quotes=()) -> str:
    """The relative URL of ``passage``'s source view (``base`` is the path back to the app's
    root from the page linking it: ``""`` from the chat, ``"../"`` from the widget);
    ``quotes``: ``(start, end)`` character spans of the quoted sentences, sent as
    ``&q=S-E,S-E`` so the view marks them strongly and the rest of the passage lightly."""
    q = ",".join(f"{a}-{b}" for a, b in quotes)
    return f"{base}sources/{quote(passage.doc_id, safe='/')}?start={passage.start}&end={passage.end}" + (f"&q={q}" if q else "") + "#cited"


def _locator(doc: Document, start: int, end: int) -> str:
    """Where ``doc[start:end]`` is, in a reader's words: ``page 7`` / ``pages 7–8`` for a paged
    document, else ``line 3`` / ``lines 3–5``; then its section, if any (``page 7 · 2.1 LRS model``)."""
    parts = []
    first, last = doc.page_of(start), doc.page_of(max(end - 1, start))
    if first is not None:
        parts.append(f"page {first}" if first == last else f"pages {first}–{last}")
    else:
        a, b = doc.line_of(start), doc.line_of(max(end - 1, start))
        parts.append(f"line {a}" if a == b else f"lines {a}–{b}")
    if section := doc.section_of(start):
        parts.append(section)
    return " · ".join(parts)


MAX_QUOTES = 50
"""Most quoted spans one source-view URL may carry (``q=``, count); more is a 400."""


class BadQuotes(ValueError):
    """The ``q`` parameter is not ``S-E,S-E...`` within the span; ``str`` says what is wrong."""


def parse_quotes(value: str | None, start: int, end: int) -> list[tuple[int, int]]:
    """``"860-900,950-1000"`` -> ``[(860, 900), (950, 1000)]`` (character offsets), each cut to
    ``[start, end)``, sorted; empty or None -> ``[]``.

    Raises:
        BadQuotes: not pairs of integers, an empty or reversed pair, or over :data:`MAX_QUOTES`.
    """
    if not value:
        return []
    pairs = value.split(",")
    if len(pairs) > MAX_QUOTES:
        raise BadQuotes(f"q names {len(pairs)} quoted spans; at most {MAX_QUOTES} are shown")
    out = []
    for pair in pairs:
        a, sep, b = pair.partition("-")
        if not (sep and a.isdigit() and b.isdigit()) or int(a) >= int(b):
            raise BadQuotes(f"q must be START-END character spans separated by commas, e.g. q=860-900; got {pair[:40]!r}")
        a, b = max(int(a), start), min(int(b), end)
        if a < b:
            out.append((a, b))
    return sorted(out)


PASSAGE_OPEN, PASSAGE_CLOSE, QUOTE_OPEN, QUOTE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
"""Private-use characters put into the text at the span's and the quotes' offsets before it is
rendered, then turned into ``<mark>`` elements (they never occur in stored text: see
:func:`_with_sentinels`)."""
_SENTINELS = PASSAGE_OPEN + PASSAGE_CLOSE + QUOTE_OPEN + QUOTE_CLOSE
_BLOCK_START = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+>][ \t]+|\d{1,9}[.)][ \t]+|\|[ \t]*)*")
"""Markdown block markers at a line's start: an opening mark goes after them, so the line stays
a heading, list item, quote or table row."""


HEADING = "\ue004"
"""Private-use character put at each heading's start in an HTML or Word document's text (see
:func:`document_html`)."""


def _with_sentinels(text: str, start: int, end: int, quotes: list[tuple[int, int]], markdown: bool, headings=()) -> str:
    """``text`` with the sentinels of :data:`PASSAGE_OPEN` ... inserted at ``start``/``end`` and
    each quote's offsets (any sentinel already in the text is dropped). In Markdown an opening
    sentinel at a line's start moves past the line's block markers, a closing one at a line's
    start moves back before the line break, and one at the end of a table row moves inside its
    last cell, so the structure is kept."""
    inserts: list[tuple[int, int, str]] = []  # (offset, order, sentinel): closes before opens at one offset

    def place(offset: int, sentinel: str, opening: bool) -> None:
        if markdown:
            line_start = text.rfind("\n", 0, offset) + 1
            if opening and text[line_start:offset].strip() == "":
                m = _BLOCK_START.match(text, line_start)
                offset = max(offset, m.end())
            elif not opening:
                if offset == line_start and offset > 0:
                    offset = len(text[:offset].rstrip())
                line_start = text.rfind("\n", 0, offset) + 1
                if text[line_start:offset].lstrip().startswith("|"):  # a table row: close inside its last cell
                    offset = line_start + len(text[line_start:offset].rstrip().rstrip("|").rstrip())
        inserts.append((offset, 1 if opening else 0, sentinel))

    inserts.extend((offset, -1, HEADING) for offset in headings)
    place(start, PASSAGE_OPEN, True)
    place(end, PASSAGE_CLOSE, False)
    for a, b in quotes:
        place(a, QUOTE_OPEN, True)
        place(b, QUOTE_CLOSE, False)
    clean = text.translate({ord(c): None for c in _SENTINELS + HEADING}) if any(c in text for c in _SENTINELS + HEADING) else text
    out, pos = [], 0
    for offset, _, sentinel in sorted(inserts):
        out.append(clean[pos:offset])
        out.append(sentinel)
        pos = offset
    out.append(clean[pos:])
    return "".join(out)


_TAG = re.compile(r"(<[^>]*>)")


def _marks(rendered: str, cited_id: bool) -> str:
    """Turn the sentinels of rendered HTML into marks: text inside a quote becomes
    ``<mark class="quote">``, the rest of the passage ``<mark class="passage">``, each mark
    closed before and reopened after every tag (so the HTML stays well nested). The first
    quote mark (or passage mark, without quotes) gets ``id="cited"`` when ``cited_id``."""
    has_quote = QUOTE_OPEN in rendered
    passage = quote = False
    first = cited_id
    out = []
    for piece in _TAG.split(rendered):
        if piece.startswith("<"):
            out.append(piece.translate({ord(c): None for c in _SENTINELS}))
            continue
        for chunk in re.split(f"([{_SENTINELS}])", piece):
            if chunk == PASSAGE_OPEN or chunk == PASSAGE_CLOSE:
                passage = chunk == PASSAGE_OPEN
            elif chunk == QUOTE_OPEN or chunk == QUOTE_CLOSE:
                quote = chunk == QUOTE_OPEN
            elif chunk:
                if (quote or passage) and chunk.strip():
                    kind = "quote" if quote else "passage"
                    anchor = ""
                    if first and (quote or not has_quote):
                        anchor, first = ' id="cited"', False
                    out.append(f'<mark class="{kind}"{anchor}>{chunk}</mark>')
                else:
                    out.append(chunk)
    return "".join(out)


def markdown_html(text: str) -> str:
    """Markdown ``text`` rendered by ``markdown-it-py`` (CommonMark plus tables) with every
    way out of the page shut: raw HTML off (shown as text), links become ``<span class="link">``
    with the target as their title (never a live link), images become the text
    ``[image: alt]`` (never fetched). Sentinels pass through as text."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

    def link_open(renderer, tokens, idx, options, env):
        href = tokens[idx].attrGet("href") or ""
        return f'<span class="link" title="{html.escape(href)}">'

    def link_close(renderer, tokens, idx, options, env):
        return "</span>"

    def image(renderer, tokens, idx, options, env):
        tok = tokens[idx]
        alt = "".join(c.content for c in (tok.children or [])) or tok.content
        return f'<span class="image">[image: {html.escape(alt)}]</span>'

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("image", image)
    return md.render(text)


STRUCTURED_FORMATS = ("html", "docx")
"""Formats whose stored text is shown as headings and paragraphs (the reader's headings, blank
lines between paragraphs): the page's or file's own markup is never sent to the browser."""


def document_html(doc: Document, start: int, end: int, quotes: list[tuple[int, int]], cited_id: bool) -> str:
    """The document's text as the reader sees it in the source view: Markdown rendered
    (:func:`markdown_html`); an HTML page or Word file as headings and paragraphs of its stored
    text (:data:`STRUCTURED_FORMATS`), escaped; every other format as its stored text, escaped; the quoted
    sentences marked strongly and the rest of ``[start, end)`` lightly (:func:`_marks`)."""
    if doc.format == "markdown":
        body = markdown_html(_with_sentinels(doc.text, start, end, quotes, markdown=True))
        return f'<article class="doc markdown">{_marks(body, cited_id)}</article>'
    if doc.format in STRUCTURED_FORMATS:
        text = html.escape(_with_sentinels(doc.text, start, end, quotes, markdown=False, headings=[o for o, _ in doc.headings]))
        blocks = []
        for block in re.split(r"\n[ \t]*\n+", text):
            if not block.strip():
                continue
            if HEADING in block:
                blocks.append(f"<h2>{block.replace(HEADING, '')}</h2>")
            else:
                blocks.append(f"<p>{block}</p>")
        return f'<article class="doc structured">{_marks("".join(blocks), cited_id)}</article>'
    body = html.escape(_with_sentinels(doc.text, start, end, quotes, markdown=False))
    return f'<pre class="text">{_marks(body, cited_id)}</pre>'


def _page_html(root: str, doc: Document, spans: list[tuple[int, int]], ocr=None) -> tuple[str, str | None]:
    """The rendered page(s) with the boxes of ``spans`` (the quoted sentences), or ``("", why not)``."""
    from ui.pdf_view import PageViewUnavailable, span_boxes

    boxes: dict[int, list] = {}
    try:
        for a, b in spans:
            for page_no, found in span_boxes(doc.source, doc.text, a, b, ocr).items():
                boxes.setdefault(page_no, []).extend(found)
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


def source_page(root: str, doc: Document, start: int, end: int, ocr=None, quotes: list[tuple[int, int]] | None = None) -> str:
    """The HTML of the source view of ``doc[start:end]`` (see the module docstring); ``quotes``:
    the quoted sentences' ``(start, end)`` spans (characters; default: none, the whole span is
    the quote); ``ocr``: the index's :class:`~index.readers.ocr.OcrOptions`. The header reads
    ``title`` then where the cited passage is, as its citation says (``page 7 · section`` or
    ``lines 13–22 · section``), then where the quoted sentences are when that differs
    (``quoted: line 19``), the document id last."""
    quotes = list(quotes or [])
    pages, notice = ("", None)
    if doc.format in PAGED_FORMATS:
        pages, notice = _page_html(root, doc, quotes or [(start, end)], ocr)
    notice_html = f'<p class="notice">Page view unavailable: {html.escape(notice)}. The text is shown instead.</p>' if notice else ""
    where = _locator(doc, start, end)  # where the cited passage is, as its citation says (lines 13–22)
    if quotes and (quoted := _locator(doc, quotes[0][0], quotes[-1][1])) != where:
        where += f" · quoted: {quoted.split(' · ')[0]}"  # and the quoted sentences within it (line 19)
    legend = (
        '<p class="legend"><mark class="quote">quoted sentence</mark> <mark class="passage">rest of the cited passage</mark></p>'
        if quotes
        else ""
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(doc.title)} · source</title><style>{STYLE}</style></head><body>"
        f'<header><h1>{html.escape(doc.title)}</h1><div class="meta">{html.escape(where)} · <code>{html.escape(doc.doc_id)}</code></div></header>'
        f"<main>{notice_html}{legend}{pages}{document_html(doc, start, end, quotes, cited_id=not pages)}</main></body></html>"
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
    def source_view(
        request: Request, doc_id: str, start: int = Query(0, ge=0), end: int | None = Query(None, ge=0), q: str | None = Query(None, max_length=2000)
    ) -> Response:
        doc = find(doc_id, request)
        if doc is None:
            return _not_found("No indexed document has this id; open the source from a citation of an answer.")
        end = len(doc.text) if end is None else end
        if start > end:
            return _not_found(f"The span {start}–{end} ends before it starts; start must not be greater than end.")
        if end > len(doc.text):
            return _not_found(f"The span {start}–{end} is outside this document ({len(doc.text)} characters).")
        try:
            quotes = parse_quotes(q, start, end)
        except BadQuotes as err:
            return _not_found(f"{err}.", status=400)
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(source_page(root, doc, start, end, ocr, quotes), headers={"Cache-Control": "no-store"})

    @app.get("/source-status/{doc_id:path}", include_in_schema=False)
    def source_status(request: Request, doc_id: str) -> Response:
        """Whether ``doc_id`` is still indexed (a citation's popover asks): 200 ``{"indexed": true,
        "title"}``, or 404 ``{"indexed": false, "error"}`` once the document was removed, or
        when the caller may not read it (the same answer: a hidden document does not exist)."""
        doc = find(doc_id, request)
        if doc is None:
            return JSONResponse({"indexed": False, "error": "This document has been removed from the index since this answer."}, status_code=404)
        return JSONResponse({"indexed": True, "title": doc.title}, headers={"Cache-Control": "no-store"})

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
