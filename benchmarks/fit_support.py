"""Fit the support head (``assistant/models/support/config.json``) on the fit documents, and measure it
on the reporting documents.

    python benchmarks/fit_support.py                  # extract (cached), fit, write the model, measure
    python benchmarks/fit_support.py --measure-only   # measure the committed model on report

Data: the answerable questions of the public sets in ``../shared/datasets/`` (SQuAD 2.0, SQuAD
1.1, PolicyQA asked of its own policy), split by document in the committed manifest
``benchmarks/data/split.json``. Each part is indexed into a throwaway store with the default
settings and every question retrieved as ``assistant eval`` does; the question's
:class:`~assistant.answering.answerability.Evidence` (its five best candidate sentences), where each
candidate sits, and whether each candidate overlaps the gold answers
(:func:`assistant.evaluation.metrics.overlaps`; quote@1's :func:`assistant.evaluation.metrics.covers` for the best
one) are cached (``--cache``; a few minutes on 2 cores).

Fit: logistic regression (scikit-learn, L2, C=1) on standardised :data:`FEATURES` of every
candidate (the best five by fused score) of every fit question. Then the share of
:mod:`assistant.answering.support` (quote a further sentence when its probability is at least this times
the best sentence's): the value of :data:`SHARES` with the highest F1 of quote precision and
answer recall, averaged over the three fit sets (:func:`choose_share`; it quotes the best
candidate by fused score first, which is the head's first choice in 99 questions of 100).

Report (documents never read in fitting), per set: ROC AUC of the head; and, simulated on the
candidates exactly as the answerer chooses them (the best sentence, then further ones up to
``max_answer_sentences`` in all), quote precision, quoted sentences and quote@1 for the
previous rule (a further sentence when its fused score is at least ``second_sentence_ratio``
of the best one's), the best sentence alone, the head at fixed thresholds, and the shipped rule
(the candidate the head finds most likely first, then those at least ``share`` of its probability). ``assistant eval`` on the
report sets measures the shipped answer path end to end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from assistant.answering.model_home import CONFIG, write_home  # noqa: E402
from assistant.answering.support import FEATURE_DOCS, MODEL_PATH, SupportModel, support_features  # noqa: E402

SETS = ("squad2-dev-25-articles.json", "squad11-dev-13-articles.json", "policyqa-dev.json")
FEATURES = tuple(FEATURE_DOCS)
SHARES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.75, 1.0)
"""The shares tried (ratio of a further sentence's probability to the best one's)."""


def extract(part: str, datasets: Path, cache: Path) -> list[dict]:
    """Rows ``{set, id, evidence, places, overlap, covers, heading}`` of every answerable question
    of ``part`` ("fit" or "report") that the answer path answers (no abstention check refuses
    it); ``overlap``/``covers`` per candidate; ``heading``: the candidate may not be a further
    quote (:func:`assistant.answering.sentences.is_heading`)."""
    cache.mkdir(parents=True, exist_ok=True)
    out: list[dict] = []
    from make_split import subset

    from assistant.answering.evidence import answerability_evidence, candidate_places
    from assistant.answering.sentences import answerable_sentences, is_heading, _quote
    from assistant.core import Assistant
    from assistant.evaluation.metrics import covers, overlaps
    from assistant.evaluation.question_sets import index_documents, load_squad
    from assistant.questions import clean_question
    from assistant.settings import Settings

    manifest = json.loads((ROOT / "benchmarks" / "data" / "split.json").read_text())
    with tempfile.TemporaryDirectory(prefix="fit-support-") as tmp:
        base = None
        for name in SETS:
            stem = Path(name).stem
            path = cache / f"{stem}-{part}.pkl"
            if path.exists():
                out += pickle.loads(path.read_bytes())
                continue
            entry = manifest["sets"][name]
            raw = json.loads((datasets / name).read_text(encoding="utf-8"))
            file = Path(tmp) / f"{stem}-{part}.json"
            file.write_text(json.dumps(subset(raw, entry[part], entry["scope"])), encoding="utf-8")
            base = base or Assistant.from_settings(Settings(data_dir=Path(tmp) / "base"), progress=False)
            squad = load_squad(file)
            scratch = index_documents(squad.documents, Path(tmp) / file.stem, base)
            retriever = scratch._current()
            rows = []
            for q in squad.questions:
                if not q.answerable:
                    continue
                question = clean_question(q.question, scratch.settings.answer.max_question_chars)
                emb = scratch.embedder.embed_query([question])[0]
                retrieved = retriever.search(question, emb, documents=scratch._scope(retriever, q.documents))
                sel = scratch.quotes.select(question, retrieved, retriever.vocabulary, (), retriever.lexicon)
                if not sel.quotes:
                    continue
                ranked = sorted(answerable_sentences(retrieved), key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
                ev = answerability_evidence(question, ranked, retriever.lexicon)
                top = ranked[: len(ev.candidates)]
                pieces = q.pieces
                rows.append({
                    "set": stem, "id": q.id, "evidence": ev, "places": candidate_places(top),
                    "overlap": [any(overlaps(r.passage.doc_id, *s.span, e) for p in pieces for e in p) for s, r in top],
                    "covers": [any(covers(r.passage.doc_id, *s.span, e) for p in pieces for e in p) for s, r in top],
                    "heading": [is_heading(_quote(s, r)) for s, r in top],
                })
            path.write_bytes(pickle.dumps(rows))
            print(f"{stem} {part}: {len(rows)} answered questions", flush=True)
            out += rows
    return out


def matrix(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """``(X [n, len(FEATURES)], y [n])`` over every candidate of ``rows``, the best one included."""
    xs, ys = [], []
    for r in rows:
        for f, y in zip(support_features(r["evidence"], r["places"]), r["overlap"]):
            xs.append([f[k] for k in FEATURES])
            ys.append(float(y))
    return np.array(xs, dtype=np.float64), np.array(ys)


def simulate(rows: list[dict], choose, max_sentences: int, first=lambda r: 0) -> dict[str, float]:
    """Quote precision, quoted sentences and quote@1 (see :mod:`assistant.evaluation.metrics`) when
    candidate ``first(row)`` is quoted first and the others are chosen by ``choose(row) -> [bool
    per other candidate, in order]``."""
    prec, count, q1 = [], [], []
    for r in rows:
        j = first(r)
        others = [j, *(i for i in range(len(r["overlap"])) if i != j)]
        keep = [j]
        for i, ok in zip(others[1:], choose(r)):
            if len(keep) >= max_sentences:
                break
            if ok and not r["heading"][i]:
                keep.append(i)
        prec.append(sum(r["overlap"][i] for i in keep) / len(keep))
        count.append(len(keep))
        first_passage = r["places"][j].passage_id
        in_first = sorted((i for i in keep if r["places"][i].passage_id == first_passage), key=lambda i: r["places"][i].index)
        q1.append(float(r["covers"][in_first[0]]))
    return {"quote_precision": round(float(np.mean(prec)), 4), "quoted_sentences": round(float(np.mean(count)), 3),
            "quote@1": round(float(np.mean(q1)), 4), "questions": len(rows)}


def quoting(rows: list[dict], further, max_sentences: int) -> tuple[float, float]:
    """``(quote precision, answer recall)`` over ``rows`` when ``further(row)`` says which
    candidates after the best are quoted: the mean share of quoted sentences that overlap the
    gold answer, and the share of questions where some quoted sentence does."""
    prec, recall = [], []
    for r in rows:
        keep = [0]
        for i, ok in enumerate(further(r), start=1):
            if len(keep) >= max_sentences:
                break
            if ok and not r["heading"][i]:
                keep.append(i)
        prec.append(sum(r["overlap"][i] for i in keep) / len(keep))
        recall.append(float(any(r["overlap"][i] for i in keep)))
    return float(np.mean(prec)), float(np.mean(recall))


def choose_share(head, rows: list[dict], max_sentences: int) -> tuple[float, list]:
    """The share of :data:`SHARES` with the highest F1 of quote precision and answer recall,
    averaged over the sets of ``rows``; and the curve ``[(share, mean F1, {set: [P, R]})]``."""
    probs = {id(r): [head.probability(f) for f in support_features(r["evidence"], r["places"])] for r in rows}
    sets = list(dict.fromkeys(r["set"] for r in rows))
    curve = []
    for share in SHARES:
        per = {s: quoting([r for r in rows if r["set"] == s], lambda r: [p >= share * probs[id(r)][0] for p in probs[id(r)][1:]], max_sentences)
               for s in sets}
        f1 = float(np.mean([2 * p * q / (p + q) if p + q else 0.0 for p, q in per.values()]))
        curve.append((share, round(f1, 4), {s: [round(p, 4), round(q, 4)] for s, (p, q) in per.items()}))
    best = max(curve, key=lambda c: (c[1], -c[0]))
    return best[0], curve


def measure(model: SupportModel, rows: list[dict], ratio: float, max_sentences: int) -> dict:
    """Per set: the head's ROC AUC and the simulated quoting of the old rule and the head."""
    from sklearn.metrics import roc_auc_score

    out = {}
    for stem in dict.fromkeys(r["set"] for r in rows):
        part = [r for r in rows if r["set"] == stem]
        x, y = matrix(part)
        probs = {id(r): model.probabilities(r["evidence"], r["places"]) for r in part}
        res = {"auc": round(float(roc_auc_score(y, [model.head.probability(dict(zip(FEATURES, v))) for v in x])), 4)
               if 0 < y.sum() < len(y) else None,
               "rule": simulate(part, lambda r: [c.fused >= ratio * r["evidence"].candidates[0].fused for c in r["evidence"].candidates[1:]], max_sentences),
               "best_only": simulate(part, lambda r: [False] * (len(r["evidence"].candidates) - 1), max_sentences)}
        for t in (0.3, 0.4, 0.5, 0.6):
            res[f"head@{t:g}"] = simulate(part, lambda r, t=t: [p >= t for p in probs[id(r)][1:]], max_sentences)
        best = {k: max(range(len(p)), key=p.__getitem__) for k, p in probs.items()}
        res[f"shipped (share {model.share:g})"] = simulate(
            part, lambda r: model.further([probs[id(r)][i] for i in [best[id(r)], *(i for i in range(len(probs[id(r)])) if i != best[id(r)])]]),
            max_sentences, first=lambda r: best[id(r)])
        out[stem] = res
        print(stem, json.dumps(res), flush=True)
    return out


def fit(rows: list[dict]) -> dict:
    """The head as stored: standardised features, L2 logistic regression (C=1)."""
    from sklearn.linear_model import LogisticRegression

    x, y = matrix(rows)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    return {"features": list(FEATURES), "weights": [round(float(w), 6) for w in lr.coef_[0]],
            "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
            "bias": round(float(lr.intercept_[0]), 6), "rows": int(len(y)), "positives": int(y.sum())}


def _write(out: Path, raw: dict) -> None:
    """Write the head: a ``config.json`` with its model card's fitted values beside it
    (:func:`assistant.answering.model_home.write_home`), any other path as plain JSON."""
    if out.name == CONFIG:
        write_home(out.parent, raw, "Support head")
    else:
        out.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    from assistant.settings.groups import AnswerSettings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fit-support")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--measure-only", action="store_true", help="Measure the committed model; fit nothing.")
    args = ap.parse_args()
    ratio = AnswerSettings.model_fields["second_sentence_ratio"].default
    most = AnswerSettings.model_fields["max_answer_sentences"].default
    started = time.time()
    if not args.measure_only:
        rows = extract("fit", args.datasets, args.cache)
        t0 = time.time()
        head = fit(rows)
        from assistant.answering.answerability import Head

        h = Head(tuple(head["features"]), tuple(head["weights"]), tuple(head["mean"]), tuple(head["scale"]), head["bias"])
        share, curve = choose_share(h, rows, most)
        raw = {"head": head, "share": share, "sha256": SupportModel(h, share).sha256()}
        raw["fitted"] = {
            "by": "benchmarks/fit_support.py", "date": datetime.date.today().isoformat(), "seconds": round(time.time() - t0, 1),
            "data": "answerable questions of the fit documents of benchmarks/data/split.json (SQuAD 2.0, SQuAD 1.1, PolicyQA) "
                    "that the answer path answers; each of the five best candidates by fused score labelled 1 when it "
                    "overlaps a gold answer (assistant.evaluation.metrics.overlaps)",
            "questions": {s: sum(1 for r in rows if r["set"] == s) for s in dict.fromkeys(r["set"] for r in rows)},
            "estimator": "scikit-learn LogisticRegression(C=1.0) on standardised features",
            "share": "the value of SHARES with the highest F1 of quote precision and answer recall, averaged over the fit sets",
            "share_curve_on_fit": curve,
        }
        _write(args.out, raw)
        print(f"wrote {args.out}")
    model = SupportModel.load(args.out)
    report = measure(model, extract("report", args.datasets, args.cache), ratio, most)
    if not args.measure_only:
        raw = json.loads(args.out.read_text(encoding="utf-8"))
        raw["measured_on_report"] = report
        _write(args.out, raw)
    print(f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
