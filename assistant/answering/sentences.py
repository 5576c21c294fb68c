"""The sentences of retrieved passages as the answer path reads them: which may be quoted
(:func:`answerable_sentences`), their kinds decided at ingest (:func:`kind_of`), and their text
as quoted (:func:`_quote`), exact (:func:`_raw`) and before them (:func:`_previous`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from assistant.markers import escape_footnotes
from assistant.retrieval.results import RetrievedPassage, ScoredSentence
from index.types import row_text


_HEADING = re.compile(r"^\s*#|^[^.!?:;”\"’)]*$")


def answerable_sentences(retrieved: Sequence[RetrievedPassage]) -> list[tuple[ScoredSentence, RetrievedPassage]]:
    """The sentences that may be quoted, with their passages, in retrieval order.

    Read from the kinds ingest decided (:attr:`index.types.Passage.kinds`): a ``title`` (the
    document's title line: it matches every question about the document's subject) or a
    table's ``header`` row is never quoted and gives nothing; a ``heading`` gives way to the
    sentence after it in its passage, which takes the better of the two sentences' scores
    (fused, cosine, coverage): the first sentence of its section. A ``question`` (the
    document's own, "How do I connect to the VPN?" in an FAQ) repeats the user's words without
    answering them and gives way the same way, to the document's own answer. A question or
    heading that ends its passage is dropped.
    """
    out: list[tuple[ScoredSentence, RetrievedPassage]] = []
    for r in retrieved:
        carried: ScoredSentence | None = None
        for s in r.sentences:
            if carried is not None:
                s = replace(s, fused=max(s.fused, carried.fused), similarity=max(s.similarity, carried.similarity), coverage=max(s.coverage, carried.coverage))
                carried = None
            kind = kind_of(s, r)
            if kind in ("title", "header"):
                continue
            if kind in ("heading", "question"):
                carried = s
                continue
            out.append((s, r))
    return out


def begins_line(s: ScoredSentence, r: RetrievedPassage) -> bool:
    """Whether sentence ``s`` starts a line of its passage (only whitespace before it on its
    line): a list item's first sentence does, a second sentence of the same item does not."""
    p = r.passage
    head = p.text[: s.span[0] - p.start]
    return not head.strip() or "\n" in head and not head[head.rindex("\n") :].strip()


def kind_of(s: ScoredSentence, r: RetrievedPassage) -> str:
    """The kind ingest gave sentence ``s`` of ``r`` (:data:`index.types.SENTENCE_KINDS`:
    ``"text"``, ``"title"``, ``"heading"``, ``"item"``, ``"note"``, ``"row"``, ``"header"``;
    every sentence of a passage indexed before kinds were stored is ``"text"``)."""
    return r.passage.kinds[r.passage.sentences.index(s.span)]


def is_heading(sentence: str) -> bool:
    """A title or heading line ("# Office Wi-Fi guide", "Vacation policy"): a Markdown heading, or
    at most eight words with no sentence-final punctuation. Never quoted as a further sentence
    (it repeats the question's words without answering)."""
    return bool(_HEADING.match(sentence)) and (sentence.lstrip().startswith("#") or len(sentence.split()) <= 8)


_LIST_MARKER = re.compile(r"^(?:[*•◦▪‣–-]|\d{1,3}[.)])\s+")
"""A list item's bullet or number ("* ", "• ", "2. "), as HTML lists are reduced to text."""


def _quote(s: ScoredSentence, r: RetrievedPassage) -> str:
    """The sentence as quoted in the answer: a table row as its cells with their column headers
    (:meth:`index.types.Passage.unit_texts`); otherwise whitespace folded, a leading list marker dropped,
    bracketed footnote numbers written as superscripts (:func:`~assistant.markers.escape_footnotes`;
    the citation's highlight still covers the exact span)."""
    p = r.passage
    i = p.sentences.index(s.span)
    if p.kinds[i] == "row" and p.cells[i]:  # a table row reads with its column headers ("Floor: First floor · ...")
        return escape_footnotes(" ".join(row_text(p.cells[i]).split()))
    quote = _LIST_MARKER.sub("", " ".join(p.text[s.span[0] - p.start : s.span[1] - p.start].split()), count=1)
    return escape_footnotes(quote)  # a document's own "[3]" never reads as a citation marker


def _raw(s: ScoredSentence, r: RetrievedPassage) -> str:
    """The sentence's exact text."""
    p = r.passage
    return p.text[s.span[0] - p.start : s.span[1] - p.start]


def _previous(s: ScoredSentence, r: RetrievedPassage) -> str:
    """The document's sentence before ``s`` (from its passage, or the one before the passage)."""
    spans = [x.span for x in r.sentences]
    i = spans.index(s.span)
    if i == 0:
        return r.before
    p = r.passage
    a, b = spans[i - 1]
    return p.text[a - p.start : b - p.start]
