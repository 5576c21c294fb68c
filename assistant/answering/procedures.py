"""Structure the answer follows: a whole procedure for a question that asks how
(:func:`whole_procedure`), a lead-in that gives way to its table's or list's best row or item
(:func:`lead_in_gives_way`), and the rows of one table as alternatives (:func:`_another_row`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.retrieval.results import RetrievedPassage, ScoredSentence
from assistant.answering.abstention import type_mismatch
from assistant.answering.sentences import _quote, _raw, kind_of
from assistant.tuning import MAX_PROCEDURE_CHARS, MAX_PROCEDURE_STEPS
from index.types import SECTION_SEPARATOR


_ASKS_HOW = re.compile(
    r"^\s*(?:how\s+(?:do|does|can|could|should|would|must|may|will|to)\b|how\s+i\b"
    r"|what\s+(?:are\s+)?(?:the\s+)?steps\b|what\s+(?:do|should|must)\s+(?:i|we|you)\s+do\b)"
    r"|\b(?:steps|instructions|procedure)\s+(?:to|for)\b",
    re.I,
)
"""A question that asks for a procedure: "How do I reset…?", "How to…", "What are the steps…",
"What should I do…", "…the steps to/for…", "…instructions for…" (English question structure)."""


def whole_procedure(question: str, s: ScoredSentence, r: RetrievedPassage) -> list[tuple[ScoredSentence, RetrievedPassage]]:
    """The whole procedure that best sentence ``s`` of ``r`` belongs to, in document order, when
    ``question`` asks how (:data:`_ASKS_HOW`); else ``[]``.

    A procedure is a run of consecutive ``item`` sentences of the passage (ingest's kinds,
    :attr:`index.types.Passage.kinds`): ``s`` is one of its steps, or it leads into the run
    (the run starts right after it, or after one more lead-in or note: "To request annual
    leave:", "You need the VPN to reach the file shares from home."). The steps are quoted with
    the ``note`` nearest before the run (within two sentences) and one right after it
    ("Warning: a factory reset erases all your settings."), up to :data:`MAX_PROCEDURE_STEPS`
    item sentences and :data:`MAX_PROCEDURE_CHARS` characters; a lead-in is not quoted. Steps
    beyond the passage are not seen (the chunker keeps a list in one passage when it fits).
    """
    kinds = r.passage.kinds
    if not _ASKS_HOW.search(question):
        return []
    i = r.passage.sentences.index(s.span)
    if kinds[i] == "item":
        first = i
        while first > 0 and kinds[first - 1] == "item":
            first -= 1
    else:
        ahead = [j for j in (i + 1, i + 2) if j < len(kinds) and all(kinds[k] in ("text", "note") for k in range(i + 1, j))]
        first = next((j for j in ahead if kinds[j] == "item"), None)
        if first is None:
            return []
    last = first
    while last + 1 < len(kinds) and kinds[last + 1] == "item" and last + 1 - first < MAX_PROCEDURE_STEPS:
        last += 1
    before = [j for j in (first - 1, first - 2) if j >= 0 and all(kinds[k] in ("text", "note") for k in range(j, first))]
    note_before = next((j for j in before if kinds[j] == "note"), None)
    picked = ([note_before] if note_before is not None else []) + list(range(first, last + 1))
    if last + 1 < len(kinds) and kinds[last + 1] == "note":
        picked.append(last + 1)
    out, chars = [], 0
    for j in picked:
        chars += len(_raw(r.sentences[j], r))
        if chars > MAX_PROCEDURE_CHARS and out:
            break
        out.append((r.sentences[j], r))
    return out


def leads_in(s: ScoredSentence, r: RetrievedPassage) -> int | None:
    """The index (in ``r``'s sentences) of the first row or item of the table or list that
    sentence ``s`` leads into, when ``s`` is prose (a ``text`` sentence; a note says something
    of its own) right before it, header rows aside ("The table below lists each kind of paid
    leave…"); else None."""
    kinds = r.passage.kinds
    i = r.passage.sentences.index(s.span)
    j = i + 1
    while j < len(kinds) and kinds[j] == "header":
        j += 1
    return j if kinds[i] == "text" and j < len(kinds) and kinds[j] in ("row", "item") else None


def lead_in_gives_way(
    ranked: list[tuple[ScoredSentence, RetrievedPassage]], question: str = ""
) -> list[tuple[ScoredSentence, RetrievedPassage]]:
    """``ranked`` (best first), with the best sentence giving way when it leads into a table or
    a list ("The table below lists each kind of paid leave…", "The light on the front panel
    shows what the router is doing."): the best-ranked row or item of the table or list right
    after it (header rows skipped) moves to the front. A lead-in describes the data; the row or
    item holds it. ``ranked`` itself when nothing moves, and when the sentence holds the kind of
    answer ``question`` asks for and that row or item does not
    (:func:`~assistant.answering.abstention.type_mismatch`): "Released on 2 August 2026." before
    a version's list of changes answers "When was it released?" itself."""
    s, r = ranked[0]
    j = leads_in(s, r)
    if j is None:
        return ranked
    kinds = r.passage.kinds
    kind, run = kinds[j], set()
    while j < len(kinds) and kinds[j] in (kind, "header"):
        if kinds[j] == kind:
            run.add(j)
        j += 1
    spans = {r.passage.sentences[k] for k in run}
    for n, (t, q) in enumerate(ranked):
        if q.passage.passage_id == r.passage.passage_id and t.span in spans:
            holds_answer = question and type_mismatch(question, [_quote(s, r)]) is None
            if holds_answer and type_mismatch(question, [_quote(t, q)]) is not None:
                return ranked  # the sentence holds the asked-for answer (a date, a number...), the row or item does not
            return [ranked[n], *ranked[:n], *ranked[n + 1 :]]
    return ranked


def _another_row(best: tuple[ScoredSentence, RetrievedPassage], other: tuple[ScoredSentence, RetrievedPassage]) -> bool:
    """Whether ``other`` is another row of the table of ``best``, a row, that matches the
    question's words less well (lower lexical coverage): the rows of a table are alternatives,
    and only those matching as well ("Which printers print in colour?") answer too."""
    (s, r), (t, q) = best, other
    return (q.passage.passage_id == r.passage.passage_id and kind_of(s, r) == "row" and kind_of(t, q) == "row"
            and t.coverage < s.coverage)


def table_keys(s: ScoredSentence, r: RetrievedPassage) -> tuple[str, ...]:
    """When ``s`` is a table row, the first cell of every data row of its table in ``r``'s
    passage (the run of ``row`` and ``header`` sentences around it), in order: what the table
    lists ("Annual leave", "Sick leave", ...); else ``()``."""
    kinds, cells = r.passage.kinds, r.passage.cells
    i = r.passage.sentences.index(s.span)
    if kinds[i] != "row":
        return ()
    first, last = i, i
    while first > 0 and kinds[first - 1] in ("row", "header"):
        first -= 1
    while last + 1 < len(kinds) and kinds[last + 1] in ("row", "header"):
        last += 1
    return tuple(cells[k][0][1] for k in range(first, last + 1) if kinds[k] == "row" and cells[k] and cells[k][0][1].strip())


def sibling_keys(s: ScoredSentence, r: RetrievedPassage, retrieved: Sequence[RetrievedPassage]) -> tuple[str, ...]:
    """The names of the things listed beside the one sentence ``s`` of ``r`` is about: when
    ``s`` is a table row, the first cells of its table's rows (:func:`table_keys`); else the
    section titles (the last part of :attr:`index.types.Passage.section`) of the ``retrieved``
    passages of ``r``'s document ("Annual leave", "Sick leave", "Parental leave" of a policy
    with a section per kind of leave), in retrieval order, each once."""
    keys = table_keys(s, r)
    if keys:
        return keys
    sections = [q.passage.section for q in retrieved if q.passage.doc_id == r.passage.doc_id and q.passage.section]
    return tuple(dict.fromkeys(path.split(SECTION_SEPARATOR)[-1].strip() for path in sections))
