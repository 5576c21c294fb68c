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
a.cite { text-decoration: none; font-weight: 600; }
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
    highlighted passage, and a link to the source view (``base``: see :func:`ui.sources.source_url`)."""
    p = c.passage
    section = f' · <span class="section">{html.escape(p.section)}</span>' if p.section else ""
    link = f'<a class="open" href="{html.escape(source_url(p, base))}" target="_blank" rel="noopener">open source ↗</a>'
    ident = f' id="{anchor}"' if anchor else ""
    return (
        f'<div class="source"{ident} data-n="{c.n}"><div class="meta"><span class="meta-text"><b>{html.escape(label)}</b> '
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
        return f'<div class="sources"><h4>Sources</h4>{cards}</div>'
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


def linked_markers(answer: Answer) -> str:
    """The escaped answer text with each ``[n]`` that names a citation made a link to its
    source card (:func:`card_id`); a document's own bracketed numbers were already written as
    superscripts (:mod:`assistant.markers`), so they never become links."""
    known = {c.n for c in answer.citations}

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        return f'<a class="cite" href="#{card_id(answer, n)}">[{n}]</a>' if n in known else m.group(0)

    return ANSWER_MARKER.sub(link, text_html(answer.text))


PARAGRAPH = "<br><br>"
"""Separates the parts of a chat message (the chat renders HTML, not Markdown)."""


def answer_markdown(answer: Answer) -> str:
    """The chat message for ``answer`` (HTML, shown without Markdown rendering): escaped answer
    text plus a one-line list of its sources; a generated answer's unverified sentences are
    listed with why, and a notice (the model timed out, say) comes first. Only this module's
    own tags (citation links, ``<small>``, ``<br>``) are markup; all text is escaped."""
    text = linked_markers(answer)
    if answer.notice:
        text = f"<small><i>{html.escape(answer.notice)}</i></small>{PARAGRAPH}{text}"
    for flag in answer.flags:
        text += f"{PARAGRAPH}<small>⚠ Not verified: “{html.escape(flag.text)}” ({html.escape(flag.detail)})</small>"
    if answer.citations:
        refs = "; ".join(f"[{c.n}] {html.escape(_reference(c))}" for c in answer.citations)
        text += f"{PARAGRAPH}<small>Sources: {refs}</small>"
    elif answer.abstained:
        if answer.abstain_reason:
            text += f"{PARAGRAPH}<small>Why: {html.escape(answer.abstain_reason)}.</small>"
        if answer.related:
            text += f"{PARAGRAPH}<small>{RELATED_HINT}</small>"
    return text


RELATED_HINT = "The closest passages are listed under “Related passages”; they do not answer the question."
"""Points to the related passages by the panel's heading, which is right whether the panel is
beside the chat (wide chat) or below it (the widget, a narrow window)."""
