"""Types of the question-answering side: a question's :class:`Answer` and its :class:`Citation` list."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.types import Passage, Span


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited passage, numbered as its ``[n]`` marker in the answer text.

    Attributes:
        n: 1-based marker number; citations of one answer are numbered 1..len without gaps.
        passage: The cited passage (its span, lines and text are exact: see ``Passage``).
        highlights: Absolute character spans, within the passage, of the sentences that
            support the answer, in document order.
        score: Ranking score of the best supporting sentence (extractive answers: dense + 1.5 x
            lexical coverage, see :mod:`assistant.retrieval.retriever`; higher is better, about 0-3; whether
            the answer abstains is decided by :mod:`assistant.answering.answerability`). In a generated answer: the support
            score of the claims citing it, in [0, 1] (see :mod:`assistant.answering.generative`).
    """

    n: int
    passage: Passage
    highlights: tuple[Span, ...]
    score: float

    def to_dict(self) -> dict:
        """JSON-able dict in the answer schema (:class:`assistant.schema.CitationOut`)."""
        from assistant.schema import CitationOut

        return CitationOut.from_citation(self).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class Flag:
    """A sentence of a generated answer that failed verification (see :mod:`assistant.answering.generative`).

    Attributes:
        index: 0-based position of the sentence in the answer. text: The sentence, markers removed.
        kind: ``"uncited"`` (no valid ``[n]``) or ``"unsupported"`` (its cited passages do not support it).
        detail: A short English explanation.
    """

    index: int
    text: str
    kind: str
    detail: str

    def to_dict(self) -> dict:
        """JSON-able dict in the answer schema (:class:`assistant.schema.FlagOut`)."""
        from assistant.schema import FlagOut

        return FlagOut.from_flag(self).model_dump(mode="json")


@dataclass(frozen=True, slots=True)
class Answer:
    """The assistant's reply to one question.

    Attributes:
        question: The question as asked (after trimming whitespace).
        text: The answer; each claim ends with ``[n]`` markers naming ``citations``. When
            ``abstained`` it says the documents do not answer and has no markers.
        citations: Cited passages, numbered 1..len in order of first mention in ``text``.
        abstained: True when the documents do not answer the question.
        related: When abstaining, the closest passages, shown as related reading, not as evidence.
        abstain_reason: When abstaining, why, in a short English phrase (see :mod:`assistant.answering.abstention`).
        abstain_detail: When abstaining, the scores and thresholds behind it (for ``--json`` and
            the API, not for the sentence a person reads), or None.
        answerable_probability: The answerability model's probability, in [0, 1], that the
            documents answer the question (:mod:`assistant.answering.answerability`); None when an earlier
            check decided, or for a generated answer.
        generator: ``"extractive"``, or the ``ASSISTANT_LLM`` spec that wrote the text.
        flags: Sentences of a generated answer that failed verification (empty for extractive ones).
        notice: A one-line notice for the user, e.g. that the language model timed out and the
            extractive answer is shown instead; None when there is nothing to say.
        timings_ms: Wall time per stage in milliseconds (``embed``, ``retrieve``, ``answer``, ``total``).
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    related: tuple[Citation, ...] = ()
    abstain_reason: str | None = None
    abstain_detail: str | None = None
    answerable_probability: float | None = None
    generator: str = "extractive"
    flags: tuple[Flag, ...] = ()
    notice: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able dict in the answer schema (:class:`assistant.schema.AnswerOut`), as
        ``assistant ask --json`` prints and ``POST /api/ask`` returns it."""
        from assistant.schema import AnswerOut

        return AnswerOut.from_answer(self).model_dump(mode="json")
