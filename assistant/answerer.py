"""Retrieved passages -> an extractive answer: the best-supported sentences, quoted, with ``[n]`` markers.

No language model: the answer is made of sentences of the documents, so every claim is
verbatim evidence, and each quoted sentence is followed by the marker of the passage it
comes from. Citations are numbered in order of first mention; a passage quoted twice keeps
one number; there are never markers without a citation, nor citations without a marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.answering.abstention import is_task, type_mismatch, unknown_names, unknown_role
from assistant.answering.answerability import TOP_SENTENCES, AnswerabilityModel, Candidate, Evidence, evidence, features
from assistant.markers import escape_footnotes
from assistant.answering.refusal import refusal
from assistant.answering.support import Placed, SupportModel
from assistant.retrieval.lexical import SentenceLexicon
from assistant.retrieval.retriever import RetrievedPassage, ScoredSentence
from assistant.settings.groups import AnswerSettings
from assistant.types import Citation, Flag
from index.types import Passage, row_text

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


@dataclass(frozen=True)
class Verdict:
    """What the abstention checks said of a question (:meth:`ExtractiveAnswerer.select`).

    Attributes:
        check: The check that refused (see :attr:`Selection.abstain_check`), or None: answer.
        reason: Why, in plain words, or None. detail: The scores and thresholds behind it, or None.
        probability: The answerability model's probability, in [0, 1], or None when a check
            before it decided or the model is off.
    """

    check: str | None = None
    reason: str | None = None
    detail: str | None = None
    probability: float | None = None


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
        answerability: The fitted model; None loads ``assistant/models/answerability.json``.
        max_sentences: Quote at most this many sentences.
        second_ratio: With ``further="ratio"``, quote a further sentence only if its fused score
            is at least this fraction of the best one's (see ``Settings.second_sentence_ratio``).
        further: What decides a further sentence: ``"support"``, the support head's probability
            that it supports the answer too (:mod:`assistant.answering.support`); ``"ratio"``, its fused
            score against the best one's (the rule before the head, kept to measure it).
        support: The fitted support head; None loads ``assistant/models/support.json``.
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
            return self.select_with_reader(question, retrieved, scored, history)
        ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
        ev = answerability_evidence(question, ranked, lexicon)  # once: for the models and for what a refusal says
        # a follow-up's fused score carries the conversation's focus (assistant.retrieval.followup), which the
        # support head, fitted on single questions, never saw: its best by fused score stays first
        quoting, further = self._order(ev, ranked, keep_first=bool(history))
        led = lead_in_gives_way(quoting)
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
        v = self._verdict(question, ev, [_quote(s, r) for s, r in checked], vocabulary, history, lexicon)
        said = refusal(question, ev, lexicon) if v.check in _SAYS_WHAT_IS_MISSING else None
        quotes = () if v.reason else tuple(chosen)
        return Selection(question, quotes, tuple(retrieved), v.reason, v.check, said, v.detail, v.probability,
                         procedure=bool(quotes) and chosen is procedure)

    def select_with_reader(
        self, question: str, retrieved: Sequence[RetrievedPassage], scored: list, history: Sequence[str] = ()
    ) -> Selection:
        """The reader's choice: the ``reader_candidates`` best sentences by fused score are read
        with the question (each with its document's title and the sentence before it; the
        conversation's last earlier turn, if any, as context too), ranked by the probability of
        the learned fusion of the reader's score with the retriever's
        (:meth:`~assistant.answering.reader.Reader.fused_probabilities`); the best is quoted, and up to ``max_sentences - 1`` more whose probability
        is at least ``reader_second`` of it and at least ``reader_threshold``. Abstains when the
        best probability is under ``reader_threshold``."""
        from assistant.answering.reader import Candidate

        ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))[: self.reader_candidates]
        candidates = [Candidate(_raw(s, r), r.passage.title, _previous(s, r)) for s, r in ranked]
        logits = self.reader.logits(question, candidates, " ".join(history[-1:]))
        probs = self.reader.fused_probabilities(
            logits, [s.fused for s, _ in ranked], [s.similarity for s, _ in ranked], [s.coverage for s, _ in ranked]
        )
        read = sorted(
            ((replace(s, probability=float(p)), r) for (s, r), p in zip(ranked, probs)), key=lambda sr: -sr[0].probability
        )
        top, _ = read[0]
        if self.abstention and top.probability < self.reader_threshold:
            detail = f"the reader's best probability is {top.probability:.2f}, below its threshold {self.reader_threshold:.2f}"
            return Selection(question, (), tuple(retrieved), "no sentence answers this", "threshold", None, detail)
        chosen = [read[0]]
        for s, r in read[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if s.probability >= max(self.reader_threshold, self.reader_second * top.probability) and not is_heading(_quote(s, r)):
                chosen.append((s, r))
        return Selection(question, tuple(chosen), tuple(retrieved))

    def compose(self, selection: Selection) -> Draft:
        """The answer text and citations for ``selection``: each quote followed by its
        passage's ``[n]``; a passage quoted twice keeps one number with both highlights. The
        steps of a procedure (``item`` sentences) are numbered, each on a line of its own, as
        are notes."""
        if not selection.quotes:
            related = tuple(_citation(i, r, (r.best,)) for i, r in enumerate(selection.retrieved[:3], start=1))
            return Draft(selection.refusal or ABSTAIN_TEXT, (), True, related, selection.abstain_reason, selection.abstain_detail,
                         selection.answerable_probability)
        if self.unit == "passage":
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
            new_step = selection.procedure and kind == "item" and (previous != "item" or begins_line(s, r))
            step = step + new_step if kind == "item" and selection.procedure else 0
            quote = f"{step}. {_quote(s, r)}" if new_step else _quote(s, r)
            # the steps of a procedure (numbered) and its notes go on lines of their own; a
            # step's further sentences follow it on its line
            own_line = selection.procedure and (new_step or "note" in (kind, previous))
            text += ("\n" if own_line else " ") * bool(text) + f"{quote} [{n}]"
            previous = kind
        citations = tuple(_citation(numbers[pid], by_id[pid], tuple(support[pid])) for pid in numbers)
        return Draft(text, citations, False, (), answerable_probability=selection.answerable_probability)

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
        return selection.abstain_check in {"no_passages", "task", "no_terms", "unknown_name", "threshold"}

    def answerable_probability(self, ev: Evidence) -> float:
        """The answerability model's probability, in [0, 1], that the documents answer the
        question of ``ev`` (:func:`answerability_evidence`; see :mod:`assistant.answering.answerability`)."""
        return self.answerability.probability(features(ev))

    def _verdict(
        self, question: str, ev: Evidence, quotes: list[str],
        vocabulary: set[str] | None, history: Sequence[str], lexicon: SentenceLexicon | None,
    ) -> Verdict:
        """The first check that says abstain, in the order of :mod:`assistant.answering.abstention`, or a
        :class:`Verdict` with no check (with the answerability probability when it was computed)."""
        if not self.abstention:
            return Verdict()
        if reason := is_task(question):
            return Verdict("task", reason)
        if lexicon is not None and not history and not lexicon.content_terms(question):
            return Verdict("no_terms", "the question names nothing to look for (only words such as 'what', 'is', 'the')")
        if vocabulary and (reason := unknown_names(question, vocabulary) or unknown_role(question, vocabulary)):
            return Verdict("unknown_name", reason)
        top = ev.candidates[0]
        if top.fused < self.abstain_below:
            return Verdict("threshold", "nothing in the documents is close to the question",
                           f"the closest sentence's fused score is {top.fused:.2f}, below the floor {self.abstain_below:.2f} (abstain_below)")
        probability = self.answerable_probability(ev) if self.answerable_below > 0 else None
        if probability is not None and probability < self.answerable_below:
            return Verdict("answerability", "no sentence of the documents answers this",
                           f"answerable probability {probability:.2f}, below the threshold {self.answerable_below:.2f} (answerable_below)",
                           probability)
        if reason := type_mismatch(question, quotes):
            return Verdict("answer_type", reason, None, probability)
        return Verdict(probability=probability)


_SAYS_WHAT_IS_MISSING = {"unknown_name", "threshold", "answerability"}
"""Checks whose refusal names what the documents lack (:func:`assistant.answering.refusal.refusal`): "The
documents don't mention bereavement leave."; the others (a task, an answer of the wrong type)
say why in ``abstain_reason`` under :data:`ABSTAIN_TEXT`."""


def answerability_evidence(
    question: str, ranked: Sequence[tuple[ScoredSentence, RetrievedPassage]], lexicon: SentenceLexicon | None
) -> Evidence:
    """The :class:`~assistant.answering.answerability.Evidence` of ``question`` and its ``ranked`` candidate
    sentences (best fused score first, at least one): question terms are its content terms
    (:meth:`~assistant.retrieval.lexical.SentenceLexicon.content_terms`), a candidate's terms those of the
    sentence and the sentence before it, and of its whole passage. Without ``lexicon``, words
    split on whitespace and every term weighs the same."""
    if lexicon is not None:
        terms, asked, df, n = lexicon.terms, lexicon.content_terms, lexicon.document_frequencies, lexicon.size
    else:
        terms = asked = lambda text: list(dict.fromkeys(text.lower().split()))  # noqa: E731
        df, n = {}, 0
    passage_terms: dict[str, frozenset[str]] = {}
    candidates = []
    for s, r in ranked[:TOP_SENTENCES]:
        pid = r.passage.passage_id
        if pid not in passage_terms:
            passage_terms[pid] = frozenset(terms(r.before + " " + r.passage.text))
        sentence = _raw(s, r)
        candidates.append(Candidate(frozenset(terms(sentence)) | frozenset(terms(_previous(s, r))), passage_terms[pid],
                                    s.fused, s.similarity, s.coverage, sentence))
    asked_terms = asked(question)
    held = lexicon.in_document(asked_terms, ranked[0][1].passage.doc_id) if lexicon is not None else None
    return evidence(question, asked_terms, df, n, candidates, held)


def candidate_places(ranked: Sequence[tuple[ScoredSentence, RetrievedPassage]]) -> list[Placed]:
    """Where each of ``ranked``'s sentences sits: its passage and its index among the passage's
    sentences (for :mod:`assistant.answering.support`'s features)."""
    return [Placed(r.passage.passage_id, r.passage.sentences.index(s.span)) for s, r in ranked]


def answerability_features(
    question: str, ranked: Sequence[tuple[ScoredSentence, RetrievedPassage]], lexicon: SentenceLexicon | None
) -> dict[str, float]:
    """:func:`assistant.answering.answerability.features` of :func:`answerability_evidence`."""
    return features(answerability_evidence(question, ranked, lexicon))


_HEADING = re.compile(r"^\s*#|^[^.!?:;”\"’)]*$")


_SECTION_HEADING = re.compile(r"^\s*(?:#|\d+(?:\.\d+)+\.?\s+\S|\d+\s+[A-Z])")
"""A Markdown heading ("## Staff network") or a numbered section heading ("4.2 Resetting the
router", "2 Results"); a list item's "1." or "2)" is not one."""


def is_section_heading(sentence: str, title: str = "") -> bool:
    """Whether ``sentence`` heads a section rather than saying something: a Markdown heading; a
    numbered heading of at most eight words without closing punctuation ("4.2 Resetting to
    factory settings"); or the document's title line (``title``, ``#`` and case aside)."""
    text = " ".join(sentence.split())
    if _is_title_line(text, title) or text.startswith("#"):
        return True
    return bool(_SECTION_HEADING.match(text)) and len(text.split()) <= 8 and not re.search(r"[.!?:;]$", text)


def _is_title_line(sentence: str, title: str) -> bool:
    """Whether ``sentence`` is the document's title (whitespace, a Markdown ``#`` and case aside)
    and reads as one, without closing punctuation: a plain-text file's title is its first line,
    which may be a sentence that says something ("Every employee receives 25 days of leave.")."""
    text = " ".join(sentence.split()).lstrip("# ")
    return bool(title) and not re.search(r"[.!?:;]$", text) and text.casefold() == " ".join(title.split()).lstrip("# ").casefold()


def _names_a_section(sentence: str, section: str | None) -> bool:
    """Whether ``sentence`` is one of the headings of the passage's section path (``"Leave >
    Sick leave"``, from the document's own structure: HTML ``<h2>``, DOCX heading styles)."""
    text = " ".join(sentence.split()).casefold()
    return bool(section) and any(text == " ".join(h.split()).casefold() for h in section.split(" > "))


def answerable_sentences(retrieved: Sequence[RetrievedPassage]) -> list[tuple[ScoredSentence, RetrievedPassage]]:
    """The sentences that may be quoted, with their passages, in retrieval order.

    A sentence of a document that is itself a question ("How do I connect to the VPN?" in an
    FAQ, a question heading in a manual) repeats the user's words without answering them: it
    is never quoted. It gives way to the sentence after it in its passage, which takes the
    better of the two sentences' scores (fused, cosine, coverage): the document's own answer
    to its own question. A section heading (:func:`is_section_heading`: "## Staff network",
    "4.2 Resetting to factory settings"; or a heading of the passage's section path) gives way
    the same way, to the first sentence of its section. The document's title line is never
    quoted and gives nothing: it matches every question about the document's subject. A
    question or heading that ends its passage is dropped. Where ingest marked a sentence's kind
    (:attr:`index.types.Passage.kinds`), a ``title`` or a table's ``header`` row is never quoted
    and a ``heading`` gives way; the text rules above remain for what ingest did not mark.
    """
    out: list[tuple[ScoredSentence, RetrievedPassage]] = []
    for r in retrieved:
        carried: ScoredSentence | None = None
        for s in r.sentences:
            if carried is not None:
                s = replace(s, fused=max(s.fused, carried.fused), similarity=max(s.similarity, carried.similarity), coverage=max(s.coverage, carried.coverage))
                carried = None
            raw = _raw(s, r)
            kind = kind_of(s, r)
            if kind in ("title", "header") or _is_title_line(raw, r.passage.title):
                continue
            if kind == "heading" or raw.rstrip().endswith("?") or is_section_heading(raw) or _names_a_section(raw, r.passage.section):
                carried = s
                continue
            out.append((s, r))
    return out


_ASKS_HOW = re.compile(
    r"^\s*(?:how\s+(?:do|does|can|could|should|would|must|may|will|to)\b|how\s+i\b"
    r"|what\s+(?:are\s+)?(?:the\s+)?steps\b|what\s+(?:do|should|must)\s+(?:i|we|you)\s+do\b)"
    r"|\b(?:steps|instructions|procedure)\s+(?:to|for)\b",
    re.I,
)
"""A question that asks for a procedure: "How do I reset…?", "How to…", "What are the steps…",
"What should I do…", "…the steps to/for…", "…instructions for…" (English question structure)."""

MAX_PROCEDURE_STEPS = 12
"""Steps quoted of one procedure at most (count): a longer list is quoted up to here."""

MAX_PROCEDURE_CHARS = 1500
"""Characters quoted of one procedure at most, notes included (about a screen of the chat)."""


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


def lead_in_gives_way(ranked: list[tuple[ScoredSentence, RetrievedPassage]]) -> list[tuple[ScoredSentence, RetrievedPassage]]:
    """``ranked`` (best first), with the best sentence giving way when it leads into a table or
    a list ("The table below lists each kind of paid leave…", "The light on the front panel
    shows what the router is doing."): the best-ranked row or item of the table or list right
    after it (header rows skipped) moves to the front. A lead-in describes the data; the row or
    item holds it. ``ranked`` itself when nothing moves."""
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
            return [ranked[n], *ranked[:n], *ranked[n + 1 :]]
    return ranked


def _another_row(best: tuple[ScoredSentence, RetrievedPassage], other: tuple[ScoredSentence, RetrievedPassage]) -> bool:
    """Whether ``other`` is another row of the table of ``best``, a row, that matches the
    question's words less well (lower lexical coverage): the rows of a table are alternatives,
    and only those matching as well ("Which printers print in colour?") answer too."""
    (s, r), (t, q) = best, other
    return (q.passage.passage_id == r.passage.passage_id and kind_of(s, r) == "row" and kind_of(t, q) == "row"
            and t.coverage < s.coverage)


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
