"""Fit the reader's calibration and thresholds on held-out *fit* documents, and measure it
against the rules on any part of the split, through the assistant's own retrieval.

    python benchmarks/fit_reader.py --part dev      # calibration + threshold (fit documents held out in training)
    python benchmarks/fit_reader.py --part report   # the reporting documents, with the shipped settings

Each set's documents are indexed into a throwaway store (PolicyQA: one store per policy, as its
questions are asked of their own policy), every question is retrieved with the default
settings, and both answer paths read the same retrieved passages:

* ``rules``: today's answerer (fused score, the answerability model, the checks of assistant.answering.abstention);
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
    settings = Settings(data_dir=tmp / "data", documents=[folder], answer_model="reader")
    return Assistant.from_settings(settings, progress=False), names


def relogit(rows) -> None:
    """Recompute every row's logits with the shipped reader (the retrieval part is unchanged)."""
    from assistant.answering.reader import Candidate, make_reader

    reader = make_reader()
    for r in rows:
        r["logits"] = reader.logits(r["question"], [Candidate(*c) for c in r["cands"]]).tolist()


def collect(docs, questions, candidates: int, with_logits: bool = True) -> list[dict]:
    """Per question: the reader's logits and labels for its candidates, and the rules' choice."""
    from assistant.answering.sentences import _previous as previous
    from assistant.answering.sentences import _raw as raw
    from assistant.answering.evidence import answerability_features
    from assistant.answering.reader import Candidate

    out = []
    policy = any(docs[q.doc].set_name.startswith("policy") for q in questions)  # PolicyQA is scoped: one store per policy
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
                cands = [Candidate(raw(s, r), r.passage.title, previous(s, r)) for s, r in ranked]
                logits = reader.logits(q.question, cands) if with_logits else np.zeros(len(cands))
                gold_doc = f"doc{q.doc:03d}.txt"
                labels = [int(r.passage.doc_id == gold_doc and reader_data.label(s.span, q.gold) == 1) for s, r in ranked]
                rules = _rules(answerer, q.question, retrieved, retriever.vocabulary, retriever.lexicon, gold_doc, q.gold)
                out.append({"set": docs[q.doc].set_name, "impossible": q.impossible, "logits": logits.tolist(), "labels": labels,
                            "question": q.question, "cands": [[c.sentence, c.title, c.context] for c in cands],
                            "features": [[s.fused, s.similarity, s.coverage] for s, r in ranked],
                            "answerability": [answerability_features(q.question, ranked[i:], retriever.lexicon) for i in range(len(ranked))],
                            "passages": [r.passage.passage_id for s, r in ranked], "docs": [r.passage.doc_id == gold_doc for s, r in ranked],
                            "passage_labels": [int(r.passage.doc_id == gold_doc and any(r.passage.start <= a and b <= r.passage.end for a, b in q.gold)) for s, r in ranked],
                            "rules": rules})
    return out


def _rules(answerer, question, retrieved, vocabulary, lexicon, gold_doc, gold) -> dict:
    reader, answerer.reader = answerer.reader, None
    try:
        sel = answerer.select(question, retrieved, vocabulary, (), lexicon)
    finally:
        answerer.reader = reader
    quotes = [(s.span, r.passage.doc_id) for s, r in sel.quotes]
    cites = [sel.quotes[0][1].passage] if sel.quotes else []
    return {
        "abstained": not sel.quotes,
        "quote1": any(d == gold_doc and reader_data.label(span, gold) == 1 for span, d in quotes),
        "hit1": bool(cites) and cites[0].doc_id == gold_doc and any(cites[0].start <= a and b <= cites[0].end for a, b in gold),
    }


KEYS = ("logit", "fused", "similarity", "coverage")


def probs(row, w: dict) -> np.ndarray:
    """The fusion's probabilities of a row's candidates (see ``assistant.answering.reader.FUSION``)."""
    if not row["logits"]:
        return np.zeros(0)
    x = np.column_stack([row["logits"], np.array(row["features"])])
    z = x @ np.array([w[k] for k in KEYS]) + w["bias"]
    return 1 / (1 + np.exp(-z))


def reader_outcome(row, w, threshold, second, max_sentences=3) -> dict:
    p = probs(row, w)
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
        res[name.split("-")[0]] = {
            "quote@1": round(float(np.mean([o["quote1"] for o in ans])), 4),
            "hit@1": round(float(np.mean([o["hit1"] for o in ans])), 4),
            "false_abst": round(float(np.mean([o["abstained"] for o in ans])), 4),
            "abst_unans": round(float(np.mean([o["abstained"] for o in imp])), 4) if imp else None,
            "quoted": round(float(np.mean([o.get("n", 1) for o in ans])), 2),
            "n": len(ans) + len(imp),
        }
    return res


def fit(rows, features: bool) -> dict:
    """Logistic regression of the candidate labels on the logit (Platt scaling) or on the logit and the retriever's scores."""
    from sklearn.linear_model import LogisticRegression

    x = np.column_stack([np.concatenate([r["logits"] for r in rows]), np.concatenate([r["features"] for r in rows if r["features"]])])
    y = np.concatenate([r["labels"] for r in rows])
    cols = [0, 1, 2, 3] if features else [0]
    lr = LogisticRegression(C=10.0, max_iter=1000).fit(x[:, cols], y)
    w = {k: 0.0 for k in KEYS}
    for c, coef in zip(cols, lr.coef_[0]):
        w[KEYS[c]] = round(float(coef), 4)
    w["bias"] = round(float(lr.intercept_[0]), 4)
    return w


def fit_listwise(rows) -> dict:
    """The fusion fitted in two steps, both on held-out fit documents:

    1. **ranking**: a linear score ``z = w . (logit, fused, similarity, coverage)`` maximising
       the softmax likelihood of the sentences holding a gold answer among each answerable
       question's candidates (a conditional logit, i.e. listwise: it is fitted for what is
       quoted first, not for every candidate alike), L2 penalty 1e-3;
    2. **calibration**: Platt scaling of the best candidate's ``z`` on whether that sentence
       answers (unanswerable questions count as "does not"), so ``sigmoid(a z + b)`` is the
       probability the user sees and the threshold applies to.

    Returns the weights of ``sigmoid(a w . x + b)`` in the :data:`assistant.answering.reader.FUSION` layout.
    """
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    data = [(np.column_stack([r["logits"], np.array(r["features"])]), np.array(r["labels"]), r) for r in rows if r["logits"]]
    answerable = [(x, y) for x, y, r in data if not r["impossible"] and y.sum()]

    def nll(w):
        total = 0.0
        for x, y in answerable:
            z = x @ w
            z = z - z.max()
            total -= np.log(np.exp(z)[y == 1].sum()) - np.log(np.exp(z).sum())
        return total / len(answerable) + 1e-3 * float(w @ w)

    w = minimize(nll, np.full(len(KEYS), 0.1), method="L-BFGS-B").x
    top = [(float((x @ w).max()), int(y[int(np.argmax(x @ w))])) for x, y, r in data]
    platt = LogisticRegression(C=10.0, max_iter=1000).fit(np.array([[t] for t, _ in top]), np.array([lab for _, lab in top]))
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    out = {k: round(a * float(v), 4) for k, v in zip(KEYS, w)}
    out["bias"] = round(b, 4)
    return out


def reliability(rows, w, bins=10) -> tuple[list, float]:
    """Best candidate per question: (bin, count, mean probability, share whose best sentence answers), and the ECE."""
    ps = [probs(r, w) for r in rows]
    p = np.array([x.max() for x in ps if len(x)])
    y = np.array([r["labels"][int(np.argmax(x))] for r, x in zip(rows, ps) if len(x)])
    out, ece = [], 0.0
    for b in range(bins):
        m = (p >= b / bins) & ((p < (b + 1) / bins) | (b == bins - 1))
        if m.any():
            out.append((f"{b / bins:.1f}-{(b + 1) / bins:.1f}", int(m.sum()), round(float(p[m].mean()), 3), round(float(y[m].mean()), 3)))
            ece += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return out, round(float(ece), 4)


def auc(rows, w) -> float | None:
    """AUC of the best probability: SQuAD 2.0 answerable vs unanswerable questions."""
    a = np.array([probs(r, w).max() for r in rows if r["set"].startswith("squad2") and not r["impossible"] and r["logits"]])
    i = np.array([probs(r, w).max() for r in rows if r["impossible"] and r["logits"]])
    if not len(a) or not len(i):
        return None
    return round(float((a[:, None] > i[None, :]).mean() + 0.5 * (a[:, None] == i[None, :]).mean()), 4)


def choose_threshold(rows, w, second, ceiling=0.03) -> float:
    """The highest threshold (step 0.01) whose false abstention is at most ``ceiling`` on every set."""
    best = 0.0
    for t in np.arange(0.0, 1.0, 0.01):
        tab = table(rows, lambda r: reader_outcome(r, w, t, second))
        if all(v["false_abst"] <= ceiling for v in tab.values()):
            best = round(float(t), 2)
        else:
            break
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["dev", "report"], default="dev")
    ap.add_argument("--write", action="store_true",
                    help="with --part dev: write the listwise fusion into assistant/models/reader/config.json (and its card)")
    ap.add_argument("--datasets", type=Path, default=Path("/work/shared/datasets"))
    ap.add_argument("--candidates", type=int, default=12)
    ap.add_argument("--rows", type=Path, default=None, help="JSON of collected rows (reused when present)")
    ap.add_argument("--max-questions", type=int, default=0, help="per set, 0 = all")
    ap.add_argument("--sets", nargs="*", default=[], help="only these sets (policyqa, squad11, squad2)")
    ap.add_argument("--no-logits", action="store_true", help="collect retrieval only (logits later with --relogit)")
    ap.add_argument("--relogit", action="store_true", help="recompute the logits of --rows with the shipped reader")
    args = ap.parse_args()
    if args.no_logits and not args.rows:
        ap.error("--no-logits needs --rows")
    from assistant.answering.reader import CALIBRATION
    from assistant.settings import Settings
    from index.packaged_model import PackagedModel

    if args.rows and args.rows.is_file():
        rows = json.loads(args.rows.read_text())
        if args.relogit:
            relogit(rows)
            args.rows.write_text(json.dumps(rows))
    else:
        docs, questions = reader_data.load(args.datasets, "fit" if args.part == "dev" else "report", PackagedModel(None, False).count_tokens)
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
        for set_name in sorted({d.set_name for d in docs if not args.sets or d.set_name.split("-")[0] in args.sets}):
            rows += collect(docs, [q for q in questions if docs[q.doc].set_name == set_name], args.candidates, not args.no_logits)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    if args.no_logits:
        return 0
    for r in rows:  # the reader reads the first --candidates (rows may have been collected with more)
        for key in ("logits", "labels", "cands", "features", "answerability", "passages", "docs", "passage_labels"):
            if key in r:
                r[key] = r[key][: args.candidates]
    from assistant.answering.reader import FUSION

    s = Settings()
    print("rules:", json.dumps(table(rows, lambda r: r["rules"])))
    if args.part == "dev":
        candidates = {
            "reader only (Platt)": fit(rows, False),
            "reader + retriever scores (pointwise fusion)": fit(rows, True),
            "reader + retriever scores (listwise fusion, calibrated best)": fit_listwise(rows),
        }
    else:
        candidates = {"shipped fusion": FUSION}
    if args.write and args.part == "dev":
        from assistant.answering.model_home import home, read_config, write_home

        listwise = candidates["reader + retriever scores (listwise fusion, calibrated best)"]
        write_home(home("reader"), {**read_config(home("reader")), "fusion": {k: round(float(v), 4) for k, v in listwise.items()}}, "Reader")
    for name, w in candidates.items():
        rel, ece = reliability(rows, w)
        print(f"{name}: weights {json.dumps(w)} AUC(squad2 answerable vs unanswerable) {auc(rows, w)} ECE {ece}")
        print("  reliability (best sentence per question: bin, questions, mean probability, share that answers):", rel)
        seconds = [0.5, 0.7, 1.01] if args.part == "dev" else [s.answer.reader_second]
        for second in seconds:
            t = choose_threshold(rows, w, second) if args.part == "dev" else s.answer.reader_threshold
            print(f"  second {second} threshold {t} (false abstention <= 0.03 per set):", json.dumps(table(rows, lambda r: reader_outcome(r, w, t, second))))
        for t in [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]:
            print(f"  trade-off at threshold {t}:", json.dumps(table(rows, lambda r: reader_outcome(r, w, t, seconds[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
