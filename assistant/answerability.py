"""Is the question answered by the best sentence? A small learned model, fitted on the fit documents.

The quoted answer's abstention used to be a threshold on the fused retrieval score, chosen on
the seed article's 57 questions. That score is a retrieval score: it says how close a sentence
is, not whether it answers. SQuAD 2.0's unanswerable questions (Rajpurkar, Jia & Liang 2018)
are written against a paragraph and so are *close* to it; what gives them away is often a
word of the question the sentence lacks (an entity or a number swapped, an antonym) or a
negation the sentence does not have (the paper's "negation" category).

So the decision is a logistic regression over :data:`FEATURES` of the best sentence, fitted
by ``benchmarks/fit_answerability.py`` on the **fit** documents of the committed split
(``benchmarks/data/split.json``: SQuAD 2.0 answerable and unanswerable questions, SQuAD 1.1
and PolicyQA answerable ones) and stored in ``assistant/models/answerability.json`` with
its provenance and measured results. Its output is the probability that the question is
answerable (calibrated on the fit documents' mix of questions; ECE 0.017 on the reporting
documents, see ``assistant/models/ANSWERABILITY.md``); the answerer abstains below
``Settings.answer.answerable_below``. The weights are bounded in sign (a higher score never
lowers the probability, a missing term or a negation never raises it): unbounded, the fit
learns SQuAD 2.0's construction, whose unanswerable questions reuse the paragraph's words.
The model is fitted on questions close to their documents only: off-topic questions are the
fused-score floor's (``Settings.answer.abstain_below``), which runs first.

Features (all of the best sentence by fused score, lexical ones over the retriever's BM25
terms: English stop words removed, Snowball stems, Lucene IDF over the collection's sentences):

* ``fused``, ``similarity``, ``coverage``: the retriever's scores (``ScoredSentence``);
* ``missing``: IDF-weighted share of the question's content terms (its terms less NLTK's
  English stop words: "when", "did", "who" say what is asked, not about what) found neither
  in the sentence nor in the sentence before it, in [0, 1];
* ``rarest_missing``: IDF of the rarest such term as a share of the largest IDF possible in
  the collection (a term no sentence has), in [0, 1], so collections of any size compare;
* ``terms``: how many distinct content terms the question has (count);
* ``negation``: 1 when the question has a negation ("not", "never", "no", "n't", ...) and the
  sentence has none, else 0.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import ModelError
from assistant.lexical import idf

MODEL_PATH = Path(__file__).resolve().parent / "models" / "answerability.json"
"""The fitted weights, written by ``benchmarks/fit_answerability.py``."""

FEATURES = ("fused", "similarity", "coverage", "missing", "rarest_missing", "terms", "negation")
"""Feature names, in the order of the weights."""

_NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|neither|nor|without|cannot)\b|n't\b|n’t\b", re.I)


def features(question_terms: list[str], evidence_terms: set[str], df: dict[str, int], n: int,
             fused: float, similarity: float, coverage: float, question: str, sentence: str) -> dict[str, float]:
    """The :data:`FEATURES` of one (question, best sentence) pair.

    Args:
        question_terms: The question's distinct BM25 terms. evidence_terms: The terms of the
            sentence and the sentence before it. df: Sentence document frequency per term;
            ``n``: sentences in the collection. fused, similarity, coverage: the sentence's
            retrieval scores. question, sentence: the raw texts (for the negation feature).
    """
    weights = {t: idf(df.get(t, 0), n) for t in question_terms}
    total = sum(weights.values())
    missing = [w for t, w in weights.items() if t not in evidence_terms]
    top = idf(0, n) if n else 1.0
    return {
        "fused": fused,
        "similarity": similarity,
        "coverage": coverage,
        "missing": sum(missing) / total if total > 0 else 0.0,
        "rarest_missing": max(missing, default=0.0) / top if top > 0 else 0.0,
        "terms": float(len(question_terms)),
        "negation": float(bool(_NEGATION.search(question)) and not _NEGATION.search(sentence)),
    }


@dataclass(frozen=True)
class AnswerabilityModel:
    """Logistic regression on standardised :data:`FEATURES`: ``p = sigmoid(bias + sum(w * (x - mean) / scale))``.

    Attributes:
        weights, mean, scale: one value per feature, in :data:`FEATURES` order.
        bias: the intercept. threshold: the probability below which to abstain, chosen on the
            fit documents (the default of ``Settings.answer.answerable_below``).
    """

    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerabilityModel:
        """Read the fitted model.

        Raises:
            ModelError: the file is missing, not JSON, or its features are not :data:`FEATURES`
                (refit with ``python benchmarks/fit_answerability.py``).
        """
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            if tuple(raw["features"]) != FEATURES:
                raise ValueError(f"features {raw['features']} are not {list(FEATURES)}")
            return cls(tuple(raw["weights"]), tuple(raw["mean"]), tuple(raw["scale"]), float(raw["bias"]), float(raw["threshold"]))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ModelError(
                f"Cannot load the answerability model {path}: {err}. Restore the file from the repository "
                "or refit it with: python benchmarks/fit_answerability.py"
            ) from None

    def probability(self, values: dict[str, float]) -> float:
        """The probability, in [0, 1], that the question is answerable, from :func:`features`' output."""
        x = np.array([values[f] for f in FEATURES], dtype=np.float64)
        z = self.bias + float(np.dot(self.weights, (x - np.array(self.mean)) / np.array(self.scale)))
        return 1.0 / (1.0 + math.exp(-z))
