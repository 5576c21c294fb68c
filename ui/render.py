"""HTML rendering of answers and their cited passages. Every piece of user or document text is escaped."""

from __future__ import annotations

import hashlib
import html
import re

from assistant import ANSWER_MARKER
from assistant import Answer, Citation
from ui.sources import source_url

CSS = """
.sources .source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 0 0 8px; }
.sources .meta { font-size: 0.85em; margin-bottom: 4px; position: sticky; top: 0; z-index: 1;
  background: var(--block-background-fill, #fff); padding: 2px 0; }
.sources .meta-text { opacity: 0.8; }
.sources .passage { white-space: pre-wrap; line-height: 1.45; }
.sources mark { background: #ffe58a; color: inherit; padding: 0 1px; border-radius: 2px; }
.sources .related { opacity: 0.85; }
.sources .hint { opacity: 0.75; font-style: italic; }
.sources .open { font-size: 0.85em; margin-left: 6px; white-space: nowrap; }
.sources .section { font-style: italic; }
.sources .source:target { outline: 2px solid #e6a000; }
a.cite { text-decoration: none; font-weight: 600; border-radius: 3px; }
a.cite:focus-visible { outline: 2px solid #0969da; outline-offset: 1px; }
.cite-wrap { position: relative; display: inline; }
.cite-pop { display: none; position: absolute; left: 0; top: 1.5em; z-index: 50; width: min(340px, 80vw); box-sizing: border-box;
  background: #fff; color: #1f2328; border: 1px solid #8c959f; border-radius: 8px; padding: 8px 10px;
  box-shadow: 0 4px 14px rgba(0,0,0,.22); font-size: 13px; line-height: 1.45; font-weight: normal; white-space: normal; }
.cite-wrap:hover .cite-pop, a.cite:focus + .cite-pop { display: block; }
.cite-pop .pop-head { display: block; font-weight: 600; margin-bottom: 4px; }
.cite-pop .pop-where { display: block; color: #57606a; font-size: 12px; margin-bottom: 4px; }
.cite-pop mark { background: #ffd33d; color: inherit; }
.cite-pop .pop-gone { display: block; color: #9a3412; font-weight: 600; }
.answer-table { border-collapse: collapse; margin: 6px 0 2px; font-size: 0.9em; }
.answer-table caption { text-align: left; font-size: 0.85em; color: #57606a; caption-side: top; }
.answer-table th, .answer-table td { border: 1px solid #8c959f; padding: 2px 8px; text-align: left; }
.answer-table th { background: #f3f4f6; font-weight: 600; }
.answer-sources { margin-top: 6px; }
.answer-sources > summary { cursor: pointer; font-size: 0.85em; }
.answer-sources > summary:focus-visible { outline: 2px solid #0969da; }
.answer-sources .source { border: 1px solid var(--border-color-primary, #d0d7de); border-radius: 8px; padding: 6px 8px; margin: 6px 0 0; font-size: 0.9em; }
.answer-sources .meta { font-size: 0.85em; margin-bottom: 4px; }
.answer-sources .passage { white-space: pre-wrap; line-height: 1.45; }
.answer-sources mark, .sources mark.quote { background: #ffd33d; color: inherit; }
.answer-sources .open { margin-left: 6px; white-space: nowrap; }
.answer-sources .source.flash, .sources .source.flash { outline: 3px solid #e6a000; }
"""
"""Styles for :func:`sources_html` (no external fonts or assets)."""


MARKDOWN_ACTIVE = frozenset("\\`*_{}[]()#!|~:@$<>&\"'.")
"""Characters that can start Markdown, HTML or an autolink (``![x](url)``, ``<b>``,
``http://``, ``www.``, ``a@b``, ``$$``); :func:`inert` writes them as numeric entities."""


def inert(text: str) -> str:
    """``text`` for a place that Gradio renders as Markdown (a placeholder, a status line): each
    character of :data:`MARKDOWN_ACTIVE` becomes a numeric HTML entity, so the text shows as
    it is and nothing in it becomes a link, an image, markup or formula."""
    return "".join(f"&#{ord(ch)};" if ch in MARKDOWN_ACTIVE else ch for ch in text)


def text_html(text: str) -> str:
    """``text`` as escaped HTML with its line breaks kept (``<br>``), for the chat, which shows
    HTML and no Markdown (``render_markdown=False``)."""
    return html.escape(text).replace("\r\n", "\n").replace("\n", "<br>")


def highlighted_passage(c: Citation) -> str:
    """The passage text as escaped HTML with the supporting sentences wrapped in ``<mark>``."""
    p = c.passage
    out, pos = [], p.start
    for start, end in sorted(c.highlights):
        start, end = max(start, pos), min(end, p.end)
        if start >= end:
            continue
        out.append(html.escape(p.text[pos - p.start : start - p.start]))
        out.append(f"<mark>{html.escape(p.text[start - p.start : end - p.start])}</mark>")
        pos = end
    out.append(html.escape(p.text[pos - p.start :]))
    return "".join(out)


def _lines(c: Citation) -> str:
    """The citation's locator: ``p. 4`` / ``pp. 4–5`` for a PDF, else ``line 3`` / ``lines 3–5``."""
    return c.passage.locator()


def card_id(answer: Answer, n: int) -> str:
    """The element id of ``answer``'s source card ``n`` (unique per answer, so an earlier
    answer's ``[n]`` never jumps to a later answer's card)."""
    key = hashlib.sha1(f"{answer.question}\0{answer.text}".encode("utf-8")).hexdigest()[:8]
    return f"source-{key}-{n}"


def citation_html(c: Citation, label: str, base: str = "", anchor: str | None = None) -> str:
    """One source card: ``label`` (e.g. ``[1]``), document title and id, page or lines, section,
    highlighted passage, and a link to the source view (``base``: see :func:`ui.sources.source_url`;
    the link carries the quoted sentences' spans, so the view marks them and the passage apart)."""
    p = c.passage
    section = f' · <span class="section">{html.escape(p.section)}</span>' if p.section else ""
    url = source_url(p, base, c.highlights)
    link = f'<a class="open" href="{html.escape(url)}" target="_blank" rel="noopener">open source ↗</a>'
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<div class="source"{ident} data-n="{c.n}" tabindex="-1"><div class="meta"><span class="meta-text"><b>{html.escape(label)}</b> '
        f"{html.escape(p.title)} · <code>{html.escape(p.doc_id)}</code> · {_lines(c)}{section} · score {c.score:.2f}</span>{link}</div>"
        f'<div class="passage">{highlighted_passage(c)}</div></div>'
    )


def sources_html(answer: Answer | None, base: str = "") -> str:
    """The sources panel for ``answer``: its citations, or, when it abstained, related passages.
    ``base`` is the path from the page to the app's root (``"../"`` in the widget)."""
    if answer is None:
        return '<div class="sources"><p class="hint">Sources of the latest answer appear here.</p></div>'
    if answer.citations:
        cards = "".join(citation_html(c, f"[{c.n}]", base, card_id(answer, c.n)) for c in answer.citations)
        return f'<div class="sources"><h4>Sources of the latest answer</h4>{cards}</div>'
    if answer.related:
        cards = "".join(citation_html(c, "related", base) for c in answer.related)
        return (
            '<div class="sources"><h4>Related passages</h4><p class="hint">These are the closest passages; '
            f'they do not answer the question.</p><div class="related">{cards}</div></div>'
        )
    return '<div class="sources"><p class="hint">No sources.</p></div>'


def _reference(c: Citation) -> str:
    p = c.passage
    return ", ".join(x for x in (p.title, p.locator(), p.section) if x)


POPOVER_NEIGHBOUR_CHARS = 240
"""A quoted sentence's neighbour in a citation's popover is cut to this many characters."""


def _clip(text: str, limit: int, tail: bool) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis on the cut side (``tail``: keep the end)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return "…" + text[-limit:] if tail else text[:limit] + "…"


def popover_html(c: Citation, pop_id: str) -> str:
    """The popover of marker ``[n]`` (``role="tooltip"``, shown by CSS on hover and keyboard
    focus): document title, page or lines and section, and the quoted sentences (``<mark>``)
    with the sentence before and after them in the passage (each cut to
    :data:`POPOVER_NEIGHBOUR_CHARS` characters); where the document breaks the line between
    two of them (table rows, list items), so does the popover (``<br>``). All text escaped."""
    p = c.passage
    spans = sorted(c.highlights) or [(p.start, p.end)]
    first, last = spans[0][0], spans[-1][1]
    before = [s for s in p.sentences if s[1] <= first]
    after = [s for s in p.sentences if s[0] >= last]
    text = lambda a, b: p.text[a - p.start : b - p.start]  # noqa: E731

    def between(a: int, b: int) -> str:
        """The text from ``a`` to ``b``, escaped, whitespace folded, a line break kept as ``<br>``."""
        if a >= b:
            return ""
        lines = [html.escape(" ".join(x.split())) for x in re.split(r"\s*\n\s*", text(a, b))]
        return "<br>".join(lines) if len(lines) > 1 else (lines[0] or " ")

    parts = []
    if before:
        parts.append(html.escape(_clip(text(*before[-1]), POPOVER_NEIGHBOUR_CHARS, tail=True)) + between(before[-1][1], first))
    pos = first
    for a, b in spans:
        parts.append(between(pos, a))
        parts.append(f"<mark>{html.escape(' '.join(text(max(a, pos), b).split()))}</mark>")
        pos = max(pos, b)
    if after:
        parts.append(between(last, after[0][0]) + html.escape(_clip(text(*after[0]), POPOVER_NEIGHBOUR_CHARS, tail=False)))
    where = " · ".join(html.escape(x) for x in (p.locator(), p.section) if x)
    return (
        f'<span class="cite-pop" role="tooltip" id="{pop_id}"><span class="pop-head">{html.escape(p.title or p.doc_id)}</span>'
        f'<span class="pop-where">{where}</span><span class="pop-text">{"".join(parts)}</span></span>'
    )


def linked_markers(answer: Answer) -> str:
    """The escaped answer text with each ``[n]`` that names a citation made a link to its source
    card under the answer (:func:`card_id`, prefixed ``msg-``), followed by its popover
    (:func:`popover_html`); the page script asks ``/source-status/{doc_id}`` whether the
    document is still indexed when the popover opens. A document's own bracketed numbers
    were already written as superscripts (:mod:`assistant.markers`), so they never become links."""
    by_n = {c.n: c for c in answer.citations}

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        c = by_n.get(n)
        if c is None:
            return m.group(0)
        card = card_id(answer, n)
        pop = f"pop-{card}"
        return (
            f'<span class="cite-wrap"><a class="cite" href="#msg-{card}" aria-describedby="{pop}">[{n}]</a>'
            f"{popover_html(c, pop)}</span>"
        )

    return ANSWER_MARKER.sub(link, text_html(answer.text))


def message_sources_html(answer: Answer, base: str = "") -> str:
    """The answer's own sources, folded under it (``<details class="answer-sources">``): the
    summary lists ``[n] title, page, section``; unfolded, its source cards (ids ``msg-`` +
    :func:`card_id`, the targets of its markers). An answer that abstained folds its related
    passages there instead, under the summary "Related passages". Empty when it has neither."""
    if answer.citations:
        refs = "; ".join(f"[{c.n}] {html.escape(_reference(c))}" for c in answer.citations)
        cards = "".join(citation_html(c, f"[{c.n}]", base, "msg-" + card_id(answer, c.n)) for c in answer.citations)
        return f'<details class="answer-sources"><summary>Sources: {refs}</summary>{cards}</details>'
    if answer.related:
        cards = "".join(citation_html(c, "related", base) for c in answer.related)
        return (
            f'<details class="answer-sources related"><summary>Related passages ({len(answer.related)}); '
            f"they do not answer the question</summary>{cards}</details>"
        )
    return ""


PARAGRAPH = "<br><br>"
"""Separates the parts of a chat message (the chat renders HTML, not Markdown)."""


def answer_markdown(answer: Answer, base: str = "") -> str:
    """The chat message for ``answer`` (HTML, shown without Markdown rendering): escaped answer
    text with linked ``[n]`` markers and their popovers (:func:`linked_markers`), then its
    sources folded under it (:func:`message_sources_html`); a generated answer's unverified
    sentences are listed with why, and a notice (the model timed out, say) comes first.
    ``base``: the path from the page to the app's root (``"../"`` in the widget). Only this
    module's own tags are markup; all text is escaped."""
    text = f'<span class="answer-text">{linked_markers(answer)}</span>' + row_tables_html(answer)
    if answer.notice:
        text = f"<small><i>{html.escape(answer.notice)}</i></small>{PARAGRAPH}{text}"
    for flag in answer.flags:
        text += f"{PARAGRAPH}<small>⚠ Not verified: “{html.escape(flag.text)}” ({html.escape(flag.detail)})</small>"
    if answer.citations:
        text += message_sources_html(answer, base)
    elif answer.abstained:
        if answer.abstain_reason:
            text += f"{PARAGRAPH}<small>Why: {html.escape(answer.abstain_reason)}.</small>"
        if answer.related:
            text += f"{PARAGRAPH}<small>{RELATED_HINT}</small>" + message_sources_html(answer, base)
    return text


def row_tables_html(answer: Answer) -> str:
    """The table rows an answer quotes, as small tables under its text: one ``<table
    class="answer-table">`` per table (rows of one passage with the same column headers), its
    column headers (:attr:`index.types.Passage.cells`) as ``<th>``, each quoted row a ``<tr>``,
    captioned with the citation's ``[n]``. Empty when no quoted sentence is a row. All text escaped."""
    tables: dict[tuple[int, tuple[str, ...]], list[tuple[str, ...]]] = {}
    for c in answer.citations:
        p = c.passage
        for span in c.highlights:
            if span not in p.sentences:
                continue
            i = p.sentences.index(span)
            if p.kinds[i] != "row" or not p.cells[i]:
                continue
            headers = tuple(h for h, _ in p.cells[i])
            tables.setdefault((c.n, headers), []).append(tuple(v for _, v in p.cells[i]))
    out = []
    for (n, headers), rows in tables.items():
        head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers) if any(headers) else ""
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows)
        out.append(
            f'<table class="answer-table"><caption>Quoted from [{n}]</caption>'
            + (f"<thead><tr>{head}</tr></thead>" if head else "")
            + f"<tbody>{body}</tbody></table>"
        )
    return "".join(out)


RELATED_HINT = "The closest passages are listed under “Related passages”; they do not answer the question."
"""Points to the related passages by their heading, which is right wherever they are: folded
under the answer (chat and widget) and in the chat's sources panel."""
