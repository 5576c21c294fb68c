"""The sentences of retrieved passages as the answer path reads them: which may be quoted
(:func:`answerable_sentences`), their kinds decided at ingest (:func:`kind_of`), and their text
as quoted (:func:`_quote`), exact (:func:`_raw`) and before them (:func:`_previous`); and which of
them may lead an answer to a given question (:func:`quotable`: never a label that only restates
it, and an acronym's spelled-out line first when it asks what the acronym stands for)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from dataclasses import replace

from assistant.markers import escape_footnotes
from assistant.retrieval.results import RetrievedPassage, ScoredSentence
from index.types import row_text

if TYPE_CHECKING:
    from assistant.retrieval.lexical import SentenceLexicon


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


_NUMBER_MARKER = re.compile(r"^\s*(\(?(?:\d{1,3}|[A-Za-z]|[ivxlcdm]{1,5})[.)])\s+\S")
"""A list item's own number or letter ("2.", "b)", "(iv)"), as the document wrote it."""


def item_number(s: ScoredSentence, r: RetrievedPassage) -> str | None:
    """The number or letter sentence ``s`` of ``r`` starts with as a list item ("5." of "5. Connect
    to the staff Wi-Fi."), when it is an ``item``; else None (a bullet, or a list whose numbers
    are not in the text, such as Word's automatic numbering)."""
    if kind_of(s, r) != "item":
        return None
    m = _NUMBER_MARKER.match(_raw(s, r))
    return m.group(1) if m else None


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


_WORD = re.compile(r"[^\W_][\w’'-]*")


_LINKING = frozenset({"of", "and", "for", "the", "in", "on", "to", "&"})
"""Words an acronym may skip ("DoD": Department of Defense; "NRCan": Natural Resources Canada)."""


def _consumes(letters: str, words: Sequence[str]) -> bool:
    """Whether ``letters`` (lower-case) are, in order, a prefix of each of ``words`` from the first
    on (one letter or more each, a linking word of :data:`_LINKING` may give none), all used up
    by the last word taken."""
    if not letters:
        return True
    if not words:
        return False
    word = words[0].lower()
    if word in _LINKING and _consumes(letters, words[1:]):
        return True
    return any(word[:k] == letters[:k] and _consumes(letters[k:], words[1:]) for k in range(min(len(letters), len(word)), 0, -1))


def spells_out(acronym: str, text: str) -> bool:
    """Whether ``text`` spells ``acronym`` out in consecutive words, each giving the acronym's
    next letters from its start: "LRS" in "LRS Linear Reference System", "NID" in "National
    Identifier (NID)" ("N" + "Id"). Case is ignored; the acronym's own occurrences do not count."""
    letters = "".join(c for c in acronym.lower() if c.isalpha())
    words = [w for w in _WORD.findall(text) if w != acronym]
    return len(letters) >= 2 and any(words[i][0].lower() == letters[0] and _consumes(letters, words[i:]) for i in range(len(words)))


def _defined_acronyms(text: str) -> set[str]:
    """Acronyms ``text`` spells out beside themselves (:func:`spells_out`): words of two to
    eight letters, at least two of them capitals ("LRS", "NRCan"). Returned as written."""
    return {w for w in _WORD.findall(text) if w.isalpha() and 2 <= len(w) <= 8 and sum(c.isupper() for c in w) >= 2 and spells_out(w, text)}


def restates_question(question: str, sentence: str, lexicon: SentenceLexicon | None) -> bool:
    """Whether ``sentence`` is a label that only repeats the question's words: it reads as a
    heading or caption (:func:`is_heading`: at most eight words, no closing punctuation) and
    holds no content term the question lacks, an acronym it spells out beside itself counting
    as its words ("LRS Linear Reference System" for "What does the Linear Reference System
    make possible?"). Such a line (an abbreviations list's entry, a caption, a contents line)
    names what is asked about and cannot hold the answer: an answer is something the question
    does not already say. A full sentence ("The policy covers contractors.") is never one, as it
    may answer a yes-or-no question in the question's own words. Terms are
    :meth:`~assistant.retrieval.lexical.SentenceLexicon.content_terms` (stemmed), or lower-cased
    words without ``lexicon``."""
    if not is_heading(sentence) or sentence.lstrip().startswith("#"):
        return False
    for acronym in _defined_acronyms(sentence):
        sentence = re.sub(rf"\b{acronym}\b", " ", sentence)
    if lexicon is None:
        asked, said = set(question.lower().split()), set(sentence.lower().split())
    else:
        asked, said = set(lexicon.content_terms(question)), set(lexicon.content_terms(sentence))
    return said <= asked


_ASKS_EXPANSION = re.compile(
    r"\bwhat\s+(?:does|do|did|is|was)\s+(?:the\s+(?:abbreviation|acronym|initialism)\s+)?[\"'“‘]?(?P<a>[A-Za-z&]{2,8})[\"'”’]?\s+"
    r"(?:stand\s+for|short\s+for|an?\s+(?:abbreviation|acronym)\s+(?:for|of)|mean)\b"
    r"|\b(?:full\s+form|expansion|long\s+form)\s+of\s+(?:the\s+)?[\"'“‘]?(?P<b>[A-Za-z&]{2,8})\b",
    re.I,
)


def asked_acronym(question: str) -> str | None:
    """The acronym a question asks to have spelled out ("What does NID stand for?", "What is
    the full form of GDPR?"): a word of two to eight letters with two capitals or more; or None."""
    m = _ASKS_EXPANSION.search(question)
    word = m and (m.group("a") or m.group("b"))
    return word if word and sum(c.isupper() for c in word) >= 2 else None


def quotable(question: str, ranked: list, lexicon: SentenceLexicon | None) -> tuple[list, bool]:
    """The candidates to quote from, and whether the first must stay first.

    ``ranked`` (``(ScoredSentence, RetrievedPassage)`` pairs, best first) without the labels
    that only restate the question (:func:`restates_question`; all kept when every candidate
    is one), in the same order (``ranked`` itself when nothing is dropped); and, when the
    question asks what an acronym stands for (:func:`asked_acronym`), the best candidate that
    holds it and spells it out (:func:`spells_out`: an abbreviations list's "NID National
    Identifier", a text's "National Identifier (NID)") moved first, with True: that line is the
    answer, whatever else shares the question's words.
    """
    kept = [sr for sr in ranked if not restates_question(question, _quote(*sr), lexicon)]
    kept = kept if kept and len(kept) < len(ranked) else ranked
    acronym = asked_acronym(question)
    if acronym is None:
        return kept, False
    for i, sr in enumerate(kept):
        quote = _quote(*sr)
        if acronym in _WORD.findall(quote) and spells_out(acronym, quote):
            return [sr, *kept[:i], *kept[i + 1 :]], True
    return kept, False
