"""The one JSON schema of an answer: ``assistant ask --json``, ``POST /api/ask`` (its enforced
``response_model``), the Gradio ``/ask`` endpoint, the feedback records and the OpenAPI page
all write :class:`AnswerOut`; the example in docs/serving.md is checked against it (tests/test_layers.py).

The dataclasses of :mod:`assistant.types` are what the code passes around; these models are
only their JSON form, built by :meth:`AnswerOut.from_answer`. Offsets are in characters
(Python string indices, half-open), lines and pages 1-based, times in milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from assistant.types import Answer, Citation, Flag


class CitationOut(BaseModel):
    """One cited passage (or, in ``related``, a passage shown as related reading)."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(description="Its [n] marker in the answer (1-based; related passages are numbered too).")
    doc_id: str = Field(description="The document's id, as `assistant docs` lists it.")
    title: str = Field(description="The document's title.")
    start: int = Field(description="Start offset in the document text (characters).")
    end: int = Field(description="End offset, exclusive (characters); document_text[start:end] == text.")
    line_start: int = Field(description="First line of the span (1-based).")
    line_end: int = Field(description="Last line of the span (1-based).")
    page_start: int | None = Field(default=None, description="PDF: first page of the span (1-based); null otherwise.")
    page_end: int | None = Field(default=None, description="PDF: last page of the span (1-based); null otherwise.")
    section: str | None = Field(default=None, description='Heading path of the span, e.g. "Leave > Sick leave"; null without headings.')
    text: str = Field(description="document_text[start:end].")
    highlights: list[tuple[int, int]] = Field(description="[start, end] spans of the quoted sentences (characters, absolute).")
    score: float = Field(
        description="Support of the best cited sentence, rounded to 4 decimals: its fused retrieval score (cosine + 1.5 x "
        "lexical coverage, about 0 to 3) with answer_model=rules, its calibrated probability in [0, 1] with "
        "answer_model=reader, the claims' support score in [0, 1] in a generated answer."
    )

    @classmethod
    def from_citation(cls, citation: Citation) -> CitationOut:
        """The JSON form of a :class:`~assistant.types.Citation`."""
        return cls(
            n=citation.n,
            **citation.passage.location(),
            text=citation.passage.text,
            highlights=[tuple(h) for h in citation.highlights],
            score=round(citation.score, 4),
        )


class FlagOut(BaseModel):
    """A sentence of a generated answer that failed verification."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="0-based position of the sentence in the answer.")
    text: str = Field(description="The sentence, markers removed.")
    kind: Literal["uncited", "unsupported"] = Field(description="No valid [n], or its cited passages do not support it.")
    detail: str = Field(description="A short English explanation.")

    @classmethod
    def from_flag(cls, flag: Flag) -> FlagOut:
        return cls(index=flag.index, text=flag.text, kind=flag.kind, detail=flag.detail)


class AnswerOut(BaseModel):
    """The answer to one question."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question as read (Unicode-normalised, whitespace folded).")
    answer: str = Field(description="The answer; each claim ends with [n] markers naming citations.")
    abstained: bool = Field(description="True when the documents do not answer; then there are no citations.")
    citations: list[CitationOut] = Field(description="The cited passages, numbered 1..N in the order the answer quotes them.")
    related: list[CitationOut] = Field(description="When abstaining, the closest passages (related reading, not evidence).")
    abstain_reason: str | None = Field(default=None, description="When abstaining, why (a short English phrase).")
    abstain_detail: str | None = Field(
        default=None, description="When abstaining, the scores and thresholds behind it, e.g. the answerable probability and its threshold."
    )
    answerable_probability: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="The answerability model's probability that the documents answer the question (null when an earlier check decided).",
    )
    generator: str = Field(default="extractive", description='"extractive", or the ASSISTANT_LLM model that wrote the text.')
    flags: list[FlagOut] = Field(default_factory=list, description="Sentences of a generated answer that failed verification.")
    notice: str | None = Field(default=None, description="A one-line notice, e.g. the model timed out and quotes are shown.")
    timings_ms: dict[str, float] = Field(
        description="Wall time per stage (context, embed, retrieve, answer, total), milliseconds rounded to 2 decimals."
    )

    @classmethod
    def from_answer(cls, answer: Answer) -> AnswerOut:
        """The JSON form of an :class:`~assistant.types.Answer`."""
        return cls(
            question=answer.question,
            answer=answer.text,
            abstained=answer.abstained,
            citations=[CitationOut.from_citation(c) for c in answer.citations],
            related=[CitationOut.from_citation(c) for c in answer.related],
            abstain_reason=answer.abstain_reason,
            abstain_detail=answer.abstain_detail,
            answerable_probability=None if answer.answerable_probability is None else round(answer.answerable_probability, 4),
            generator=answer.generator,
            flags=[FlagOut.from_flag(f) for f in answer.flags],
            notice=answer.notice,
            timings_ms={k: round(v, 2) for k, v in answer.timings_ms.items()},
        )
