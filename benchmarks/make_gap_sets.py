"""Write the *gap* question sets: documents on the topic whose fact was removed.

A user's usual unanswerable question is about the documents' topic, but the fact is not in
them ("How many days of bereavement leave?" of a policy that lists only sick and annual leave).
SQuAD 2.0's unanswerable questions are another kind: written against a paragraph to reuse its
words. This script derives the first kind from the public sets in ``../shared/datasets/``,
separately for the ``fit`` and the ``report`` documents of the committed split
(``benchmarks/data/split.json``, :mod:`make_split`). Construction, deterministic (no seed):

* Each document keeps every other paragraph: the 1st, 3rd, 5th, ... (0-based even indexes).
* The answerable questions of a kept paragraph stay answerable, with their spans.
* An answerable question of a dropped paragraph becomes **unanswerable** when both hold:
  none of its answer texts occurs in the kept text (both SQuAD-normalised,
  :func:`assistant.evaluation.metrics.normalize_answer`: lower case, punctuation and articles removed), and
  the same question text (case and whitespace folded) is not asked of a kept paragraph. Else it
  is left out (the kept half may answer it). It is attached to the kept paragraph before its
  own, as ``is_impossible`` with no answers, so the file is ordinary SQuAD layout.
* SQuAD 2.0's own unanswerable questions are left out: they stay a separate set (the plain
  ``SET-PART.json`` files of ``make_split.py --parts``).
* The set's ``scope`` is kept: PolicyQA questions stay asked of their own policy only.

Question ids get a ``-gap`` suffix when they became unanswerable, so a run's rows say which.
::

    python benchmarks/make_gap_sets.py --parts /tmp/parts    # /tmp/parts/SET-fit-gap.json, SET-report-gap.json
    python benchmarks/make_gap_sets.py --gate                # benchmarks/data/gate-gap.json (the CI gate's sample)

The gate file is a seeded sample (``make_split.SEED``) of the gap sets of the first report
documents of SQuAD 2.0 and SQuAD 1.1 (:data:`GATE`), as the other gate files are made.
PolicyQA's gap set is measured but not gated: a policy states one practice in several
paragraphs, so many of its "gap" questions are answered by the kept half anyway.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_split import SEED, SETS  # noqa: E402

from assistant.evaluation.metrics import normalize_answer  # noqa: E402

GATE = {
    # set -> (report documents used, questions sampled per document); sized to keep CI short
    "squad2-dev-25-articles.json": (2, 70),
    "squad11-dev-13-articles.json": (2, 70),
}


def _fold(question: str) -> str:
    return " ".join(question.casefold().split())


def gap_article(article: dict) -> tuple[dict, int, int]:
    """The gap version of one SQuAD-layout article: ``(article, answerable, unanswerable)``
    counts of the questions kept (see the module docstring for the construction)."""
    paragraphs = article["paragraphs"]
    kept = [dict(p, qas=[]) for p in paragraphs[::2]]
    kept_text = normalize_answer(" ".join(p["context"] for p in kept))
    kept_questions = {_fold(qa["question"]) for p in paragraphs[::2] for qa in p["qas"]}
    answerable = unanswerable = 0
    for i, p in enumerate(paragraphs):
        target = kept[i // 2]  # a dropped paragraph's questions go to the kept paragraph before it
        for qa in p["qas"]:
            if qa.get("is_impossible"):
                continue  # SQuAD 2.0's own unanswerable questions are a separate set
            if i % 2 == 0:
                target["qas"].append(qa)
                answerable += 1
                continue
            texts = [normalize_answer(a["text"]) for a in qa.get("answers", [])]
            if any(t and t in kept_text for t in texts) or _fold(qa["question"]) in kept_questions:
                continue
            target["qas"].append({"id": f"{qa['id']}-gap", "question": qa["question"], "answers": [],
                                  "is_impossible": True, "plausible_answers": []})
            unanswerable += 1
    return {"title": article["title"], "paragraphs": kept}, answerable, unanswerable


def gap_set(raw: dict, titles: list[str], scope: str) -> dict:
    """The gap set of the articles ``titles`` of a SQuAD-layout file, in file order."""
    data = [gap_article(a)[0] for a in raw["data"] if a["title"] in titles]
    return {"version": raw.get("version", ""), "scope": scope, "construction": "benchmarks/make_gap_sets.py", "data": data}


def sample(obj: dict, per_document: int, seed: int = SEED) -> dict:
    """``obj`` with a seeded sample of ``per_document`` questions of each article (all paragraphs kept)."""
    rng = random.Random(seed)
    data = []
    for article in obj["data"]:
        ids = [qa["id"] for p in article["paragraphs"] for qa in p["qas"]]
        keep = set(rng.sample(ids, min(per_document, len(ids))))
        data.append({**article, "paragraphs": [{**p, "qas": [qa for qa in p["qas"] if qa["id"] in keep]} for p in article["paragraphs"]]})
    return {**obj, "data": data}


def _counts(obj: dict) -> tuple[int, int]:
    qas = [qa for a in obj["data"] for p in a["paragraphs"] for qa in p["qas"]]
    return sum(not q.get("is_impossible") for q in qas), sum(bool(q.get("is_impossible")) for q in qas)


def _write(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False) + "\n", encoding="utf-8")
    a, u = _counts(obj)
    print(f"wrote {path} ({len(obj['data'])} documents, {a} answerable, {u} gap questions)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--parts", type=Path, help="Write SET-fit-gap.json and SET-report-gap.json into this folder.")
    ap.add_argument("--gate", action="store_true", help="Write the CI gate's file benchmarks/data/gate-gap.json.")
    args = ap.parse_args()
    if not (args.datasets / "README.md").exists():
        ap.error(f"no public question sets in {args.datasets}: pass --datasets DIR (the folder of ../shared/datasets/)")
    manifest = json.loads((ROOT / "benchmarks" / "data" / "split.json").read_text(encoding="utf-8"))
    gate = {"version": "gap", "scope": "all", "construction": "benchmarks/make_gap_sets.py --gate", "data": []}
    for name in SETS:
        entry = manifest["sets"][name]
        raw = json.loads((args.datasets / name).read_text(encoding="utf-8"))
        stem = name.removesuffix(".json")
        if args.parts:
            for part in ("fit", "report"):
                _write(args.parts / f"{stem}-{part}-gap.json", gap_set(raw, entry[part], entry["scope"]))
        if args.gate and name in GATE:
            n_docs, per_doc = GATE[name]
            gate["data"] += sample(gap_set(raw, entry["report"][:n_docs], entry["scope"]), per_doc)["data"]
    if args.gate:
        _write(ROOT / "benchmarks" / "data" / "gate-gap.json", gate)


if __name__ == "__main__":
    main()
