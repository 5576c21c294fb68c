"""Abstention checks: a list of small classes, each with one :meth:`Check.verdict`, applied in
order, the same way whatever picks the sentences (rules or reader). The first that refuses
decides; see :mod:`assistant.answering.abstention` for what each reads.

Adding a check is a class with a ``name`` and a ``verdict(case)`` and one line in
:data:`CHECKS` (the list :class:`~assistant.answering.answerer.ExtractiveAnswerer` applies).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from assistant.answering import abstention
from assistant.answering.refusal import not_mentioned

if TYPE_CHECKING:
    from assistant.answering.answerability import AnswerabilityModel, Evidence
    from assistant.retrieval.lexical import SentenceLexicon


@dataclass(frozen=True)
class Verdict:
    """What the abstention checks said of a question.

    Attributes:
        check: The check that refused (see :attr:`~assistant.answering.answerer.Selection.abstain_check`), or None: answer.
        reason: Why, in plain words, or None. detail: The scores and thresholds behind it, or None.
        probability: The answerability model's probability, in [0, 1], or None when a check
            before it decided or the model is off.
        said: The sentence a person reads, when the check words it itself; None: the answerer's
            (:func:`~assistant.answering.refusal.refusal`).
    """

    check: str | None = None
    reason: str | None = None
    detail: str | None = None
    probability: float | None = None
    said: str | None = None


@dataclass
class Case:
    """What the checks read of one question.

    Attributes:
        question: The question. evidence: Its answerability evidence (candidates best fused score first).
        quotes: The candidate sentences the answer-type check reads, as quoted.
        vocabulary: Words of the documents searched (folded), for the unknown-name check.
        history: Earlier turns. lexicon: The retriever's term statistics (None: no statistics).
        abstain_below: The fused-score floor. answerable_below: The answerability threshold
            (0: the model is not asked). answerability: The fitted model.
        probability: Set by the answerability check: the model's probability, for the checks after it.
        listed: The names of the things listed beside the sentence to quote first: its table's
            rows' first cells, or the section titles of its document's retrieved passages
            (:func:`~assistant.answering.procedures.sibling_keys`); may be empty.
    """

    question: str
    evidence: Evidence
    quotes: Sequence[str]
    vocabulary: set[str] | None
    history: Sequence[str]
    lexicon: SentenceLexicon | None
    abstain_below: float
    answerable_below: float
    answerability: AnswerabilityModel
    probability: float | None = field(default=None)
    listed: Sequence[str] = ()


class Check(Protocol):
    """One abstention check: ``name`` is what :attr:`Verdict.check` says when it refuses."""

    name: str

    def verdict(self, case: Case) -> Verdict | None:
        """A refusing :class:`Verdict`, or None: this check lets the answer through."""
        ...


class Task:
    """The question asks for a task (write, translate, ...), not a fact (:func:`~assistant.answering.abstention.is_task`)."""

    name = "task"

    def verdict(self, case: Case) -> Verdict | None:
        reason = abstention.is_task(case.question)
        return Verdict(self.name, reason) if reason else None


class NoTerms:
    """A first question with no content words ("what is the"): nothing to look for."""

    name = "no_terms"

    def verdict(self, case: Case) -> Verdict | None:
        if case.lexicon is not None and not case.history and not case.lexicon.content_terms(case.question):
            return Verdict(self.name, "the question names nothing to look for (only words such as 'what', 'is', 'the')")
        return None


class UnknownName:
    """The question names someone, a role or a code ("error E99") the documents never mention."""

    name = "unknown_name"

    def verdict(self, case: Case) -> Verdict | None:
        if not case.vocabulary:
            return None
        reason = abstention.unknown_names(case.question, case.vocabulary) or abstention.unknown_role(case.question, case.vocabulary)
        if reason:
            return Verdict(self.name, reason)
        codes = abstention.missing_codes(case.question, case.vocabulary)
        if not codes:
            return None  # a code is named as the question writes it ("E99"), never with the words around it
        return Verdict(self.name, f"the documents never mention {', '.join(codes)}", said=not_mentioned(codes))


class UnlistedKind:
    """The table or the sections around the answer list kinds of a thing, and the question asks
    about a kind they do not list and no document mentions (:func:`~assistant.answering.abstention.unlisted_kind`)."""

    name = "unlisted_kind"

    def verdict(self, case: Case) -> Verdict | None:
        if not case.vocabulary or not case.listed:
            return None
        reason = abstention.unlisted_kind(case.question, case.listed, case.vocabulary)
        return Verdict(self.name, reason) if reason else None


class FusedFloor:
    """Nothing is close: the best candidate's fused score is under ``abstain_below``."""

    name = "threshold"

    def verdict(self, case: Case) -> Verdict | None:
        top = case.evidence.candidates[0]
        if top.fused >= case.abstain_below:
            return None
        return Verdict(self.name, "nothing in the documents is close to the question",
                       f"the closest sentence's fused score is {top.fused:.2f}, below the floor {case.abstain_below:.2f} (abstain_below)")


class Answerability:
    """Close, but the answerability model's probability is under ``answerable_below`` (it records the probability)."""

    name = "answerability"

    def verdict(self, case: Case) -> Verdict | None:
        from assistant.answering.answerability import features

        if not case.answerable_below > 0:
            return None
        p = case.probability = case.answerability.probability(features(case.evidence))
        if p >= case.answerable_below:
            return None
        return Verdict(self.name, "no sentence of the documents answers this",
                       f"answerable probability {p:.2f}, below the threshold {case.answerable_below:.2f} (answerable_below)", p)


class AnswerType:
    """The quoted candidates hold no answer of the kind asked (a number, a date, a name, ...)."""

    name = "answer_type"

    def verdict(self, case: Case) -> Verdict | None:
        reason = abstention.type_mismatch(case.question, list(case.quotes))
        return Verdict(self.name, reason, None, case.probability) if reason else None


CHECKS: list[Check] = [Task(), NoTerms(), UnknownName(), UnlistedKind(), FusedFloor(), Answerability(), AnswerType()]
"""The checks, in the order they are applied (the cheap question checks first)."""


def first_refusal(case: Case, checks: Sequence[Check] | None = None) -> Verdict:
    """The first of ``checks`` (default :data:`CHECKS`) that refuses, or a :class:`Verdict` with
    no check (and the answerability probability when it was computed)."""
    for check in CHECKS if checks is None else checks:
        if (v := check.verdict(case)) is not None:
            return v
    return Verdict(probability=case.probability)


class ReaderFloor:
    """The reader's own floor (answer model ``reader``): its best calibrated probability is under
    its threshold (``Settings.answer.reader_threshold``); applied after :data:`CHECKS`."""

    name = "threshold"

    def __init__(self, best: float, threshold: float) -> None:
        self.best, self.threshold = best, threshold

    def verdict(self, case: Case) -> Verdict | None:
        if self.best >= self.threshold:
            return None
        return Verdict(self.name, "no sentence answers this",
                       f"the reader's best probability is {self.best:.2f}, below its threshold {self.threshold:.2f}", case.probability)
