"""Answer quality per configuration, and the abstention threshold trade-off, on one index.

Usage::

    python benchmarks/quality.py [--questions seeds/questions.jsonl] [--sweep]

Prints a Markdown table with one row per configuration, each adding one lever to the row
above (all rows share one model and one Chroma index, built once):

1. dense only: sentence + passage embeddings, the best passage quoted whole, top 3 cited;
2. + BM25: the lexical coverage score fused in (``retrieval_mode=hybrid``);
3. + sentence selection: the best sentences quoted, only their passages cited;
4. + abstention: the score threshold and the checks of ``assistant.answering.abstention``;
5. + follow-ups: a follow-up read in the previous answer's focus (the shipped default).

Two more rows show the alternatives measured and not kept (RRF fusion; BM25 alone).
``--sweep`` adds the abstention trade-off: abstention accuracy on unanswerable questions and
false abstention on answerable ones, at several ``answerable_below`` thresholds (answerability
probability; defaults otherwise).
Metric definitions: ``assistant.evaluation``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

COLUMNS = [
    "hit@1",
    "hit@3",
    "mrr",
    "evidence_recall",
    "citation_precision",
    "answer_match",
    "abstention_accuracy",
    "false_abstention",
    "cited_chars@3",
    "latency_p50_ms",
]

RRF = "benchmark: reciprocal rank fusion"
"""Key of a configuration that swaps the retriever's fusion for RRF (``PassageRetriever.fusion``)."""

BASE = {"retrieval_mode": "dense", "answer_unit": "passage", "abstention": False, "followups": False}
CONFIGURATIONS: list[tuple[str, dict]] = [
    ("dense only", BASE),
    ("+ BM25 (hybrid, convex)", {**BASE, "retrieval_mode": "hybrid"}),
    ("+ sentence selection", {**BASE, "retrieval_mode": "hybrid", "answer_unit": "sentence"}),
    ("+ abstention", {**BASE, "retrieval_mode": "hybrid", "answer_unit": "sentence", "abstention": True}),
    ("+ follow-ups (default)", {}),
    # The answerability model is fitted on convex-fusion scores; these rows abstain by the checks only.
    # RRF is not a setting (its scores are not what the model was fitted on): measured here only.
    ("default, RRF fusion instead (checks only)", {RRF: True, "answerable_below": 0.0}),
    ("default, BM25 only (checks only)", {"retrieval_mode": "bm25", "answerable_below": 0.0}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=None, help="JSONL question set (default: the shipped one)")
    parser.add_argument("--sweep", action="store_true", help="also sweep the abstention threshold")
    args = parser.parse_args()

    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import rrf  # noqa: F401  (registers fusion="rrf", kept here only to measure against)
    from assistant.core import Assistant
    from assistant.evaluation import load_questions, run_eval
    from assistant.settings import Settings

    base = Settings()
    shared = Assistant.from_settings(base, progress=False)
    questions = load_questions(args.questions or base.eval.questions, shared.documents())

    class RRFAssistant(Assistant):
        def _make_retriever(self, store):
            retriever = super()._make_retriever(store)
            retriever.fusion = "rrf"
            return retriever

    def evaluate(**overrides) -> dict[str, float]:
        kind = RRFAssistant if overrides.pop(RRF, False) else Assistant
        assistant = kind(base.replace(**overrides), shared.store, shared.embedder)
        assistant.retriever.refresh()
        return run_eval(assistant, questions).summary

    print(f"{len(questions)} questions from {args.questions or base.eval.questions}\n")
    print("| configuration | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for label, overrides in CONFIGURATIONS:
        summary = evaluate(**overrides)
        cells = [
            "–" if summary[c] is None else f"{summary[c]:.0f}" if c in ("cited_chars@3", "latency_p50_ms") else f"{summary[c]:.3f}"
            for c in COLUMNS
        ]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)

    if args.sweep:
        print("\n| answerable_below | abstention_accuracy | false_abstention | hit@1 |")
        print("|---|---|---|---|")
        for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            s = evaluate(answerable_below=threshold)
            print(f"| {threshold} | {s['abstention_accuracy']:.3f} | {s['false_abstention']:.3f} | {s['hit@1']:.3f} |", flush=True)
        s = evaluate(answerable_below=0.0)
        print(f"| checks only (no threshold) | {s['abstention_accuracy']:.3f} | {s['false_abstention']:.3f} | {s['hit@1']:.3f} |")


if __name__ == "__main__":
    main()
