"""Follow-up questions: whether a question refers back to the conversation, and where the
conversation is (:class:`Focus`), which :class:`assistant.retrieval.retriever.PassageRetriever` favours.

The speaker rules (:func:`quoted_speakers`, :data:`SPEAKER_WEIGHT`) read news-style
attribution; they are among the rules issue 13 ("A learned answer model") is to replace or
measure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.retrieval.signals import Contribution
from index.types import Passage, Span
from assistant.tuning import FOCUS_BONUS, SPEAKER_WEIGHT

_ANAPHORA = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|it|its|that|this|those|these|there|then|the same)\b", re.IGNORECASE
)


_EXISTENTIAL = re.compile(
    r"\b(is|are|was|were|will|would|can|could|should|has|have)\s+there\b|\bthere\s*(is|are|was|were|['’]s|will|would|has|have)\b",
    re.IGNORECASE,
)
"""Existential "there" ("Is there a dress code?", "there are two shifts"): it points at nothing."""


def is_followup(question: str, history: Sequence[str] = ()) -> bool:
    """Whether ``question`` refers back to the conversation: there is an earlier turn and the
    question has a pronoun or demonstrative ("she", "that", "there" as a place, not the
    "there" of "Is there ...?") or fewer than four words."""
    if not any(h and h.strip() for h in history):
        return False
    return bool(_ANAPHORA.search(_EXISTENTIAL.sub(" ", question)) or len(question.split()) < 4)


@dataclass(frozen=True)
class Focus:
    """Where the conversation is: the passage that answered the previous turn, and its sentence.

    A follow-up is retrieved with its own words ("How many other countries got the same
    letter that day?") and :meth:`PassageRetriever.search` adds ``FOCUS_BONUS`` to the
    sentences of the focus passage (half of it to its neighbours in the same document), so
    "that day" is read where the conversation is. Measured on the follow-ups of
    seeds/questions.jsonl: hit@3 1.0 this way, 0.67 when the previous question is prepended
    to the follow-up instead.
    """

    passage_id: str
    span: Span
    person: tuple[str, ...] = ()
    """The person the conversation is about (lower-cased name words, from the latest earlier
    turn naming one: "Who is Yuki Tatsumi?"), or ``()``."""


_PERSONAL = re.compile(r"\b(he|she|him|her|his|hers)\b", re.IGNORECASE)
_SPEAKER = re.compile(
    r"\b(?:says|said|adds|added|argues|argued|recalls|recalled|according to)\s+([A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*)"
    r"|\b([A-Z][\w’'-]+(?: [A-Z][\w’'-]+)+),?\s+(?:says|said|adds|added|argues|argued|recalls|recalled)\b"
)
"""News-style attribution: "..., says David Boling", "..., said Ishiba", "Michael Green said ..."
(a name before the verb needs two words, so "He said" and "It says" are not speakers)."""


def quoted_speakers(text: str) -> frozenset[str]:
    """Lower-cased name words of the people ``text`` attributes words to."""
    return frozenset(w.lower() for m in _SPEAKER.finditer(text) for w in (m.group(1) or m.group(2)).split())


_WORD = re.compile(r"\w+")


class FocusSignal:
    """The conversation's focus as a passage signal (:mod:`assistant.retrieval.signals`): a
    follow-up adds :data:`FOCUS_BONUS` to the sentences of the focus passage and half of it to
    its neighbours in the same document, which become candidates too; nothing when the focus
    passage is outside the searched documents."""

    def prepare(self, passages: Sequence[Passage]) -> None:
        """Nothing to read ahead."""

    def contribute(self, query: str, focus: Focus | None, passages: Sequence[Passage], by_id: dict[str, int],
                   scope: Sequence[str] | None) -> Contribution | None:
        """The bonus by passage index (see the class docstring), or None without a focus."""
        if focus is None or focus.passage_id not in by_id:
            return None
        fi = by_id[focus.passage_id]
        doc = passages[fi].doc_id
        if scope is not None and doc not in scope:
            return None
        bonus = {
            pi: b
            for pi, b in ((fi, FOCUS_BONUS), (fi - 1, FOCUS_BONUS / 2), (fi + 1, FOCUS_BONUS / 2))
            if 0 <= pi < len(passages) and passages[pi].doc_id == doc
        }
        return Contribution(lambda pi: bonus.get(pi, 0.0), tuple(bonus))


class SpeakerSignal:
    """The person a follow-up's "he"/"she" is about, as a passage signal: +:data:`SPEAKER_WEIGHT`
    for a passage quoting that person (:func:`quoted_speakers`), -:data:`SPEAKER_WEIGHT` for one
    quoting someone else and never naming them, else 0."""

    def __init__(self) -> None:
        self._speakers: list[frozenset[str]] = []

    def prepare(self, passages: Sequence[Passage]) -> None:
        """The people each passage quotes (name words), once per build."""
        self._speakers = [quoted_speakers(p.text) for p in passages]

    def contribute(self, query: str, focus: Focus | None, passages: Sequence[Passage], by_id: dict[str, int],
                   scope: Sequence[str] | None) -> Contribution | None:
        """The speaker score (see the class docstring), or None unless the question says
        "he"/"she"/... and the conversation is about a person."""
        person = set(focus.person) if focus is not None and _PERSONAL.search(query) else set()
        if not person:
            return None
        speakers = self._speakers

        def score(pi: int) -> float:
            if speakers[pi] & person:
                return SPEAKER_WEIGHT
            if speakers[pi] and not set(_WORD.findall(passages[pi].text.lower())) & person:
                return -SPEAKER_WEIGHT
            return 0.0

        return Contribution(score)
