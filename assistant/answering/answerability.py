"""Do the documents hold the fact the question asks for? A small learned model, fitted on the fit documents.

Two kinds of unanswerable question come close to the documents:

* **On-topic gaps**, the kind users ask most: the documents are on the question's topic, but
  the fact is not in them ("How many days of bereavement leave?" of a policy that lists only
  sick and annual leave). Some of the question's key terms are then absent from the best
  sentence, from its passage, from the best few sentences, or from every document.
* **SQuAD 2.0's adversarial questions** (Rajpurkar, Jia & Liang 2018), written against a
  paragraph to reuse its words: an entity swapped, an antonym, a negation the paragraph lacks.

The decision reads features (:data:`FEATURE_DOCS`) of the question and the retrieved candidates
with logistic heads, one per kind (:data:`HEADS`; the shipped model uses ``near_miss`` only), fitted by
``benchmarks/fit_answerability.py`` on the **fit** documents of the committed split
(``benchmarks/data/split.json``): ``near_miss`` on SQuAD 2.0's unanswerable questions, ``gap``
on the gap question sets of ``benchmarks/make_gap_sets.py`` (every other paragraph dropped,
its questions kept as unanswerable when the kept half does not hold their answer), each
against the answerable questions of SQuAD 2.0, SQuAD 1.1 and PolicyQA. The answerable
probability is the product of the heads' (a question is answerable when it is none of the kinds).
It is stored in ``assistant/models/answerability/config.json`` with its provenance, SHA-256 and
measured results (``assistant/models/answerability/MODEL_CARD.md``). Its output is the probability that
the question is answerable; the answerer abstains below ``Settings.answer.answerable_below``.
Weights are bounded in sign (a closer sentence never lowers the probability, a missing term
never raises it): unbounded, the fit learns SQuAD 2.0's construction, whose unanswerable
questions reuse the paragraph's words. Off-topic questions are the fused-score floor's
(``Settings.answer.abstain_below``), which runs first.

Terms are the retriever's BM25 terms (English stop words removed, Snowball stems); a question's
*content* terms also drop NLTK's stop words ("when", "did", "who" say what is asked, not about
what). A term weighs its Lucene IDF over the collection's sentences. Shares are in [0, 1].
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answering.model_home import CONFIG, check_sha256, home, loading, read_config
from assistant.retrieval.lexical import idf
from assistant.tuning import TOP_SENTENCES

MODEL_PATH = home("answerability") / CONFIG
"""The fitted weights, written by ``benchmarks/fit_answerability.py``."""


_NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|neither|nor|without|cannot)\b|n't\b|n’t\b", re.I)


@dataclass(frozen=True)
class Candidate:
    """One candidate sentence, as the features see it.

    Attributes:
        terms: BM25 terms of the sentence and the sentence before it.
        passage_terms: BM25 terms of its whole passage (and the sentence before the passage).
        fused, similarity, coverage: its retrieval scores (``ScoredSentence``; similarity is a
            cosine in [-1, 1]). text: the sentence, for the negation feature.
    """

    terms: frozenset[str]
    passage_terms: frozenset[str]
    fused: float
    similarity: float
    coverage: float
    text: str


@dataclass(frozen=True)
class Evidence:
    """What the answerability features read of one question: plain data, so that a fitting
    script can cache it and compute the same features as the answerer.

    Attributes:
        question: The question's text. terms: its distinct content terms.
        df: Sentence document frequency of each of ``terms`` in the collection (0: no sentence
            of any document holds it). n: Sentences in the collection.
        candidates: At most :data:`TOP_SENTENCES`, best fused score first (never empty).
        in_document: The ``terms`` that the best candidate's document holds anywhere.
    """

    question: str
    terms: tuple[str, ...]
    df: dict[str, int]
    n: int
    candidates: tuple[Candidate, ...]
    in_document: frozenset[str] = frozenset()


def _missing(weights: dict[str, float], have: frozenset[str] | set[str]) -> tuple[float, float]:
    """(IDF share of the weighted terms not in ``have``, largest missing IDF)."""
    total = sum(weights.values())
    gone = [w for t, w in weights.items() if t not in have]
    return (sum(gone) / total if total > 0 else 0.0), max(gone, default=0.0)


FEATURE_DOCS = {
    "fused": "the best sentence's fused retrieval score (cosine + bm25_weight * coverage)",
    "similarity": "the best sentence's cosine to the question",
    "coverage": "the best sentence's lexical coverage of the question",
    "margin": "fused score of the best sentence minus that of the second best",
    "missing": "IDF share of the question's content terms in neither the best sentence nor the one before it",
    "missing_passage": "IDF share missing from the best sentence's whole passage",
    "missing_top": f"IDF share missing from all of the best {TOP_SENTENCES} sentences (each with the one before it)",
    "missing_index": "IDF share of the content terms that no sentence of the collection holds",
    "missing_document": "IDF share of the content terms that the best sentence's document does not hold anywhere",
    "rarest_missing": "IDF of the rarest term missing from the best sentence, as a share of the largest IDF possible",
    "rarest_missing_top": f"IDF of the rarest term missing from all of the best {TOP_SENTENCES} sentences, as that share",
    "terms": "number of distinct content terms of the question (count)",
    "negation": "1 when the question has a negation and the best sentence has none, else 0",
}
"""Every feature :func:`features` computes, with what it measures."""


def features(e: Evidence) -> dict[str, float]:
    """Every feature of :data:`FEATURE_DOCS` for one question's :class:`Evidence` (a model uses
    those named in its file)."""
    top = e.candidates[0]
    weights = {t: idf(e.df.get(t, 0), e.n) for t in e.terms}
    ceiling = idf(0, e.n) if e.n else 1.0
    missing, rarest = _missing(weights, top.terms)
    missing_top, rarest_top = _missing(weights, frozenset().union(*(c.terms for c in e.candidates)))
    missing_index, _ = _missing(weights, {t for t in e.terms if e.df.get(t, 0) > 0})
    missing_document, _ = _missing(weights, e.in_document)
    second = e.candidates[1].fused if len(e.candidates) > 1 else 0.0
    return {
        "fused": top.fused,
        "similarity": top.similarity,
        "coverage": top.coverage,
        "margin": top.fused - second,
        "missing": missing,
        "missing_passage": _missing(weights, top.passage_terms)[0],
        "missing_top": missing_top,
        "missing_index": missing_index,
        "missing_document": missing_document,
        "rarest_missing": rarest / ceiling if ceiling > 0 else 0.0,
        "rarest_missing_top": rarest_top / ceiling if ceiling > 0 else 0.0,
        "terms": float(len(e.terms)),
        "negation": float(bool(_NEGATION.search(e.question)) and not _NEGATION.search(top.text)),
    }


@dataclass(frozen=True)
class Head:
    """One logistic regression on standardised features: ``sigmoid(bias + sum(w * (x - mean) / scale))``.

    Attributes:
        features: the feature names, a subset of :data:`FEATURE_DOCS`, in weight order.
        weights, mean, scale: one value per feature. bias: the intercept.
    """

    features: tuple[str, ...]
    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float

    def probability(self, values: dict[str, float]) -> float:
        """The head's probability, in [0, 1], from :func:`features`' output."""
        x = np.array([values[f] for f in self.features], dtype=np.float64)
        z = self.bias + float(np.dot(self.weights, (x - np.array(self.mean)) / np.array(self.scale)))
        return 1.0 / (1.0 + math.exp(-z))

    def content(self) -> list:
        return [list(self.features), list(self.weights), list(self.mean), list(self.scale), self.bias]

    @classmethod
    def from_json(cls, h: dict, known: dict, name: str = "head") -> Head:
        """A head from its JSON object (``features``, ``weights``, ``mean``, ``scale``, ``bias``).

        Raises:
            ValueError: it names a feature not in ``known``, or its lists differ in length.
            KeyError, TypeError: a key is missing or of the wrong type.
        """
        head = cls(tuple(h["features"]), tuple(map(float, h["weights"])), tuple(map(float, h["mean"])),
                   tuple(map(float, h["scale"])), float(h["bias"]))
        unknown = [f for f in head.features if f not in known]
        if unknown:
            raise ValueError(f"{name} names unknown features {unknown}")
        if not len(head.features) == len(head.weights) == len(head.mean) == len(head.scale):
            raise ValueError(f"{name}: features, weights, mean and scale differ in length")
        return head


HEADS = ("near_miss", "gap")
"""The heads a model may have, one per kind of unanswerable question (module docstring):
``near_miss`` is fitted on SQuAD 2.0's unanswerable questions against the answerable ones,
``gap`` on the SQuAD gap questions against the answerable ones. The shipped model has only
``near_miss``: a ``gap`` head that abstains on more gap questions also refuses paraphrased
answerable questions (``assistant/models/answerability/MODEL_CARD.md``, "The gap head")."""


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic heads (some of :data:`HEADS`); the probability that the question is answerable
    is their product (noisy-AND: answerable when it is none of the kinds the heads detect).

    Attributes:
        heads: name -> :class:`Head`, at least one, each named in :data:`HEADS`.
        threshold: the probability below which to abstain, chosen on the fit documents (the
            default of ``Settings.answer.answerable_below``).
    """

    heads: dict[str, Head]
    threshold: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel:
        """Read the fitted model and check it.

        Raises:
            ModelError: one line naming the file: it is missing, not JSON, has no head or one
                not in :data:`HEADS`, names a feature this code does not compute, or its content does
                not match the SHA-256 it records (see :meth:`sha256`; restore the file or refit
                with ``python benchmarks/fit_answerability.py``).
        """
        with loading("answerability model", path, "benchmarks/fit_answerability.py"):
            raw = read_config(path)
            heads = {}
            names = list(raw["heads"])
            if not names or any(name not in HEADS for name in names):
                raise ValueError(f"heads must be some of {list(HEADS)}, got {names}")
            for name in names:
                heads[name] = Head.from_json(raw["heads"][name], FEATURE_DOCS, f"head {name!r}")
            model = cls(heads, float(raw["threshold"]))
            check_sha256(raw.get("sha256"), model.sha256())
            return model

    def sha256(self) -> str:
        """SHA-256 of the model's content (each head's features, weights, standardisation and
        bias, and the threshold) as compact JSON: recorded in the file, checked at load, so an
        edited weight is caught."""
        content = [[name, self.heads[name].content()] for name in HEADS if name in self.heads] + [self.threshold]
        return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()

    def probability(self, values: dict[str, float]) -> float:
        """The probability, in [0, 1], that the question is answerable, from :func:`features`'
        output: the product of the heads' probabilities."""
        p = 1.0
        for head in self.heads.values():
            p *= head.probability(values)
        return p


def evidence(
    question: str, terms: Sequence[str], df: dict[str, int], n: int, candidates: Sequence[Candidate],
    in_document: frozenset[str] | None = None,
) -> Evidence:
    """An :class:`Evidence` from its parts (``df`` narrowed to ``terms``; candidates cut to
    :data:`TOP_SENTENCES`; ``in_document`` None: every term the collection holds)."""
    terms = tuple(dict.fromkeys(terms))
    held = frozenset(t for t in terms if df.get(t, 0) > 0) if in_document is None else frozenset(in_document) & set(terms)
    return Evidence(question, terms, {t: df.get(t, 0) for t in terms}, n, tuple(candidates[:TOP_SENTENCES]), held)
