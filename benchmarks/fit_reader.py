"""Fit the reader's calibration and thresholds on held-out *fit* documents, and measure it
against the rules on any part of the split, through the assistant's own retrieval.

    python benchmarks/fit_reader.py --part dev      # calibration + threshold (fit documents held out in training)
    python benchmarks/fit_reader.py --part report   # the reporting documents, with the shipped settings

Each set's documents are indexed into a throwaway store (PolicyQA: one store per policy, as its
questions are asked of their own policy), every question is retrieved with the default
settings, and both answer paths read the same retrieved passages:

* ``rules``: today's answerer (fused score, ``abstain_below``, the checks of assistant.abstention);
* ``reader``: :meth:`ExtractiveAnswerer.select_with_reader`.

Per set it prints quote@1 (a quoted sentence holds a gold answer span), hit@1 (the first
citation's passage holds one), false abstention (answerable questions) and abstention
(SQuAD 2.0 unanswerable questions). ``--part dev`` also fits Platt scaling of the reader's
logits (candidate level) and prints the abstention trade-off per threshold, a reliability
table and the ECE; ``--part report`` prints the reliability table on the reporting documents.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import reader_data  # noqa: E402
from train_reader import DEV  # noqa: E402


def _stores(docs, questions, by_doc: bool):
    """``[(doc indexes, questions)]``: one group per set, or per document when ``by_doc``."""
    groups: dict = {}
    for q in questions:
        key = q.doc if by_doc else docs[q.doc].set_name
        groups.setdefault(key, []).append(q)
    return list(groups.values())


def _assistant(docs, indexes, tmp: Path):
    from assistant.core import Assistant
    from assistant.settings import Settings

    folder = tmp / "docs"
    folder.mkdir(parents=True)
    names = {}
    for i in indexes:
        name = f"doc{i:03d}.txt"
        (folder / name).write_text(docs[i].text, encoding="utf-8")
        names[name] = i
    settings = Settings(data_dir=tmp / "data", documents=[folder])
    return Assistant.from_settings(settings, progress=False), names


def collect(docs, questions, candidates: int) -> list[dict]:
    """Per question: the reader's logits and labels for its candidates, and the rules' choice."""
    from assistant.answerer import _previous as previous
    from assistant.answerer import _raw as raw
    from assistant.reader import Candidate

    out = []
    policy = any(d.set_name.startswith("policy") for d in docs)
    for group in _stores(docs, questions, by_doc=policy):
        indexes = sorted({q.doc for q in group})
        with tempfile.TemporaryDirectory() as tmp:
            assistant, names = _assistant(docs, indexes, Path(tmp))
            answerer, retriever = assistant.answerer, assistant.retriever
            reader = answerer.reader
            for q in group:
                retrieved = retriever.search(q.question)
                scored = [(s, r) for r in retrieved for s in r.sentences]
                ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))[:candidates]
                logits = reader.logits(q.question, [Candidate(raw(s, r), r.passage.title, previous(s, r)) for s, r in ranked])
                gold_doc = f"doc{q.doc:03d}.txt"
                labels = [int(r.passage.doc_id == gold_doc and reader_data.label(s.span, q.gold) == 1) for s, r in ranked]
                rules = _rules(answerer, q.question, retrieved, retriever.vocabulary, gold_doc, q.gold)
                out.append({"set": docs[q.doc].set_name, "impossible": q.impossible, "logits": logits.tolist(), "labels": labels,
                            "passages": [r.passage.passage_id for s, r in ranked], "docs": [r.passage.doc_id == gold_doc for s, r in ranked],
                            "passage_labels": [int(r.passage.doc_id == gold_doc and any(r.passage.start <= a and b <= r.passage.end for a, b in q.gold)) for s, r in ranked],
                            "rules": rules})
    return out


def _rules(answerer, question, retrieved, vocabulary, gold_doc, gold) -> dict:
    reader, answerer.reader = answerer.reader, None
    try:
        sel = answerer.select(question, retrieved, vocabulary)
    finally:
        answerer.reader = reader
    quotes = [(s.span, r.passage.doc_id) for s, r in sel.quotes]
    cites = [sel.quotes[0][1].passage] if sel.quotes else []
    return {
        "abstained": not sel.quotes,
        "quote1": any(d == gold_doc and reader_data.label(span, gold) == 1 for span, d in quotes),
        "hit1": bool(cites) and cites[0].doc_id == gold_doc and any(cites[0].start <= a and b <= cites[0].end for a, b in gold),
    }


def reader_outcome(row, scale, bias, threshold, second, max_sentences=3) -> dict:
    p = 1 / (1 + np.exp(-(scale * np.array(row["logits"]) + bias)))
    if not len(p) or p.max() < threshold:
        return {"abstained": True, "quote1": False, "hit1": False, "n": 0}
    order = list(np.argsort(-p, kind="stable"))
    chosen = [order[0]] + [i for i in order[1:] if p[i] >= max(threshold, second * p[order[0]])][: max_sentences - 1]
    return {"abstained": False, "quote1": any(row["labels"][i] for i in chosen), "hit1": bool(row["passage_labels"][order[0]]), "n": len(chosen)}


def table(rows, outcome) -> dict:
    res = {}
    for name in sorted({r["set"] for r in rows}):
        ans = [outcome(r) for r in rows if r["set"] == name and not r["impossible"]]
        imp = [outcome(r) for r in rows if r["set"] == name and r["impossible"]]
        res[name] = {
            "quote@1": round(np.mean([o["quote1"] for o in ans]), 4),
            "hit@1": round(np.mean([o["hit1"] for o in ans]), 4),
            "false_abstention": round(np.mean([o["abstained"] for o in ans]), 4),
            "abstention_unanswerable": round(np.mean([o["abstained"] for o in imp]), 4) if imp else None,
            "n": len(ans) + len(imp),
        }
    return res


def platt(rows) -> tuple[float, float]:
    """Logistic regression of the candidate labels on the logits (answerable and unanswerable questions)."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([r["logits"] for r in rows]).reshape(-1, 1)
    y = np.concatenate([r["labels"] for r in rows])
    lr = LogisticRegression(C=100.0).fit(x, y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def reliability(rows, scale, bias, bins=10) -> tuple[list, float]:
    """Best candidate per question: (bin, count, mean probability, share whose best sentence answers), and the ECE."""
    p = np.array([1 / (1 + np.exp(-(scale * max(r["logits"]) + bias))) for r in rows if r["logits"]])
    y = np.array([r["labels"][int(np.argmax(r["logits"]))] for r in rows if r["logits"]])
    out, ece = [], 0.0
    for b in range(bins):
        m = (p >= b / bins) & ((p < (b + 1) / bins) | (b == bins - 1))
        if m.any():
            out.append((f"{b / bins:.1f}-{(b + 1) / bins:.1f}", int(m.sum()), round(float(p[m].mean()), 3), round(float(y[m].mean()), 3)))
            ece += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return out, round(float(ece), 4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["dev", "report"], default="dev")
    ap.add_argument("--datasets", type=Path, default=Path("/work/shared/datasets"))
    ap.add_argument("--candidates", type=int, default=12)
    ap.add_argument("--rows", type=Path, default=None, help="JSON of collected rows (reused when present)")
    ap.add_argument("--max-questions", type=int, default=0, help="per set, 0 = all")
    args = ap.parse_args()
    from assistant.reader import CALIBRATION
    from assistant.settings import Settings
    from index.embedder import _PackagedModel

    if args.rows and args.rows.is_file():
        rows = json.loads(args.rows.read_text())
    else:
        docs, questions = reader_data.load(args.datasets, "fit" if args.part == "dev" else "report", _PackagedModel(None, False).count_tokens)
        if args.part == "dev":
            dev = {(s, t.replace("_", " ")) for s, ts in DEV.items() for t in ts}
            questions = [q for q in questions if (docs[q.doc].set_name, docs[q.doc].title) in dev]
        if args.max_questions:
            import random

            by_set: dict = {}
            for q in questions:
                by_set.setdefault(docs[q.doc].set_name, []).append(q)
            questions = [q for qs in by_set.values() for q in random.Random(13).sample(qs, min(args.max_questions, len(qs)))]
        rows = []
        for set_name in sorted({d.set_name for d in docs}):
            rows += collect(docs, [q for q in questions if docs[q.doc].set_name == set_name], args.candidates)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    s = Settings()
    print("rules:", json.dumps(table(rows, lambda r: r["rules"]), indent=1))
    scale, bias = platt(rows) if args.part == "dev" else CALIBRATION
    print(f"calibration scale {scale:.4f} bias {bias:.4f}")
    rel, ece = reliability(rows, scale, bias)
    print("reliability (best sentence per question): bin, questions, mean probability, share answering", rel, "ECE", ece)
    thresholds = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5] if args.part == "dev" else [s.reader_threshold]
    for t in thresholds:
        for second in ([0.3, 0.5, 0.7, 1.01] if args.part == "dev" else [s.reader_second]):
            print(f"reader threshold {t} second {second}:", json.dumps(table(rows, lambda r: reader_outcome(r, scale, bias, t, second))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
