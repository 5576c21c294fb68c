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
        score: Cosine similarity between the question and the best supporting sentence,
            in [-1, 1] (in practice 0..1); higher is better.
    """

    n: int
    passage: Passage
    highlights: tuple[Span, ...]
    score: float

    def to_dict(self) -> dict:
        """JSON-able dict in the ``assistant ask --json`` schema."""
        return {
            "n": self.n,
            **self.passage.location(),
            "text": self.passage.text,
            "highlights": [list(h) for h in self.highlights],
            "score": round(self.score, 4),
        }


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
        abstain_reason: When abstaining, why, in a short English phrase (see :mod:`assistant.abstention`).
        timings_ms: Wall time per stage in milliseconds (``embed``, ``retrieve``, ``answer``, ``total``).
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    related: tuple[Citation, ...] = ()
    abstain_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able dict in the ``assistant ask --json`` schema (``related`` added)."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "related": [c.to_dict() for c in self.related],
            "abstain_reason": self.abstain_reason,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
