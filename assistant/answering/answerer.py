"""Retrieved passages -> an extractive answer: the best-supported sentences, quoted, with ``[n]`` markers.

No language model: the answer is made of sentences of the documents, so every claim is
verbatim evidence, and each quoted sentence is followed by the marker of the passage it
comes from. Citations are numbered in order of first mention; a passage quoted twice keeps
one number; there are never markers without a citation, nor citations without a marker.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.answering.answerability import AnswerabilityModel, Evidence, features
from assistant.answering.checks import CHECKS, Case, Check, ReaderFloor, Verdict, first_refusal
from assistant.answering.compose import compose
from assistant.answering.evidence import answerability_evidence, candidate_places
from assistant.answering.procedures import _another_row, lead_in_gives_way, leads_in, sibling_keys, whole_procedure
from assistant.answering.refusal import refusal
from assistant.answering.sentences import _previous, _quote, _raw, answerable_sentences, is_heading, quotable
from assistant.answering.support import SupportModel
from assistant.retrieval.lexical import SentenceLexicon
from assistant.retrieval.results import RetrievedPassage, ScoredSentence
from assistant.settings.groups import AnswerSettings
from assistant.types import Citation, Flag
from index.types import Passage

ABSTAIN_TEXT = "The documents do not answer this question."
"""What an abstaining answer says, plainly (SQuAD 2.0 calls this a no-answer prediction)."""


@dataclass(frozen=True)
class Draft:
    """The answerer's output before timings are attached."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    related: tuple[Citation, ...]
    abstain_reason: str | None = None
    abstain_detail: str | None = None
    answerable_probability: float | None = None


@dataclass(frozen=True)
class Reply:
    """What an :class:`Answerer` produced for a question, before timings are attached.

    Attributes:
        draft: The answer to show. generator: ``"extractive"``, or the language model that wrote it.
        flags: Sentences of a generated answer that failed verification.
        notice: A one-line notice (the model failed, quotes are shown instead), or None.
    """

    draft: Draft
    generator: str = "extractive"
    flags: tuple[Flag, ...] = ()
    notice: str | None = None


class AnswerContext(Protocol):
    """What an answerer may read besides the passages: the retriever that found them."""

    vocabulary: set[str]
    lexicon: SentenceLexicon | None

    def stored_embeddings(self, passages: Sequence[Passage]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]: ...


class Answerer(Protocol):
    """Retrieved passages -> the answer. :class:`ExtractiveAnswerer` quotes sentences;
    :class:`assistant.answering.generative.GenerativeAnswerer` has a language model write from them.
    :class:`assistant.Assistant` picks one at construction (``settings.llm.model``)."""

    name: str

    def rewrite(self, question: str, history: Sequence[str]) -> tuple[str | None, str | None]:
        """A follow-up made standalone: ``(question, None)``, or ``(None, notice)`` when this
        answerer does not rewrite (the retriever's focus on the previous answer is used)."""
        ...

    def reply(self, question: str, retrieved: Sequence[RetrievedPassage], context: AnswerContext, history: Sequence[str]) -> Iterator[str | Reply]:
        """Text chunks as a model writes them (none for quotes), then the :class:`Reply`."""
        ...


@dataclass(frozen=True)
class Selection:
    """What a question is answered with.

    Attributes:
        question: The question. quotes: The quoted sentences with their passages,
            best first; empty when abstaining. retrieved: The retrieved passages, best first.
        abstain_reason: Why nothing is quoted (see :mod:`assistant.answering.abstention`), or None.
        abstain_check: Which check said so: ``"no_passages"``, ``"task"``, ``"no_terms"`` (the
            question has no content words and no earlier turn), ``"unknown_name"``,
            ``"threshold"`` (nothing close), ``"answerability"`` (close, but the
            answerability model says it does not answer) or ``"answer_type"``.
        refusal: The sentence a person reads when abstaining (:func:`assistant.answering.refusal.refusal`:
            what the documents lack), or None for :data:`ABSTAIN_TEXT`.
        abstain_detail: The scores and thresholds behind the abstention, or None.
        answerable_probability: The answerability model's probability that the documents answer
            the question, in [0, 1]; None when a check before it decided (or the model is off).
        procedure: The quotes are a whole procedure (:func:`whole_procedure`): its steps are
            numbered in the answer.
    """

    question: str
    quotes: tuple[tuple[ScoredSentence, RetrievedPassage], ...]
    retrieved: tuple[RetrievedPassage, ...]
    abstain_reason: str | None = None
    abstain_check: str | None = None
    refusal: str | None = None
    abstain_detail: str | None = None
    answerable_probability: float | None = None
    procedure: bool = False


def _default(name: str):
    """The default of ``Settings.answer.<name>``: the answerer's defaults are written once, in
    :class:`~assistant.settings.groups.AnswerSettings` (with their units and sources)."""
    return AnswerSettings.model_fields[name].default


class ExtractiveAnswerer:
    """Quote the sentences that best support an answer, or abstain (see :mod:`assistant.answering.abstention`).

    Every default is the one of ``Settings.answer`` (:class:`~assistant.settings.groups.AnswerSettings`).

    Args:
        abstain_below: Abstain when the best sentence's fused score is below this: nothing is
            close (see ``Settings.answer.abstain_below`` for how it was chosen).
        answerable_below: Abstain when the answerability model's probability that the best
            sentence's question is answerable is below this (see :mod:`assistant.answering.answerability`;
            ``Settings.answer.answerable_below``).
        answerability: The fitted model; None loads ``assistant/models/answerability/`` (its ``config.json``).
        max_sentences: Quote at most this many sentences.
        second_ratio: With ``further="ratio"``, quote a further sentence only if its fused score
            is at least this fraction of the best one's (see ``Settings.second_sentence_ratio``).
        further: What decides a further sentence: ``"support"``, the support head's probability
            that it supports the answer too (:mod:`assistant.answering.support`); ``"ratio"``, its fused
            score against the best one's (the rule before the head, kept to measure it).
        support: The fitted support head; None loads ``assistant/models/support/`` (its ``config.json``).
        abstention: Abstain at all (the threshold and the checks); off only to measure them.
        unit: ``"sentence"`` quotes sentences; ``"passage"`` quotes the best passage whole and
            cites the top 3 (the usual RAG baseline, to measure sentence selection).
        reader: The cross-encoder (:class:`assistant.answering.reader.Reader`) that reranks the candidate
            sentences and decides on abstention (:meth:`select_with_reader`); None: the
            fused-score rules.
        reader_threshold: Abstain when the best calibrated probability is below this.
        reader_candidates: Sentences read per question: the best by fused score among the
            retrieved passages.
        reader_second: Quote a further sentence when its probability is at least this
            fraction of the best one's (and at least ``reader_threshold``).
    """

    def __init__(
        self,
        abstain_below: float = _default("abstain_below"),
        answerable_below: float | None = _default("answerable_below"),
        answerability: AnswerabilityModel | None = None,
        max_sentences: int = _default("max_answer_sentences"),
        second_ratio: float = _default("second_sentence_ratio"),
        further: str = "support",
        support: SupportModel | None = None,
        abstention: bool = True,
        unit: str = "sentence",
        reader=None,
        reader_threshold: float = _default("reader_threshold"),
        reader_candidates: int = _default("reader_candidates"),
        reader_second: float = _default("reader_second"),
    ) -> None:
        self.reader = reader
        self.reader_threshold = reader_threshold
        self.reader_candidates = reader_candidates
        self.reader_second = reader_second
        self.abstain_below = abstain_below
        self.answerability = answerability or AnswerabilityModel.load()
        self.answerable_below = self.answerability.threshold if answerable_below is None else answerable_below
        self.max_sentences = max_sentences
        self.second_ratio = second_ratio
        self.further = further
        self.support = support or (SupportModel.load() if further == "support" else None)
        self.abstention = abstention
        self.unit = unit

    name = "extractive"

    def rewrite(self, question: str, history: Sequence[str]) -> tuple[str | None, str | None]:
        """Quotes never rewrite a follow-up: ``(None, None)``."""
        return None, None

    def reply(self, question: str, retrieved: Sequence[RetrievedPassage], context: AnswerContext, history: Sequence[str]) -> Iterator[Reply]:
        """The quoted answer (one :class:`Reply`; see :meth:`answer`)."""
        yield Reply(self.answer(question, retrieved, context.vocabulary, history, context.lexicon))

    def answer(
        self, question: str, retrieved: Sequence[RetrievedPassage], vocabulary: set[str] | None = None, history: Sequence[str] = (),
        lexicon: SentenceLexicon | None = None,
    ) -> Draft:
        """Build the answer to ``question`` from ``retrieved`` (best first): :meth:`select` then :meth:`compose`.

        Args:
            vocabulary: Words of all documents, folded (:func:`assistant.answering.abstention.fold`), for the unknown-name check.
            lexicon: The retriever's term statistics, for the answerability features (None:
                every question term weighs the same).

        Returns:
            A :class:`Draft`; when abstaining, :data:`ABSTAIN_TEXT` with the retrieved passages
            as ``related`` and the reason in ``abstain_reason``.
        """
        return self.compose(self.select(question, retrieved, vocabulary, history, lexicon))

    def select(
        self, question: str, retrieved: Sequence[RetrievedPassage], vocabulary: set[str] | None = None, history: Sequence[str] = (),
        lexicon: SentenceLexicon | None = None,
    ) -> Selection:
        """Choose the sentences to quote for ``question``: the candidate the support head finds
        most likely to hold the answer, then up to ``max_sentences - 1`` more that add to it
        (:meth:`_order`; another row of the
        best row's table only when it matches the question as well, :func:`_another_row`; never
        a sentence that leads into a table or list, :func:`leads_in`), or
        the whole procedure the best sentence belongs to when the question asks how
        (:func:`whole_procedure`); a sentence that leads into a table or list gives way to its
        best row or item (:func:`lead_in_gives_way`); or abstain. The answer-type check
        (:func:`assistant.answering.abstention.type_mismatch`) reads the best sentence by fused score and
        those scoring at least ``second_ratio`` of it, whatever is quoted. (The quotation
        pairing after a reported claim and the answer-type lead were removed: neither improved
        any question set, see ``benchmarks/rule_ablation.py``.)"""
        scored = answerable_sentences(retrieved)
        if not scored:
            return Selection(question, (), tuple(retrieved), "no passages", "no_passages")
        if self.reader is not None and self.unit == "sentence":
            return self.select_with_reader(question, retrieved, scored, history, vocabulary, lexicon)
        ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
        ev = answerability_evidence(question, ranked, lexicon)  # once: for the models and for what a refusal says
        # a follow-up's fused score carries the conversation's focus (assistant.retrieval.followup), which the
        # support head, fitted on single questions, never saw: its best by fused score stays first
        kept, fixed = quotable(question, ranked, lexicon)  # never a label that restates the question; an acronym's expansion first
        quoting, further = self._order(ev if kept is ranked else answerability_evidence(question, kept, lexicon), kept, keep_first=bool(history) or fixed)
        led = lead_in_gives_way(quoting, question)
        gave_way = led is not quoting
        if gave_way:  # a row or item took the lead-in's place: further sentences are judged against it
            quoting, further = led, self._order(answerability_evidence(question, led, lexicon), led, keep_first=True)[1]
        chosen = procedure = whole_procedure(question, *quoting[0])
        if not chosen:
            chosen = [quoting[0]]
            for (s, r), adds in zip(quoting[1:], further):
                if len(chosen) >= self.max_sentences:
                    break
                if adds and not is_heading(_quote(s, r)) and not _another_row(chosen[0], (s, r)) and leads_in(s, r) is None:
                    chosen.append((s, r))
        # the answer-type check reads the best sentence by fused score and those near it (at least
        # second_ratio of its score), whatever is quoted: how many sentences are quoted must not
        # change what is refused
        near = [ranked[0]] + [sr for sr in ranked[1:] if sr[0].fused >= self.second_ratio * ranked[0][0].fused and not is_heading(_quote(*sr))]
        checked = near[: self.max_sentences] + ([quoting[0]] if gave_way else [])  # and a row or item that took a lead-in's place
        listed = sibling_keys(*quoting[0], retrieved)  # what a table or the sections list beside the quote
        v = self._verdict(question, ev, [_quote(s, r) for s, r in checked], vocabulary, history, lexicon, listed=listed)
        said = v.said or (refusal(question, ev, lexicon) if v.check in _SAYS_WHAT_IS_MISSING else None)
        quotes = () if v.reason else tuple(chosen)
        return Selection(question, quotes, tuple(retrieved), v.reason, v.check, said, v.detail, v.probability,
                         procedure=bool(quotes) and chosen is procedure)

    def select_with_reader(
        self, question: str, retrieved: Sequence[RetrievedPassage], scored: list, history: Sequence[str] = (),
        vocabulary: set[str] | None = None, lexicon: SentenceLexicon | None = None,
    ) -> Selection:
        """The reader's choice: the ``reader_candidates`` best sentences by fused score are read
        with the question (each with its document's title and the sentence before it; the
        conversation's last earlier turn, if any, as context too), ranked by the probability of
        the learned fusion of the reader's score with the retriever's
        (:meth:`~assistant.answering.reader.Reader.fused_probabilities`); the best is quoted, and
        up to ``max_sentences - 1`` more whose probability is at least ``reader_second`` of it
        and at least ``reader_threshold``. The abstention checks are those of the rules
        (:data:`~assistant.answering.checks.CHECKS`, the answer type read on the reader's
        choice), then the reader's own floor: abstain when its best probability is under
        ``reader_threshold``."""
        from assistant.answering.reader import Candidate

        by_fused = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
        ranked = by_fused[: self.reader_candidates]
        candidates = [Candidate(_raw(s, r), r.passage.title, _previous(s, r)) for s, r in ranked]
        logits = self.reader.logits(question, candidates, " ".join(history[-1:]))
        probs = self.reader.fused_probabilities(
            logits, [s.fused for s, _ in ranked], [s.similarity for s, _ in ranked], [s.coverage for s, _ in ranked]
        )
        read = sorted(
            ((replace(s, probability=float(p)), r) for (s, r), p in zip(ranked, probs)), key=lambda sr: -sr[0].probability
        )
        top, _ = read[0]
        chosen = [read[0]]
        for s, r in read[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if s.probability >= max(self.reader_threshold, self.reader_second * top.probability) and not is_heading(_quote(s, r)):
                chosen.append((s, r))
        ev = answerability_evidence(question, by_fused, lexicon)
        floor = ReaderFloor(top.probability, self.reader_threshold)
        listed = sibling_keys(*read[0], retrieved)
        v = self._verdict(question, ev, [_quote(s, r) for s, r in chosen], vocabulary, history, lexicon, [floor], listed)
        said = v.said or (refusal(question, ev, lexicon) if v.check in _SAYS_WHAT_IS_MISSING else None)
        quotes = () if v.reason else tuple(chosen)
        return Selection(question, quotes, tuple(retrieved), v.reason, v.check, said, v.detail, v.probability)

    def compose(self, selection: Selection) -> Draft:
        """The answer text and citations for ``selection`` (:func:`assistant.answering.compose.compose`)."""
        return compose(selection, self.unit)

    def _order(
        self, ev: Evidence, ranked: list[tuple[ScoredSentence, RetrievedPassage]], keep_first: bool = False
    ) -> tuple[list[tuple[ScoredSentence, RetrievedPassage]], list[bool]]:
        """The candidates in quoting order, and whether each of the next ones adds to the answer.

        With the support head (:mod:`assistant.answering.support`): the candidate of ``ev`` it finds most
        likely to hold the answer goes first (unless ``keep_first``), and a further candidate
        adds when its probability is at least ``share`` of the first one's
        (:meth:`~assistant.answering.support.SupportModel.further`). With ``further="ratio"``: fused-score
        order, and a further candidate adds when its fused score is at least ``second_ratio`` of
        the best one's.

        Returns:
            ``(quoting, adds)``: ``ranked`` reordered, and one bool for each of ``quoting[1:]``
            among the candidates of ``ev`` (at most ``len(ev.candidates) - 1``).
        """
        if self.further == "ratio":
            return ranked, [c.fused >= self.second_ratio * ev.candidates[0].fused for c in ev.candidates[1:]]
        probs = self.support.probabilities(ev, candidate_places(ranked[: len(ev.candidates)]))
        j = 0 if keep_first else max(range(len(probs)), key=probs.__getitem__)
        order = [j, *(i for i in range(len(probs)) if i != j)]
        quoting = [ranked[i] for i in order] + list(ranked[len(probs) :])
        return quoting, self.support.further([probs[i] for i in order])

    def refuse_before_generation(self, selection: Selection) -> bool:
        """Whether to abstain without asking a language model: the question is a task, names
        someone unknown, or nothing scores above the threshold (the answer-type check is left
        to the model, which reads whole passages rather than the quoted sentences)."""
        return selection.abstain_check in {"no_passages", "task", "no_terms", "unknown_name", "unlisted_kind", "threshold"}

    def answerable_probability(self, ev: Evidence) -> float:
        """The answerability model's probability, in [0, 1], that the documents answer the
        question of ``ev`` (:func:`answerability_evidence`; see :mod:`assistant.answering.answerability`)."""
        return self.answerability.probability(features(ev))

    def _verdict(
        self, question: str, ev: Evidence, quotes: list[str], vocabulary: set[str] | None, history: Sequence[str],
        lexicon: SentenceLexicon | None, extra: Sequence[Check] = (), listed: Sequence[str] = (),
    ) -> Verdict:
        """The first of :data:`~assistant.answering.checks.CHECKS` (then ``extra``, a model's own
        checks) that says abstain, or a :class:`Verdict` with no check (with the answerability
        probability when it was computed); no check at all with ``abstention`` off."""
        if not self.abstention:
            return Verdict()
        case = Case(question, ev, quotes, vocabulary, history, lexicon, self.abstain_below, self.answerable_below, self.answerability,
                    listed=listed)
        return first_refusal(case, [*CHECKS, *extra])


_SAYS_WHAT_IS_MISSING = {"unknown_name", "unlisted_kind", "threshold", "answerability"}
"""Checks whose refusal names what the documents lack (:func:`assistant.answering.refusal.refusal`): "The
documents don't mention bereavement leave."; the others (a task, an answer of the wrong type)
say why in ``abstain_reason`` under :data:`ABSTAIN_TEXT`."""
