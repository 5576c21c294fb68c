"""Composition, the last stage: the chosen quotes (a :class:`~assistant.answering.answerer.Selection`)
-> the answer's text with ``[n]`` markers and its citations (a :class:`~assistant.answering.answerer.Draft`).

Citations are numbered in order of first mention; a passage quoted twice keeps one number;
there are never markers without a citation, nor citations without a marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answering.sentences import _quote, begins_line, item_number, kind_of
from assistant.retrieval.results import RetrievedPassage, ScoredSentence
from assistant.types import Citation

if TYPE_CHECKING:
    from assistant.answering.answerer import Draft, Selection


def compose(selection: Selection, unit: str = "sentence") -> Draft:
    """The answer text and citations for ``selection``: each quote followed by its
    passage's ``[n]``; a passage quoted twice keeps one number with both highlights. The
    steps of a procedure (``item`` sentences) are numbered, each on a line of its own, as
    are notes: with the number the document gives them, else in order. A list item quoted
    outside a procedure keeps the document's number ("5. Connect to the staff Wi-Fi.").
    ``unit="passage"`` quotes the best passage whole and cites the top 3 (the usual
    RAG baseline, kept to measure sentence selection)."""
    from assistant.answering.answerer import ABSTAIN_TEXT, Draft  # the answerer imports this module

    if not selection.quotes:
        related = tuple(_citation(i, r, (_shown(r),)) for i, r in enumerate(selection.retrieved[:3], start=1))
        return Draft(selection.refusal or ABSTAIN_TEXT, (), True, related, selection.abstain_reason, selection.abstain_detail,
                     selection.answerable_probability)
    if unit == "passage":
        best = selection.quotes[0][1]
        others = [r for r in selection.retrieved if r is not best][:2]
        citations = tuple(_citation(i, r, (r.best,)) for i, r in enumerate([best, *others], start=1))
        return Draft(" ".join(best.passage.text.split()) + " [1]", citations, False, (), answerable_probability=selection.answerable_probability)
    numbers: dict[str, int] = {}
    support: dict[str, list[ScoredSentence]] = {}
    by_id: dict[str, RetrievedPassage] = {}
    text, step, previous = "", 0, ""
    for s, r in selection.quotes:
        pid = r.passage.passage_id
        n = numbers.setdefault(pid, len(numbers) + 1)
        support.setdefault(pid, []).append(s)
        by_id[pid] = r
        kind = kind_of(s, r)
        starts_item = kind == "item" and (previous != "item" or begins_line(s, r))  # not an item's second sentence
        new_step = selection.procedure and starts_item
        step = step + new_step if kind == "item" and selection.procedure else 0
        # an item shows its number as the document wrote it ("2. Loading paper" stays 2, never
        # renumbered from 1), in a procedure or quoted alone; a step whose number is not in the
        # text (bullets, Word's automatic numbering) is numbered in order
        own = item_number(s, r) if starts_item else None
        quote = f"{own} {_quote(s, r)}" if own else f"{step}. {_quote(s, r)}" if new_step else _quote(s, r)
        # the steps of a procedure (numbered) and its notes go on lines of their own; a
        # step's further sentences follow it on its line
        own_line = selection.procedure and (new_step or "note" in (kind, previous))
        text += ("\n" if own_line else " ") * bool(text) + f"{quote} [{n}]"
        previous = kind
    citations = tuple(_citation(numbers[pid], by_id[pid], tuple(support[pid])) for pid in numbers)
    return Draft(text, citations, False, (), answerable_probability=selection.answerable_probability)


def _shown(r: RetrievedPassage) -> ScoredSentence:
    """The sentence a related passage highlights: its best that is not a title line or a
    table's header row (a Markdown ``| --- |`` line reads as noise), else its best."""
    kinds = dict(zip(r.passage.sentences, r.passage.kinds))
    readable = [s for s in r.sentences if kinds.get(s.span) not in ("title", "header")]
    return max(readable, key=lambda s: (s.fused, s.similarity)) if readable else r.best


def _citation(n: int, r: RetrievedPassage, sentences: tuple[ScoredSentence, ...]) -> Citation:
    """Citation ``n`` of ``r``; its score is the reader's best probability when the reader read
    the sentences, else their best fused score."""
    probs = [s.probability for s in sentences if s.probability is not None]
    return Citation(
        n=n,
        passage=r.passage,
        highlights=tuple(sorted(s.span for s in sentences)),
        score=max(probs) if probs else max(s.fused for s in sentences),
    )
