"""Choose the fused-score floor ``abstain_below`` (nothing close) on the fit documents, and
measure it on the reporting documents.

    python benchmarks/fit_floor.py                      # fit documents: the sweep and the chosen floor
    python benchmarks/fit_floor.py --part report        # the same sweep on the reporting documents

The floor is the first thing the answer path checks: when the best sentence's fused score
(cosine + ``bm25_weight`` x coverage) is under it, nothing in the documents is close and the
assistant says so. Its negatives are therefore *off-topic* questions, which none of the
public sets holds (SQuAD 2.0's unanswerable questions are written to look answerable from their
paragraph: those are the answerability model's). They are built here from the sets
themselves: the questions of the other two corpora, asked of this corpus's documents
(PolicyQA's scoped to one random policy of the part, as its own questions are; SQuAD's
across the part's articles). A Wikipedia question asked of privacy policies, a privacy policy
question asked of Wikipedia articles, and a question about one set of Wikipedia articles asked
of another are all unanswerable by construction (a few may by chance be answerable; they count
as abstentions the floor should make, which errs towards a higher floor).

Data: the documents of ``part`` in the committed manifest ``benchmarks/data/split.json``,
each set indexed into a throwaway store with the default settings, as ``assistant eval``
does. Per set, ``--questions`` answerable questions and as many off-topic ones (a seeded
sample, ``SEED``). Every question is answered with the floor off (``abstain_below`` -1); the
row keeps the best sentence's fused score, the answerability probability and what the other
checks say, so one pass prices every floor.

Rule (fit documents only): the highest floor (0.05 steps) at which the floor adds at most
``--added-fa`` (0.01) false abstention on the answerable questions of every fit set to what the
rest of the answer path (the checks of :mod:`assistant.answering.abstention` and the answerability model
at its threshold) already refuses, the same price cap the answerability threshold was chosen
by (``benchmarks/fit_answerability.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from fit_answerability import SETS  # noqa: E402  (the same three public sets)

SEED = 13
FLOORS = tuple(round(0.05 * i, 2) for i in range(0, 25))
"""Floors priced (fused-score units, 0.0-1.2 in 0.05 steps)."""


def questions_of(part: str, datasets: Path, folder: Path) -> dict[str, tuple[object, list]]:
    """Set stem -> (loaded SquadSet of the part, its answerable questions)."""
    from make_split import subset

    from assistant.evaluation.question_sets import load_squad

    manifest = json.loads((ROOT / "benchmarks" / "data" / "split.json").read_text())
    out = {}
    for name in SETS:
        entry = manifest["sets"][name]
        raw = json.loads((datasets / name).read_text(encoding="utf-8"))
        file = folder / f"{Path(name).stem}-{part}.json"
        file.write_text(json.dumps(subset(raw, entry[part], entry["scope"])), encoding="utf-8")
        squad = load_squad(file)
        out[Path(name).stem] = (squad, [q for q in squad.questions if q.answerable])
    return out


def extract(part: str, datasets: Path, per_set: int) -> list[dict]:
    """Rows ``{set, kind, fused, probability, check}``; kind is ``answerable`` or ``off-topic``."""
    from assistant.answering.evidence import answerability_features
    from assistant.answering.sentences import answerable_sentences
    from assistant.core import Assistant
    from assistant.evaluation.question_sets import index_documents
    from assistant.questions import clean_question
    from assistant.settings import Settings

    rng = random.Random(SEED)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="fit-floor-") as tmp:
        sets = questions_of(part, datasets, Path(tmp))
        base = Assistant.from_settings(Settings(data_dir=Path(tmp) / "base"), progress=False)
        for stem, (squad, answerable) in sets.items():
            scoped = any(q.documents for q in answerable)
            doc_ids = [d.doc_id for d in squad.documents]
            asked = [("answerable", q.question, q.documents) for q in rng.sample(answerable, min(per_set, len(answerable)))]
            others = [q for other, (_, qs) in sets.items() if other != stem for q in qs]
            for q in rng.sample(others, min(per_set, len(others))):
                asked.append(("off-topic", q.question, (rng.choice(doc_ids),) if scoped else None))
            scratch = index_documents(squad.documents, Path(tmp) / stem, base)
            retriever = scratch._current()
            model = scratch.quotes.answerability
            checks = scratch.quotes.__class__(abstain_below=-1.0, answerable_below=0.0, answerability=model)
            for kind, text, scope in asked:
                question = clean_question(text, scratch.settings.answer.max_question_chars)
                emb = scratch.embedder.embed_query([question])[0]
                retrieved = retriever.search(question, emb, documents=scratch._scope(retriever, scope))
                scored = answerable_sentences(retrieved)
                if not scored:
                    rows.append({"set": stem, "kind": kind, "fused": -1.0, "probability": 0.0, "check": "nothing retrieved"})
                    continue
                ranked = sorted(scored, key=lambda sr: (-sr[0].fused, -sr[0].similarity, sr[1].rank))
                s = ranked[0][0]
                sel = checks.select(question, retrieved, retriever.vocabulary, (), retriever.lexicon)
                features = answerability_features(question, ranked, retriever.lexicon)
                rows.append({"set": stem, "kind": kind, "fused": s.fused, "probability": model.probability(features), "check": sel.abstain_check})
            print(f"{stem} {part}: {len(asked)} questions", file=sys.stderr, flush=True)
    return rows


def refused(rows: list[dict], floor: float, threshold: float) -> np.ndarray:
    """The whole answer path's abstention at ``floor``: a check, the answerability model under
    ``threshold``, or the fused score under the floor."""
    check = np.array([r["check"] is not None for r in rows])
    return check | (np.array([r["probability"] for r in rows]) < threshold) | (np.array([r["fused"] for r in rows]) < floor)


def sweep(rows: list[dict], threshold: float) -> dict[float, dict[str, tuple[float, float]]]:
    """Floor -> set -> (false abstention on answerable, abstention on off-topic)."""
    sets = np.array([r["set"] for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    out = {}
    for floor in (-1.0, *FLOORS):
        ab = refused(rows, floor, threshold)
        out[floor] = {
            s: (float(ab[(sets == s) & (kinds == "answerable")].mean()), float(ab[(sets == s) & (kinds == "off-topic")].mean()))
            for s in dict.fromkeys(sets)
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--part", choices=("fit", "report"), default="fit")
    ap.add_argument("--questions", type=int, default=500, help="Answerable questions per set, and as many off-topic ones (count).")
    ap.add_argument("--added-fa", type=float, default=0.01, help="False abstention the floor may add on each set (share).")
    ap.add_argument("--rows", type=Path, default=None, help="Write the rows here (JSON), or read them if the file exists.")
    args = ap.parse_args()
    from assistant.answering.answerability import AnswerabilityModel
    from assistant.settings import Settings

    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text())
    else:
        rows = extract(args.part, args.datasets, args.questions)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    threshold = AnswerabilityModel.load().threshold
    table = sweep(rows, threshold)
    names = list(table[-1.0])
    base = table[-1.0]
    chosen = max([f for f in FLOORS if all(table[f][n][0] - base[n][0] <= args.added_fa + 1e-9 for n in names)], default=0.0)
    shipped = Settings().answer.abstain_below
    print(f"{args.part} documents, answerability threshold {threshold}: false abstention (answerable) / abstention (off-topic)")
    print("\n| abstain_below | " + " | ".join(names) + " |\n|---:|" + "---:|" * len(names))
    for floor, per in table.items():
        label = "none" if floor < 0 else f"{floor:.2f}"
        label += (" (chosen)" if args.part == "fit" else " (rule on these)") if floor == chosen else ""
        label += " (shipped)" if abs(floor - shipped) < 1e-9 else ""
        print(f"| {label} | " + " | ".join(f"{per[n][0]:.3f} / {per[n][1]:.3f}" for n in names) + " |")
    print(f"\nrule: highest floor adding at most {args.added_fa} false abstention on every set: {chosen:.2f} (shipped {shipped:.2f})")
    if args.part == "report":
        print("(reporting documents: the shipped floor is the fit documents' choice; this line only shows how far the rule moves)")


if __name__ == "__main__":
    main()
