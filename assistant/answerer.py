"""Retrieved passages -> an extractive answer: the best-supported sentences, quoted, with ``[n]`` markers.

No language model: the answer is made of sentences of the documents, so every claim is
verbatim evidence, and each quoted sentence is followed by the marker of the passage it
comes from. Citations are numbered in order of first mention; a passage quoted twice keeps
one number; there are never markers without a citation, nor citations without a marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.retriever import RetrievedPassage, ScoredSentence
from assistant.types import Citation

ABSTAIN_TEXT = "The documents do not answer this question."
"""What an abstaining answer says, plainly (SQuAD 2.0 calls this a no-answer prediction)."""


@dataclass(frozen=True)
class Draft:
    """The answerer's output before timings are attached."""

    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    related: tuple[Citation, ...]


class ExtractiveAnswerer:
    """Quote the sentences that best support an answer.

    Args:
        abstain_below: Abstain when the best sentence's cosine similarity to the question is
            below this (in [-1, 1]; see ``Settings.abstain_below`` for how it was chosen).
        max_sentences: Quote at most this many sentences.
        second_within: Quote a further sentence only if its similarity is within this much
            (cosine units) of the best one's.
    """

    def __init__(self, abstain_below: float = 0.35, max_sentences: int = 2, second_within: float = 0.05) -> None:
        self.abstain_below = abstain_below
        self.max_sentences = max_sentences
        self.second_within = second_within

    def answer(self, retrieved: Sequence[RetrievedPassage]) -> Draft:
        """Build the answer from ``retrieved`` (best first).

        Returns:
            A :class:`Draft`; ``abstained`` with :data:`ABSTAIN_TEXT` and the retrieved
            passages as ``related`` when nothing is similar enough.
        """
        scored: list[tuple[ScoredSentence, RetrievedPassage]] = [(s, r) for r in retrieved for s in r.sentences]
        if not scored:
            return Draft(ABSTAIN_TEXT, (), True, ())
        ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
        top, _ = ranked[0]
        if top.similarity < self.abstain_below:
            related = tuple(_citation(i, r, (r.best,)) for i, r in enumerate(retrieved[:3], start=1))
            return Draft(ABSTAIN_TEXT, (), True, related)
        chosen = [ranked[0]]
        for s, r in ranked[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if s.similarity >= top.similarity - self.second_within and s.similarity >= self.abstain_below:
                chosen.append((s, r))
        numbers: dict[str, int] = {}
        support: dict[str, list[ScoredSentence]] = {}
        by_id: dict[str, RetrievedPassage] = {}
        parts = []
        for s, r in chosen:
            pid = r.passage.passage_id
            n = numbers.setdefault(pid, len(numbers) + 1)
            support.setdefault(pid, []).append(s)
            by_id[pid] = r
            p = r.passage
            quote = " ".join(p.text[s.span[0] - p.start : s.span[1] - p.start].split())
            parts.append(f"{quote} [{n}]")
        citations = tuple(_citation(numbers[pid], by_id[pid], tuple(support[pid])) for pid in numbers)
        return Draft(" ".join(parts), citations, False, ())


def _citation(n: int, r: RetrievedPassage, sentences: tuple[ScoredSentence, ...]) -> Citation:
    return Citation(
        n=n,
        passage=r.passage,
        highlights=tuple(sorted(s.span for s in sentences)),
        score=max(s.similarity for s in sentences),
    )
