"""Fit the answerability model (``assistant/models/answerability/config.json``) on the fit documents,
and measure it on the reporting documents.

    python benchmarks/fit_answerability.py                    # fit, write the model, measure on report
    python benchmarks/fit_answerability.py --measure-only     # measure the committed model on report

Data: the public sets in ``../shared/datasets/``, split by document in the committed manifest
``benchmarks/data/split.json``, each part read twice: whole, and as its *gap* set
(``benchmarks/make_gap_sets.py``: every other paragraph dropped, its questions kept as
unanswerable when the kept half does not hold their answer). Each is indexed into a
throwaway store with the default settings (PolicyQA asked of its own policy), every question
retrieved as ``assistant eval`` does, and the question's
:class:`~assistant.answering.answerability.Evidence` (its terms and the five best candidate sentences)
is cached (``--cache``; extraction takes about 25 minutes on 2 cores), so the features of
:mod:`assistant.answering.answerability` are computed from the cache. Labels: 1 answerable; 0 a SQuAD
2.0 unanswerable question or a SQuAD gap question (:func:`trains_on`).

Fit: logistic regression (L2, C=1, as scikit-learn's) on standardised :data:`FEATURES`, all
fit documents, with each weight's sign bounded (:data:`SIGNS`; scipy L-BFGS-B); features the
bounds zero are left out of the model file. Threshold (:func:`choose_threshold`): the highest
probability (0.01 steps) at which the false abstention of the whole answer path (this model,
the fused-score floor ``abstain_below`` *or* a check of :mod:`assistant.answering.abstention`) on the
answerable questions of every fit set the heads were fitted on (the whole sets for
``near_miss``; the gap sets too with ``gap``) exceeds what the floor and the checks alone refuse by
at most ``--added-fa`` (0.01, the rule every fit of this model has used).

    python benchmarks/fit_answerability.py --heads near_miss gap --out /tmp/two-heads.json   # the gap head too, measured

Report (documents never read in fitting): per set, false abstention on answerable and
abstention on unanswerable questions with the checks only and at three thresholds; ROC AUC
per set with unanswerable questions; a reliability table (10 equal-width bins) and the
expected calibration error (ECE, Naeini et al. 2015: the bin-weighted mean of |accuracy - confidence|).
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

from assistant.answering.answerability import MODEL_PATH, features  # noqa: E402
from assistant.answering.model_home import CONFIG, write_home  # noqa: E402

SETS = ("squad2-dev-25-articles.json", "squad11-dev-13-articles.json", "policyqa-dev.json")
KINDS = ("", "-gap")
"""Each set is read twice: whole (``""``: answerable and SQuAD 2.0 unanswerable questions) and as
its gap set (``"-gap"``, :mod:`make_gap_sets`: every other paragraph dropped)."""


def extract(part: str, datasets: Path, cache: Path) -> list[dict]:
    """Rows ``{set, id, label, check, evidence}`` of every question of ``part`` ("fit" or
    "report"), for each set whole and as its gap set; ``evidence`` is the question's
    :class:`~assistant.answering.answerability.Evidence`, so any feature can be computed from the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    out: list[dict] = []
    from make_gap_sets import gap_set
    from make_split import subset

    from assistant.answering.evidence import answerability_evidence
    from assistant.answering.sentences import answerable_sentences
    from assistant.core import Assistant
    from assistant.evaluation.question_sets import index_documents, load_squad
    from assistant.questions import clean_question
    from assistant.settings import Settings

    manifest = json.loads((ROOT / "benchmarks" / "data" / "split.json").read_text())
    with tempfile.TemporaryDirectory(prefix="fit-answerability-") as tmp:
        base = None
        for name in SETS:
            for kind in KINDS:
                stem = f"{Path(name).stem}{kind}"
                path = cache / f"{stem}-{part}.pkl"
                if path.exists():
                    out += pickle.loads(path.read_bytes())
                    continue
                entry = manifest["sets"][name]
                raw = json.loads((datasets / name).read_text(encoding="utf-8"))
                file = Path(tmp) / f"{stem}-{part}.json"
                make = gap_set if kind else subset
                file.write_text(json.dumps(make(raw, entry[part], entry["scope"])), encoding="utf-8")
                base = base or Assistant.from_settings(Settings(data_dir=Path(tmp) / "base"), progress=False)
                squad = load_squad(file)
                scratch = index_documents(squad.documents, Path(tmp) / file.stem, base)
                retriever = scratch._current()
                checks = scratch.quotes.__class__(answerable_below=0.0, answerability=scratch.quotes.answerability)  # the other checks alone
                rows = []
                for q in squad.questions:
                    question = clean_question(q.question, scratch.settings.answer.max_question_chars)
                    emb = scratch.embedder.embed_query([question])[0]
                    retrieved = retriever.search(question, emb, documents=scratch._scope(retriever, q.documents))
                    scored = answerable_sentences(retrieved)
                    if not scored:
                        continue
                    ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
                    sel = checks.select(question, retrieved, retriever.vocabulary, (), retriever.lexicon)
                    rows.append({
                        "set": stem, "id": q.id, "label": int(q.answerable), "check": sel.abstain_check,
                        "evidence": answerability_evidence(question, ranked, retriever.lexicon),
                    })
                path.write_bytes(pickle.dumps(rows))
                print(f"{stem} {part}: {len(rows)} questions", flush=True)
                out += rows
    for r in out:
        r["features"] = features(r["evidence"])
    return out


FEATURES = ("fused", "similarity", "coverage", "margin", "missing", "missing_passage", "missing_top", "missing_index",
            "missing_document", "rarest_missing", "rarest_missing_top", "terms", "negation")
"""The features fitted (of :data:`assistant.answering.answerability.FEATURE_DOCS`); the bounds zero those that do not earn a place."""

SIGNS = {"fused": 1, "similarity": 1, "coverage": 1, "margin": 1, "missing": -1, "missing_passage": -1, "missing_top": -1,
         "missing_index": -1, "missing_document": -1, "rarest_missing": -1, "rarest_missing_top": -1, "terms": 0, "negation": -1}
"""The sign each weight may take (0: either). A closer sentence never makes an answer less
likely, a missing term or negation never more: without these bounds the fit learns SQuAD
2.0's construction (its unanswerable questions reuse the paragraph's words, so high lexical
coverage meant *unanswerable*) and refused seed questions whose sentence holds every word."""


def trains_on(row: dict, head: str) -> bool:
    """Whether a row is fitted on by ``head``: ``near_miss``, every question of the whole
    documents (answerable, and SQuAD 2.0's unanswerable ones); ``gap``, every answerable
    question and the SQuAD gap questions. PolicyQA's gap questions are measured only: a policy
    states one practice in several paragraphs, so many of them are answered by the kept half
    (noisy labels)."""
    gap_set = row["set"].endswith("-gap")
    if head == "near_miss":
        return not gap_set  # the whole documents: their answerable and SQuAD 2.0 unanswerable questions
    return row["label"] == 1 or (gap_set and not row["set"].startswith("policyqa"))


def matrix(rows: list[dict], names: tuple[str, ...] = FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """``(X [n, len(names)], y [n])`` of ``rows``."""
    return np.array([[r["features"][f] for f in names] for r in rows], float), np.array([r["label"] for r in rows])


def fit_signed(X: np.ndarray, y: np.ndarray, names: tuple[str, ...] = FEATURES, C: float = 1.0) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression with sign-bounded weights (:data:`SIGNS`): minimises
    ``C * sum(log loss) + 0.5 * |w|^2`` (scikit-learn's objective for ``LogisticRegression``)
    with scipy's L-BFGS-B. Returns ``(weights, bias)``."""
    from scipy.optimize import minimize

    bounds = [(0, None) if SIGNS[f] > 0 else (None, 0) if SIGNS[f] < 0 else (None, None) for f in names] + [(None, None)]

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ w[:-1] + w[-1]
        loss = C * np.sum(np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y)) + 0.5 * np.sum(w[:-1] ** 2)
        g = C * (1 / (1 + np.exp(-z)) - y)
        return loss, np.r_[X.T @ g + w[:-1], g.sum()]

    res = minimize(objective, np.zeros(X.shape[1] + 1), jac=True, bounds=bounds, method="L-BFGS-B")
    return res.x[:-1], float(res.x[-1])


def abstains(rows: list[dict], p: np.ndarray, t: float) -> np.ndarray:
    """The whole answer path's abstention: probability under ``t``, the fused score under
    ``abstain_below`` (nothing close), or another check refused."""
    from assistant.settings import Settings

    floor = Settings().answer.abstain_below
    other = np.array([r["check"] not in (None, "threshold", "answerability") or r["features"]["fused"] < floor for r in rows])
    return (p < t) | other


def per_set(rows: list[dict], p: np.ndarray, t: float) -> dict[str, tuple[float, float | None]]:
    """Set -> (false abstention, abstention on unanswerable or None)."""
    ab = abstains(rows, p, t)
    sets = np.array([r["set"] for r in rows])
    y = np.array([r["label"] for r in rows])
    out = {}
    for name in map(str, dict.fromkeys(sets)):
        m = sets == name
        un = m & (y == 0)
        out[name] = (float(ab[m & (y == 1)].mean()), float(ab[un].mean()) if un.any() else None)
    return out


def reliability(p: np.ndarray, y: np.ndarray) -> tuple[list[tuple[str, int, float, float]], float]:
    """10 equal-width bins of ``p``: (bin, n, mean p, share answerable) and the ECE."""
    table, ece = [], 0.0
    for i in range(10):
        lo, hi = i / 10, (i + 1) / 10
        m = (p >= lo) & ((p < hi) if i < 9 else (p <= hi))
        if m.any():
            table.append((f"{lo:.1f}-{hi:.1f}", int(m.sum()), float(p[m].mean()), float(y[m].mean())))
            ece += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return table, float(ece)


def choose_threshold(rows: list[dict], p: np.ndarray, added_fa: float) -> float:
    """The highest threshold (0.01 steps) at which the model adds at most ``added_fa`` false
    abstention, on every fit set, to what the floor and the checks already refuse."""
    before = per_set(rows, p, 0.0)
    threshold = 0.0
    for t in np.arange(0.01, 1.0, 0.01):
        if max(fa - before[k][0] for k, (fa, _) in per_set(rows, p, t).items()) > added_fa:
            break
        threshold = round(float(t), 2)
    return threshold


def fit_head(rows: list[dict], head: str):
    """One :class:`~assistant.answering.answerability.Head` fitted on the rows :func:`trains_on` gives
    it; features whose weight the bounds zero are left out. Returns ``(head, n_rows)``."""
    from sklearn.preprocessing import StandardScaler

    from assistant.answering.answerability import Head

    train = [r for r in rows if trains_on(r, head)]
    X, y = matrix(train)
    scaler = StandardScaler().fit(X)
    weights, bias = fit_signed(scaler.transform(X), y)
    keep = [i for i, w in enumerate(weights) if abs(w) > 1e-9]
    return Head(tuple(FEATURES[i] for i in keep), tuple(round(float(weights[i]), 6) for i in keep),
                tuple(round(float(scaler.mean_[i]), 6) for i in keep), tuple(round(float(scaler.scale_[i]), 6) for i in keep),
                round(bias, 6)), len(train)


def fit(rows: list[dict], added_fa: float, seed_note: str, seconds: float, heads: tuple[str, ...] = ("near_miss",)):
    """Fit ``heads`` on ``rows`` (the fit documents' rows), choose the threshold, and return
    ``(model, record)``: the model and its JSON record with provenance."""
    from assistant.answering.answerability import AnswerabilityModel

    fitted = {name: fit_head(rows, name) for name in heads}
    model = AnswerabilityModel({name: head for name, (head, _) in fitted.items()}, 0.0)
    p = np.array([model.probability(r["features"]) for r in rows])
    priced = [i for i, r in enumerate(rows) if any(trains_on({**r, "label": 1}, name) for name in heads)]
    threshold = choose_threshold([rows[i] for i in priced], p[priced], added_fa)  # on the sets the heads were fitted on
    model = AnswerabilityModel(model.heads, threshold)
    at = per_set(rows, p, threshold)
    record = {
        "heads": {name: {"features": list(h.features), "weights": list(h.weights), "mean": list(h.mean), "scale": list(h.scale),
                         "bias": h.bias, "rows": n} for name, (h, n) in fitted.items()},
        "threshold": threshold,
        "sha256": model.sha256(),
        "fitted": {
            "by": "benchmarks/fit_answerability.py",
            "date": datetime.date.today().isoformat(),
            "seconds": round(seconds),
            "seed": seed_note,
            "data": "fit documents of benchmarks/data/split.json, whole and as gap sets (benchmarks/make_gap_sets.py); "
            "labels: answerable 1; near_miss head: SQuAD 2.0 unanswerable 0; gap head: SQuAD gap questions 0 "
            "(PolicyQA gap questions measured only)",
            "questions": {name: sum(1 for r in rows if r["set"] == name) for name in dict.fromkeys(r["set"] for r in rows)},
            "candidates": list(FEATURES),
            "estimator": f"logistic regression per head ({', '.join(heads)}; L2 C=1.0, sign-bounded weights: "
            "benchmarks/fit_answerability.py SIGNS, standardised features; features whose weight the bounds zero are left out); "
            "probability = the product of the heads'",
            "threshold_rule": f"highest (0.01 steps) adding at most {added_fa} false abstention on every fit set the heads "
            "were fitted on to what abstain_below and the checks of assistant.answering.abstention refuse",
            "at_threshold": {k: {"false_abstention": round(fa, 4), "abstention_unanswerable": None if un is None else round(un, 4)} for k, (fa, un) in at.items()},
        },
    }
    return model, record


def measure(model, rows: list[dict]) -> None:
    """Print, for ``rows`` (the reporting documents): ROC AUC per set with unanswerable
    questions, false abstention and abstention per set at three thresholds around the shipped
    one, and the reliability table with its ECE."""
    from sklearn.metrics import roc_auc_score

    p = np.array([model.probability(r["features"]) for r in rows])
    y = np.array([r["label"] for r in rows])
    names = list(dict.fromkeys(r["set"] for r in rows))
    for n in names:
        m = np.array([r["set"] == n for r in rows])
        if len(set(y[m])) > 1:
            print(f"ROC AUC {n} (answerable vs unanswerable): {roc_auc_score(y[m], p[m]):.3f}")
    print("\n| threshold | " + " | ".join(f"{n} FA / abstention" for n in names) + " |")
    print("|---:|" + "---:|" * len(names))
    t0 = model.threshold
    for t, label in [(0.0, "checks only"), (max(0.0, round(t0 - 0.1, 2)), ""), (t0, " (shipped)"), (min(1.0, round(t0 + 0.1, 2)), "")]:
        at = per_set(rows, p, t)
        cells = [f"{at[n][0]:.3f}" + (f" / {at[n][1]:.3f}" if at[n][1] is not None else "") for n in names]
        print(f"| {label if t == 0.0 else f'{t:.2f}{label}'} | " + " | ".join(cells) + " |")
    table, ece = reliability(p, y)
    print(f"\nreliability (all sets; ECE {ece:.3f})\n| bin | questions | mean probability | share answerable |\n|---|---:|---:|---:|")
    for b, n, mp, acc in table:
        print(f"| {b} | {n} | {mp:.3f} | {acc:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fit-answerability")
    ap.add_argument("--added-fa", type=float, default=0.01, help="False abstention the model may add on each fit set (share).")
    ap.add_argument("--heads", nargs="+", default=["near_miss"], choices=["near_miss", "gap"],
                    help="Heads to fit (default near_miss: the gap head refuses paraphrased answerable questions, see assistant/models/answerability/MODEL_CARD.md).")
    ap.add_argument("--out", type=Path, default=MODEL_PATH,
                    help="Where to write the model (default the shipped config.json; a config.json's card is updated beside it).")
    ap.add_argument("--measure-only", action="store_true", help="Measure the committed model; write nothing.")
    args = ap.parse_args()
    from assistant.answering.answerability import AnswerabilityModel

    if not args.measure_only:
        t0 = time.perf_counter()
        rows = extract("fit", args.datasets, args.cache)
        _, record = fit(rows, args.added_fa, "none needed: deterministic (L-BFGS-B from zeros, no sampling)", time.perf_counter() - t0,
                        tuple(args.heads))
        if args.out.name == CONFIG:  # the model's home: config.json and its card's fitted values
            write_home(args.out.parent, record, "Answerability model")
        else:
            args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}: threshold {record['threshold']}")
        for name, h in record["heads"].items():
            print(f"{name} head ({h['rows']} rows), weights per standard deviation: "
                  + ", ".join(f"{f} {w:+.3f}" for f, w in zip(h["features"], h["weights"])) + f", bias {h['bias']:+.3f}")
        print(f"on the fit documents: {record['fitted']['at_threshold']}")
    model = AnswerabilityModel.load(args.out)
    print("\nreporting documents (never read in fitting):")
    measure(model, extract("report", args.datasets, args.cache))


if __name__ == "__main__":
    main()
