"""What a refusal says, in plain words: which of the question's words the documents lack.

When the answerer abstains because nothing answers (the fused-score floor or the answerability
model, :mod:`assistant.answering.answerability`), a person wants to know *what* is missing, not a score:

* some of the question's key words occur in no document: "The documents don't mention
  bereavement leave." (the question's own words, as a run of content words around the
  missing one, so "bereavement" is said as "bereavement leave");
* every key word occurs somewhere, but no sentence answers: "The documents mention annual
  leave, but none of their sentences answers this question."

Scores and thresholds go in the answer's ``abstain_detail`` (``--json``, the API), never here.
"""

from __future__ import annotations

import re

from assistant.answering.answerability import Evidence
from assistant.retrieval.lexical import SentenceLexicon

GENERIC = "The documents do not answer this question."
"""The refusal when no key word can be named (a question of stop words, no lexicon)."""

MAX_PHRASES = 3
"""Phrases named in one refusal at most; more read as a list, not a sentence."""

MAX_PHRASE_WORDS = 6
"""Words of one named phrase at most ("maximum hotel cost per night" is five): a longer run of
content words is cut after the missing word's five followers."""

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_BREAK = re.compile(r"[^\w\s'’-]")
_AUXILIARY = r"(?:do|does|did|can|could|should|will|would|may|might|must|is|are|was|were)"
_ASKING = re.compile(
    rf"\bhow\s+(?!{_AUXILIARY}\b)(?P<a>[^\W_]+)|\b{_AUXILIARY}\s+"
    r"(?:i|we|you|they|he|she|it|one|someone|anyone|employees?|users?|staff)\s+(?P<b>[^\W_]+)",
    re.I,
)
"""Words that belong to how the question asks, not to what it is about: the word after "how"
("how *many*", "how *long*") and the verb after an auxiliary and its subject ("do I *get*",
"can we *take*"). Never named as missing."""


Run = list[tuple[str, list[str]]]
"""A run of content words: each word with its terms (``[("bereavement", ["bereav"]), ("leave", ["leav"])]``)."""


def _runs(question: str, lexicon: SentenceLexicon) -> list[Run]:
    """The question's runs of content words. A run ends at a function word ("of", "do"), a
    word of how the question asks (:data:`_ASKING`) or punctuation."""
    runs: list[Run] = [[]]
    asking = {m.start(g) for m in _ASKING.finditer(question) for g in ("a", "b") if m.start(g) >= 0}
    pos = 0
    for m in _WORD.finditer(question):
        if _BREAK.search(question[pos : m.start()]):
            runs.append([])
        pos = m.end()
        terms = [] if m.start() in asking else lexicon.content_terms(m.group())
        if terms:
            runs[-1].append((m.group(), terms))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def not_mentioned(phrases: list[str]) -> str:
    """"The documents don't mention X[, Y or Z]." for ``phrases`` (at most :data:`MAX_PHRASES`, each once)."""
    return f"The documents don't mention {_join(list(dict.fromkeys(phrases))[:MAX_PHRASES], 'or')}."


def _join(items: list[str], conjunction: str = "and") -> str:
    """"X", "X and Y", "X, Y and Z" (``conjunction`` "or" after a negation: "don't mention X or Y")."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def _from_missing(run: Run, absent: set[str]) -> str:
    """The run from its first word holding an absent term, at most :data:`MAX_PHRASE_WORDS`
    words: "good recipe" says "recipe", "bereavement leave" stays whole (the words before the
    missing one are in the documents; the ones after it say what kind of thing is missing)."""
    i = next(k for k, (_, terms) in enumerate(run) if absent & set(terms))
    return " ".join(w for w, _ in run[i : i + MAX_PHRASE_WORDS])


def refusal(question: str, e: Evidence | None, lexicon: SentenceLexicon | None) -> str:
    """The sentence a person reads when no sentence answers ``question``.

    Args:
        question: The question as asked. e: Its answerability evidence (the question's content
            terms and their document frequencies), or None. lexicon: The collection's terms.

    Returns:
        "The documents don't mention X[, Y or Z]." when some of the question's content words
        occur in no document (X: the question's words from the missing one on); else "The
        documents mention X[...], but none of their sentences answers this question."; else
        :data:`GENERIC`. At most :data:`MAX_PHRASES` phrases are named.
    """
    if e is None or lexicon is None or not e.terms:
        return GENERIC
    absent = {t for t in e.terms if e.df.get(t, 0) == 0}
    runs = _runs(question, lexicon)
    missing = [_from_missing(run, absent) for run in runs if any(absent & set(terms) for _, terms in run)]
    if missing:
        return not_mentioned(missing)
    present = [" ".join(w for w, _ in run) for run in runs if len(run) <= MAX_PHRASE_WORDS]
    if present:
        return f"The documents mention {_join(list(dict.fromkeys(present))[:MAX_PHRASES])}, but none of their sentences answers this question."
    return GENERIC
